"""asyncio TCP transports for CSTA, driving the sans-I/O :class:`CstaConnection`.

Three layers, smallest first:

* :class:`CstaLink` - one TCP stream and one connection object. It owns the reader
  task (bytes -> ``receive_data`` -> events) and the timer task (``tick`` at
  ``next_deadline``), matches responses to awaiting :meth:`CstaLink.request` calls,
  answers SystemStatus heartbeats, sends due heartbeats, returns CSTA errors for bad
  requests (server side), and closes cleanly - logging why - when the peer goes
  away, framing is lost or a heartbeat goes unanswered.
* :func:`open_client` - an application-side link that reconnects with exponential
  backoff, calling ``on_connect`` after each (re)connection so the caller can
  re-establish its session, monitors and route registrations. An ECMA-354
  application session, once started, is kept alive by the connection's
  ``ResetApplicationSessionTimer`` heartbeats; a refused renewal (the session
  expired) closes the link so the reconnection starts a new one, and
  :meth:`CstaClient.close` stops the session before it closes.
* :func:`serve` - a switch-side listener; every accepted stream gets its own
  connection object and runs ``handler(link)``.

Usage (the live ACD, the PBX emulator)::

    async with open_client(host, port) as client:
        response = await client.request(MonitorStart(device=DeviceID("301")))
        async for event in client.events():
            ...

    async with await serve("127.0.0.1", 0, handler) as server:
        print(server.port)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ccsim.csta import messages as m
from ccsim.csta.connection import (
    NEED_DATA,
    ConnectionClosed,
    ConnectionEvent,
    CstaConnection,
    HeartbeatDue,
    LocalProtocolError,
    ProtocolError,
    RequestReceived,
    RequestTimedOut,
    ResponseReceived,
    Role,
)

__all__ = [
    "CstaClient",
    "CstaError",
    "CstaLink",
    "CstaServer",
    "LinkClosedError",
    "LinkConnected",
    "open_client",
    "serve",
]

log = logging.getLogger("ccsim.live.link")

_READ_SIZE = 65_536


class CstaError(Exception):
    """A request was answered negatively (CSTAErrorCode or an ECMA-354 NegResponse)."""

    def __init__(self, request: m.Request, response: m.Response) -> None:
        super().__init__(f"{type(request).__name__} failed: {response!r}")
        self.request = request
        self.response = response


class LinkClosedError(ConnectionError):
    """The link is (or went) down before the request completed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkConnected(ConnectionEvent):
    """Client side: a (re)connection was established (yielded by ``events()``)."""

    peer: str
    attempt: int


_END = object()


class CstaLink:
    """One CSTA association over one asyncio stream."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        connection: CstaConnection,
        *,
        answer_system_status: bool = True,
    ) -> None:
        self.connection = connection
        self.answer_system_status = answer_system_status
        self._reader = reader
        self._writer = writer
        self._loop = asyncio.get_running_loop()
        self._waiters: dict[int, tuple[m.Request, asyncio.Future[m.Response]]] = {}
        self._events: asyncio.Queue[object] = asyncio.Queue()
        self._reschedule = asyncio.Event()
        self._closed = asyncio.Event()
        self.close_reason: str | None = None
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self._tasks = [
            asyncio.create_task(self._read_loop(), name=f"csta-read-{self.peer}"),
            asyncio.create_task(self._timer_loop(), name=f"csta-timer-{self.peer}"),
        ]

    # -- public API --------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def request(self, message: m.Request, *, timeout: float | None = None) -> m.Response:
        """Send a request and wait for its result; negative results raise CstaError.

        The connection's ``request_timeout`` applies; ``timeout`` may shorten it.
        """
        if not type(message).RESPONSES:
            raise LocalProtocolError(f"{type(message).__name__} has no response; use send()")
        self._check_open()
        invoke_id = self._next_free_invoke_id()
        future: asyncio.Future[m.Response] = self._loop.create_future()
        self._waiters[invoke_id] = (message, future)
        try:
            self._write(self.connection.send(message, invoke_id, now=self._loop.time()))
            await self._writer.drain()
            async with asyncio.timeout(timeout):
                response = await future
        finally:
            self._waiters.pop(invoke_id, None)
        if isinstance(response, (m.CSTAErrorCode, *_NEGATIVE)):
            raise CstaError(message, response)
        return response

    async def send(self, message: m.Message, invoke_id: int | None = None) -> None:
        """Send without waiting for a result: responses, events, route dialogue."""
        self._check_open()
        self._write(self.connection.send(message, invoke_id, now=self._loop.time()))
        await self._writer.drain()

    async def respond(self, request: RequestReceived, response: m.Response) -> None:
        """Answer a received request."""
        await self.send(response, request.invoke_id)

    async def events(self) -> AsyncIterator[ConnectionEvent]:
        """Events, requests, protocol errors from the peer; ends when the link closes
        (after yielding the ConnectionClosed)."""
        while True:
            item = await self._events.get()
            if item is _END:
                self._events.put_nowait(_END)  # let other iterators finish too
                return
            assert isinstance(item, ConnectionEvent)
            yield item

    async def close(self, reason: str = "closed locally") -> None:
        """Close the stream cleanly; pending requests fail with LinkClosedError."""
        if not self.connection.closed:
            self.connection.close(reason)
        self._dispatch()
        await self.wait_closed()

    async def wait_closed(self) -> None:
        await self._closed.wait()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()

    # -- internals ---------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed.is_set() or self.connection.closed:
            raise LinkClosedError(self.close_reason or self.connection.close_reason or "closed")

    def _next_free_invoke_id(self) -> int:
        # The connection's sequential counter numbers every request this side sends
        # (fire-and-forget ones such as RouteSelect too), so an error answering an
        # earlier RouteSelect can never be matched to a newer request's waiter.
        for _ in range(9998):
            candidate = self.connection.allocate_invoke_id()
            if candidate not in self._waiters:
                return candidate
        raise LocalProtocolError("no free invoke ID")

    def _write(self, data: bytes) -> None:
        if not self._writer.is_closing():
            self._writer.write(data)
        self._reschedule.set()

    async def _read_loop(self) -> None:
        try:
            while not self.connection.closed:
                try:
                    data = await self._reader.read(_READ_SIZE)
                except (ConnectionError, OSError) as exc:
                    log.info("CSTA link %s: read failed: %s", self.peer, exc)
                    data = b""
                self.connection.receive_data(data, now=self._loop.time())
                self._dispatch()
                if not data:
                    break
        finally:
            if not self.connection.closed:
                self.connection.close("reader stopped")
            self._dispatch()

    async def _timer_loop(self) -> None:
        while not self.connection.closed:
            deadline = self.connection.next_deadline()
            self._reschedule.clear()
            delay = None if deadline is None else max(0.0, deadline - self._loop.time())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._reschedule.wait()
            self.connection.tick(self._loop.time())
            self._dispatch()

    def _dispatch(self) -> None:
        """Drain the connection's events; runs synchronously, never awaits."""
        conn = self.connection
        while True:
            event = conn.next_event()
            if event is NEED_DATA:
                return
            if isinstance(event, ResponseReceived):
                self._resolve(event)
            elif isinstance(event, RequestTimedOut):
                waiter = self._waiter_for(event.invoke_id, event.request)
                if waiter is not None:
                    waiter.set_exception(TimeoutError(f"{type(event.request).__name__} timed out"))
                elif isinstance(event.request, (m.SystemStatus, m.ResetApplicationSessionTimer)):
                    conn.close("heartbeat not answered")
            elif isinstance(event, HeartbeatDue):
                self._send_quietly(event.message)
            elif isinstance(event, ProtocolError):
                log.warning("CSTA link %s: %s: %s", self.peer, event.kind, event.detail)
                if event.response is not None and event.invoke_id is not None:
                    self._send_quietly(event.response, event.invoke_id)
                if event.request is not None:
                    waiter = self._waiter_for(event.invoke_id or 0, event.request)
                    if waiter is not None:
                        waiter.set_exception(LinkClosedError(f"bad response: {event.detail}"))
                self._events.put_nowait(event)
            elif isinstance(event, ConnectionClosed):
                self._finish(event)
                return
            else:
                if (
                    isinstance(event, RequestReceived)
                    and isinstance(event.message, m.SystemStatus)
                    and self.answer_system_status
                ):
                    self._send_quietly(m.SystemStatusResponse(), event.invoke_id)
                self._events.put_nowait(event)

    def _waiter_for(self, invoke_id: int, request: m.Request) -> asyncio.Future[m.Response] | None:
        entry = self._waiters.get(invoke_id)
        if entry is None or entry[0] is not request:
            entry = next((e for e in self._waiters.values() if e[0] is request), None)
        if entry is None or entry[1].done():
            return None
        return entry[1]

    def _resolve(self, event: ResponseReceived) -> None:
        if event.request is None:
            log.debug("CSTA link %s: unmatched %s", self.peer, type(event.message).__name__)
            return
        waiter = self._waiter_for(event.invoke_id, event.request)
        if waiter is not None:
            waiter.set_result(event.message)
        elif isinstance(event.request, m.ResetApplicationSessionTimer) and not event.ok:
            # our heartbeat was refused: the switch ended the session, and with it our
            # monitors and registrations; a new link (and session) is the way back
            self.connection.close(f"application session refused: {event.message!r}")

    async def stop_session(self, reason: str = "normal", timeout: float = 2.0) -> None:
        """Stop the ECMA-354 application session, if one is active (errors are logged)."""
        session_id = self.connection.session_id
        if session_id is None or self.closed:
            return
        try:
            await self.request(
                m.StopApplicationSession(session_id=session_id, session_end_reason=reason),
                timeout=timeout,
            )
        except (CstaError, LinkClosedError, LocalProtocolError, TimeoutError, OSError) as exc:
            log.info("CSTA link %s: StopApplicationSession: %s", self.peer, exc)

    def _send_quietly(self, message: m.Message, invoke_id: int | None = None) -> None:
        try:
            self._write(self.connection.send(message, invoke_id, now=self._loop.time()))
        except LocalProtocolError as exc:
            log.warning("CSTA link %s: cannot send %s: %s", self.peer, type(message).__name__, exc)

    def _finish(self, event: ConnectionClosed) -> None:
        if self._closed.is_set():
            return
        self.close_reason = event.reason
        level = logging.WARNING if event.error else logging.INFO
        log.log(level, "CSTA link %s closed: %s", self.peer, event.reason)
        for _request, future in self._waiters.values():
            if not future.done():
                future.set_exception(LinkClosedError(event.reason))
        self._events.put_nowait(event)
        self._events.put_nowait(_END)
        self._writer.close()
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        self._closed.set()


_NEGATIVE = (
    m.StartApplicationSessionNegResponse,
    m.ResetApplicationSessionTimerNegResponse,
    m.StopApplicationSessionNegResponse,
)


# ---------------------------------------------------------------------------
# Client with reconnection
# ---------------------------------------------------------------------------


class CstaClient:
    """Application side of CSTA: keeps a link up, reconnecting with backoff."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        on_connect: Callable[[CstaLink], Awaitable[None]] | None = None,
        reconnect: bool = True,
        backoff_initial: float = 0.1,
        backoff_max: float = 10.0,
        connect_timeout: float = 5.0,
        connection_options: dict[str, Any] | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.on_connect = on_connect
        self.reconnect = reconnect
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self.connect_timeout = connect_timeout
        self.connection_options = connection_options or {}
        self.link: CstaLink | None = None
        self.connections = 0
        self._events: asyncio.Queue[object] = asyncio.Queue()
        self._up = asyncio.Event()
        self._stopping = False
        self._first: asyncio.Future[None] | None = None
        self._supervisor: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect (retrying with backoff when ``reconnect``) and keep connected."""
        self._first = asyncio.get_running_loop().create_future()
        self._supervisor = asyncio.create_task(self._supervise(), name="csta-client")
        await self._first

    async def request(self, message: m.Request, *, timeout: float | None = None) -> m.Response:
        return await self._require_link().request(message, timeout=timeout)

    async def send(self, message: m.Message, invoke_id: int | None = None) -> None:
        await self._require_link().send(message, invoke_id)

    async def wait_connected(self) -> CstaLink:
        await self._up.wait()
        return self._require_link()

    async def events(self) -> AsyncIterator[ConnectionEvent]:
        """Events of every successive link; ``LinkConnected`` / ``ConnectionClosed``
        mark reconnections. Ends when the client is closed."""
        while True:
            item = await self._events.get()
            if item is _END:
                self._events.put_nowait(_END)
                return
            assert isinstance(item, ConnectionEvent)
            yield item

    @property
    def closing(self) -> bool:
        """``close`` was called: a lost link is not coming back."""
        return self._stopping

    def queued(self) -> list[ConnectionEvent]:
        """Events received but not yet taken from ``events()``, oldest first (a copy).

        ``on_connect`` code uses it to see what the switch sent before a response
        it just got, whether or not anybody consumes ``events()`` yet.
        """
        items: list[object] = list(_contents(self._events))
        if self.link is not None:
            items += _contents(self.link._events)
        return [item for item in items if isinstance(item, ConnectionEvent)]

    async def close(self) -> None:
        self._stopping = True
        if self.link is not None:
            await self.link.stop_session()
            await self.link.close("client closed")
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        self._events.put_nowait(_END)

    def _require_link(self) -> CstaLink:
        link = self.link
        if link is None or link.closed:
            raise LinkClosedError("not connected")
        return link

    async def _supervise(self) -> None:
        delay = self.backoff_initial
        attempt = 0
        first = self._first
        assert first is not None
        while not self._stopping:
            attempt += 1
            try:
                async with asyncio.timeout(self.connect_timeout):
                    reader, writer = await asyncio.open_connection(self.host, self.port)
            except (OSError, TimeoutError) as exc:
                log.info("CSTA connect to %s:%s failed: %s", self.host, self.port, exc)
                if not self.reconnect:
                    if not first.done():
                        first.set_exception(exc)
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_max)
                continue
            delay = self.backoff_initial
            connection = CstaConnection(Role.CLIENT, **self.connection_options)
            link = CstaLink(reader, writer, connection)
            self.link = link
            self.connections += 1
            forward = asyncio.create_task(self._forward(link))
            self._events.put_nowait(LinkConnected(peer=link.peer, attempt=attempt))
            try:
                if self.on_connect is not None:
                    await self.on_connect(link)
            except (CstaError, LinkClosedError, TimeoutError, LocalProtocolError) as exc:
                log.warning("CSTA on_connect failed: %s", exc)
                await link.close(f"on_connect failed: {exc}")
            self._up.set()
            if not first.done():
                first.set_result(None)
            await link.wait_closed()
            await forward
            self._up.clear()
            if not self.reconnect:
                break
            await asyncio.sleep(delay)
        self._events.put_nowait(_END)

    async def _forward(self, link: CstaLink) -> None:
        async for event in link.events():
            self._events.put_nowait(event)


def _contents(queue: asyncio.Queue[object]) -> list[object]:
    """The items of an asyncio queue, without taking them (its deque, oldest first)."""
    return list(getattr(queue, "_queue", ()))


@contextlib.asynccontextmanager
async def open_client(
    host: str,
    port: int,
    *,
    on_connect: Callable[[CstaLink], Awaitable[None]] | None = None,
    reconnect: bool = True,
    backoff_initial: float = 0.1,
    backoff_max: float = 10.0,
    connect_timeout: float = 5.0,
    **connection_options: Any,
) -> AsyncIterator[CstaClient]:
    """A connected :class:`CstaClient`; ``connection_options`` go to CstaConnection."""
    client = CstaClient(
        host,
        port,
        on_connect=on_connect,
        reconnect=reconnect,
        backoff_initial=backoff_initial,
        backoff_max=backoff_max,
        connect_timeout=connect_timeout,
        connection_options=connection_options,
    )
    await client.start()
    try:
        yield client
    finally:
        await client.close()


# ---------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------


class CstaServer:
    """Switch side: accepts many streams, one CstaConnection and handler run each."""

    def __init__(
        self,
        handler: Callable[[CstaLink], Awaitable[None]],
        *,
        greet: bool = True,
        connection_options: dict[str, Any] | None = None,
    ) -> None:
        self.handler = handler
        self.greet = greet
        self.connection_options = connection_options or {}
        self.links: set[CstaLink] = set()
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._accept, host, port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self.links):
            await link.close("server shutting down")
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> CstaServer:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = CstaLink(reader, writer, CstaConnection(Role.SERVER, **self.connection_options))
        self.links.add(link)
        try:
            if self.greet:  # switches announce their status first (ECMA-269 SystemStatus)
                await link.send(m.SystemStatus(system_status="normal"))
            await self.handler(link)
        except LinkClosedError:
            pass
        except Exception:
            log.exception("CSTA handler for %s failed", link.peer)
        finally:
            await link.close("handler finished")
            self.links.discard(link)


async def serve(
    host: str,
    port: int,
    handler: Callable[[CstaLink], Awaitable[None]],
    *,
    greet: bool = True,
    **connection_options: Any,
) -> CstaServer:
    """Listen on ``host:port`` (port 0: any free port, see ``server.port``)."""
    server = CstaServer(handler, greet=greet, connection_options=connection_options)
    await server.start(host, port)
    return server
