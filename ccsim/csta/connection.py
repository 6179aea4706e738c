"""A sans-I/O CSTA association: bytes in, events out; messages in, bytes out.

:class:`CstaConnection` is to CSTA what ``h11.Connection`` is to HTTP/1.1. It never
touches a socket or a clock: the driver feeds received bytes with
:meth:`~CstaConnection.receive_data`, drains :meth:`~CstaConnection.next_event`
until :data:`NEED_DATA`, writes whatever :meth:`~CstaConnection.send` returns, and
calls :meth:`~CstaConnection.tick` with the current time at
:meth:`~CstaConnection.next_deadline` so that timeouts and heartbeats come out as
events. The same object serves the application side (``role="client"``, the
computing function: the live ACD) and the switch side (``role="server"``: the PBX
emulator).

What it keeps, so that drivers do not have to:

* outstanding requests by invoke ID, matched to their responses (falling back to
  the oldest compatible request for peers that answer everything with ``0000``),
  each with a deadline;
* the ECMA-354 application session, as a transition table (:data:`SESSION_TRANSITIONS`)
  applied to messages in either direction;
* the system-status registration, monitor cross-reference IDs, route registrations
  and open routeing dialogues;
* reassembly of segmented results.

Protocol errors never raise out of :meth:`next_event`: they become
:class:`ProtocolError` events (carrying, on the server side, the CSTA error response
to send when the invoke ID is known) and the association carries on, unless the
framing itself is lost, which ends it with :class:`ConnectionClosed`. Misuse by the
local caller (sending what the state or role forbids) raises
:class:`LocalProtocolError`: strict in what it sends.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Final, Literal

from ccsim.csta import messages as m
from ccsim.csta.codec import DEFAULT_EDITION, Codec, DecodeError, EncodeError
from ccsim.csta.framing import (
    EVENT_INVOKE_ID,
    HEADER_SIZE,
    MAX_FRAME_SIZE,
    Frame,
    FrameBuffer,
    pack,
)

__all__ = [
    "NEED_DATA",
    "SESSION_TRANSITIONS",
    "ConnectionClosed",
    "ConnectionEvent",
    "CstaConnection",
    "EventReceived",
    "HeartbeatDue",
    "LocalProtocolError",
    "NeedData",
    "ProtocolError",
    "RequestReceived",
    "RequestTimedOut",
    "ResponseReceived",
    "Role",
    "SessionExpired",
    "SessionState",
]


class LocalProtocolError(Exception):
    """The local caller tried something the protocol state or role forbids."""


class Role(Enum):
    CLIENT = "client"  # the application (computing function)
    SERVER = "server"  # the switch (switching function)


class SessionState(Enum):
    """ECMA-354 application session state."""

    NONE = "none"
    STARTING = "starting"
    ACTIVE = "active"
    STOPPING = "stopping"


# ---------------------------------------------------------------------------
# Events produced by next_event()
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionEvent:
    """Base of everything :meth:`CstaConnection.next_event` returns."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestReceived(ConnectionEvent):
    """The peer invoked an operation; answer with ``send(response, invoke_id)``."""

    invoke_id: int
    message: m.Request


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseReceived(ConnectionEvent):
    """A result for one of our requests (``request`` is None if none matched)."""

    invoke_id: int
    message: m.Response
    request: m.Request | None

    @property
    def ok(self) -> bool:
        """False for CSTAErrorCode and ECMA-354 negative responses."""
        return not isinstance(self.message, _NEGATIVE_TYPES)


@dataclass(frozen=True, slots=True, kw_only=True)
class EventReceived(ConnectionEvent):
    """An unsolicited CSTA event report."""

    message: m.Event
    invoke_id: int = EVENT_INVOKE_ID


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestTimedOut(ConnectionEvent):
    """No response arrived for ``request`` by ``deadline``; it is no longer tracked."""

    invoke_id: int
    request: m.Request
    deadline: float


@dataclass(frozen=True, slots=True, kw_only=True)
class HeartbeatDue(ConnectionEvent):
    """Time to send ``message`` (a session-timer reset or a SystemStatus)."""

    message: m.Request


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionExpired(ConnectionEvent):
    """Server side: the application stopped renewing its session."""

    session_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtocolError(ConnectionEvent):
    """A frame or message that could not be accepted; the association survives.

    ``kind``: ``oversize``, ``bad_invoke_id``, ``malformed_xml``, ``hostile_xml``,
    ``unknown_message``, ``invalid_message`` or ``unexpected_message``. On the server
    side ``response`` is the CSTA error to send back with ``invoke_id``; on the
    client side ``request`` is the outstanding request the bad frame answered.
    """

    kind: str
    detail: str
    invoke_id: int | None = None
    response: m.Response | None = None
    request: m.Request | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionClosed(ConnectionEvent):
    """The association is over; ``error`` is True unless it ended cleanly."""

    reason: str
    error: bool = False


class NeedData:
    """Sentinel type of :data:`NEED_DATA`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_DATA"


#: Returned by :meth:`CstaConnection.next_event` when more bytes are needed.
NEED_DATA: Final = NeedData()


# ---------------------------------------------------------------------------
# State tables
# ---------------------------------------------------------------------------

_S = SessionState

#: ECMA-354 session transitions, keyed by (state, message type). They apply to
#: messages in both directions, so client and server stay in step by construction.
#: CSTAErrorCode answering a session request counts as that request's NegResponse.
SESSION_TRANSITIONS: Final[Mapping[tuple[SessionState, type[m.Message]], SessionState]] = {
    (_S.NONE, m.StartApplicationSession): _S.STARTING,
    (_S.STARTING, m.StartApplicationSessionPosResponse): _S.ACTIVE,
    (_S.STARTING, m.StartApplicationSessionNegResponse): _S.NONE,
    (_S.ACTIVE, m.ResetApplicationSessionTimer): _S.ACTIVE,
    (_S.ACTIVE, m.ResetApplicationSessionTimerPosResponse): _S.ACTIVE,
    (_S.ACTIVE, m.ResetApplicationSessionTimerNegResponse): _S.NONE,
    (_S.ACTIVE, m.StopApplicationSession): _S.STOPPING,
    (_S.STOPPING, m.ResetApplicationSessionTimerPosResponse): _S.STOPPING,
    (_S.STOPPING, m.ResetApplicationSessionTimerNegResponse): _S.STOPPING,
    (_S.STOPPING, m.StopApplicationSessionPosResponse): _S.NONE,
    (_S.STOPPING, m.StopApplicationSessionNegResponse): _S.ACTIVE,
}
_SESSION_TYPES: Final = frozenset(cls for _state, cls in SESSION_TRANSITIONS)
_NegativeResponse = (
    m.StartApplicationSessionNegResponse
    | m.ResetApplicationSessionTimerNegResponse
    | m.StopApplicationSessionNegResponse
)
_NEGATIVE_OF: Final[Mapping[type[m.Message], type[_NegativeResponse]]] = {
    m.StartApplicationSession: m.StartApplicationSessionNegResponse,
    m.ResetApplicationSessionTimer: m.ResetApplicationSessionTimerNegResponse,
    m.StopApplicationSession: m.StopApplicationSessionNegResponse,
}
_NEGATIVE_TYPES: Final = (m.CSTAErrorCode, *_NEGATIVE_OF.values())

#: Which message senders each role may emit (strict in what it sends).
_MAY_SEND: Final = {
    Role.CLIENT: frozenset({"app", "both"}),
    Role.SERVER: frozenset({"switch", "both"}),
}

#: Server-side CSTA error answering each kind of bad request.
_ERROR_FOR: Final = {
    "oversize": ("systemResourceAvailibility", "resourceLimitExceeded"),
    "malformed_xml": ("operation", "invalidParameterValue"),
    "invalid_message": ("operation", "invalidParameterValue"),
    "hostile_xml": ("operation", "securityViolation"),
    "unknown_message": ("operation", "serviceNotSupported"),
}

_MAX_TRACKED: Final = 65_536  # bound on peer-driven tables (dialogues, unanswered requests)


@dataclass(slots=True)
class _Pending:
    request: m.Request
    deadline: float


@dataclass(slots=True)
class _Session:
    session_id: str = ""
    duration: float | None = None
    renewed_at: float = 0.0
    requested_duration: int | None = None


class CstaConnection:
    """One CSTA association seen from one end (see the module docstring).

    ``request_timeout`` bounds the wait for each response; ``keepalive_interval``
    (seconds, None for off) makes :meth:`tick` ask for a SystemStatus heartbeat when
    nothing has been sent for that long and no application session does the job;
    ``heartbeat_fraction`` of the session duration spaces session-timer resets.
    """

    def __init__(
        self,
        role: Role | Literal["client", "server"],
        *,
        edition: int = DEFAULT_EDITION,
        request_timeout: float = 10.0,
        keepalive_interval: float | None = None,
        heartbeat_fraction: float = 0.5,
        max_frame_size: int = MAX_FRAME_SIZE,
    ) -> None:
        self.role = Role(role)
        self.codec = Codec(edition)
        self.request_timeout = request_timeout
        self.keepalive_interval = keepalive_interval
        self.heartbeat_fraction = heartbeat_fraction
        self.max_frame_size = max_frame_size
        self._frames = FrameBuffer(max_frame_size)
        self._events: deque[ConnectionEvent] = deque()
        self._now = 0.0
        self._last_sent = 0.0
        self._eof = False
        self._closed: ConnectionClosed | None = None
        self._close_reported = False
        self._next_invoke_id = 1
        self._pending: dict[int, _Pending] = {}
        self._deadlines: list[tuple[float, int]] = []
        self._received: dict[int, deque[m.Request]] = {}
        self._segments: dict[tuple[int, type[m.Message]], list[m.Response]] = {}
        self._session = _Session()
        self._heartbeat_asked_at: float | None = None
        self.session_state = SessionState.NONE
        #: sysStatRegisterID once SystemRegister succeeded.
        self.sys_stat_register_id: str | None = None
        #: monitorCrossRefID -> monitored device or call.
        self.monitors: dict[str, m.DeviceID | m.ConnectionID] = {}
        #: routeRegisterReqID -> routeing device (None: all devices).
        self.route_registrations: dict[str, m.DeviceID | None] = {}
        #: open routeing dialogues: crossRefIdentifier -> routeRegisterReqID.
        self.route_dialogues: dict[str, str | None] = {}

    # -- public state ------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed is not None

    @property
    def close_reason(self) -> str | None:
        return None if self._closed is None else self._closed.reason

    @property
    def session_id(self) -> str | None:
        return self._session.session_id if self.session_state is SessionState.ACTIVE else None

    @property
    def outstanding(self) -> Mapping[int, m.Request]:
        """Requests awaiting a response, by invoke ID, oldest first."""
        return {invoke_id: p.request for invoke_id, p in self._pending.items()}

    # -- input -------------------------------------------------------------

    def receive_data(self, data: bytes, now: float | None = None) -> None:
        """Feed bytes from the transport; ``b""`` means the peer closed."""
        if now is not None:
            self._now = now
        if self._closed is not None:
            return
        if data:
            self._frames.feed(data)
        else:
            self._eof = True

    def next_event(self) -> ConnectionEvent | NeedData:
        """The next event, or :data:`NEED_DATA`. Never raises for peer misbehaviour."""
        while True:
            if self._events:
                return self._events.popleft()
            if self._closed is not None:
                if self._close_reported:
                    return NEED_DATA
                self._close_reported = True
                return self._closed
            item = self._frames.next()
            if item is None:
                if self._frames.lost is not None:
                    self._close(f"framing lost: {self._frames.lost}", error=True)
                elif self._eof:
                    partial = len(self._frames) > 0
                    reason = "peer closed mid-frame" if partial else "peer closed the connection"
                    self._close(reason, error=partial)
                else:
                    return NEED_DATA
                continue
            if isinstance(item, Frame):
                event = self._handle_frame(item)
            else:
                event = self._protocol_error(item.kind, item.detail, item.invoke_id)
            if event is not None:
                return event

    def tick(self, now: float) -> None:
        """Advance the clock: queue timeouts, heartbeats and session expiry as events."""
        self._now = now
        if self._closed is not None:
            return
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now:
            deadline, invoke_id = heapq.heappop(deadlines)
            pending = self._pending.get(invoke_id)
            if pending is not None and pending.deadline == deadline:
                del self._pending[invoke_id]
                self._events.append(
                    RequestTimedOut(invoke_id=invoke_id, request=pending.request, deadline=deadline)
                )
        due = self._heartbeat_time()
        if due is not None and now >= due and self._heartbeat_asked_at != due:
            self._heartbeat_asked_at = due
            self._events.append(HeartbeatDue(message=self._heartbeat_message()))
        expiry = self._expiry_time()
        if expiry is not None and now >= expiry:
            self.session_state = SessionState.NONE
            self._events.append(SessionExpired(session_id=self._session.session_id))

    def next_deadline(self) -> float | None:
        """When :meth:`tick` next has something to do (None: nothing scheduled)."""
        times = [t for t in (self._heartbeat_time(), self._expiry_time()) if t is not None]
        while self._deadlines:
            deadline, invoke_id = self._deadlines[0]
            pending = self._pending.get(invoke_id)
            if pending is not None and pending.deadline == deadline:
                times.append(deadline)
                break
            heapq.heappop(self._deadlines)  # stale: answered or re-used
        if self._heartbeat_asked_at is not None and self._heartbeat_asked_at in times:
            times.remove(self._heartbeat_asked_at)  # already announced
        return min(times) if times else None

    # -- output ------------------------------------------------------------

    def send(
        self, message: m.Message, invoke_id: int | None = None, now: float | None = None
    ) -> bytes:
        """Frame ``message`` for the wire and account for it.

        Requests get a fresh invoke ID unless one is given; responses must give the
        invoke ID of the request they answer; events default to 9999. Returns the
        bytes to write (several frames when a large result is segmented).
        """
        if now is not None:
            self._now = now
        if self._closed is not None:
            raise LocalProtocolError(f"connection closed: {self._closed.reason}")
        if type(message).SENDER not in _MAY_SEND[self.role]:
            raise LocalProtocolError(f"a {self.role.value} does not send {type(message).__name__}")
        if isinstance(message, m.Request):
            invoke_id = self._prepare_request(message, invoke_id)
        elif isinstance(message, m.Response):
            if invoke_id is None:
                raise LocalProtocolError("a response needs the invoke ID of its request")
            request = self._take_received(invoke_id, message)
            self._account_response(message, request, local=True)
        elif isinstance(message, m.Event):
            invoke_id = EVENT_INVOKE_ID if invoke_id is None else invoke_id
        else:
            raise LocalProtocolError(f"not a CSTA message: {message!r}")
        data = self._encode(message, invoke_id)
        self._last_sent = self._now
        return data

    def close(self, reason: str = "closed locally") -> None:
        """End the association from this side; :meth:`next_event` reports it once."""
        if self._closed is None:
            self._close(reason, error=False)

    # -- internals: sending ------------------------------------------------

    def _prepare_request(self, message: m.Request, invoke_id: int | None) -> int:
        session_key = (self.session_state, type(message))
        if type(message) in _SESSION_TYPES and session_key not in SESSION_TRANSITIONS:
            raise LocalProtocolError(
                f"{type(message).__name__} not allowed in session state {self.session_state.value}"
            )
        if (
            isinstance(message, (m.RouteSelect, m.RouteReject))
            and message.cross_ref_identifier not in self.route_dialogues
        ):
            raise LocalProtocolError(f"no open routeing dialogue {message.cross_ref_identifier!r}")
        if invoke_id is None:
            invoke_id = self._allocate_invoke_id()
        elif not 0 <= invoke_id <= 9999:
            raise LocalProtocolError(f"invoke ID must be 0..9999, got {invoke_id}")
        elif invoke_id in self._pending:
            raise LocalProtocolError(f"invoke ID {invoke_id:04d} is still outstanding")
        if type(message).RESPONSES:
            deadline = self._now + self.request_timeout
            self._pending[invoke_id] = _Pending(message, deadline)
            heapq.heappush(self._deadlines, (deadline, invoke_id))
        self._account_request(message)
        return invoke_id

    def allocate_invoke_id(self) -> int:
        """The next free invoke ID of this connection's one sequential counter.

        Transports that must know a request's ID before sending it take it from
        here, so requests they send and fire-and-forget requests the connection
        numbers itself never share an ID while a late error may still arrive.
        """
        return self._allocate_invoke_id()

    def _allocate_invoke_id(self) -> int:
        for _ in range(9998):
            candidate = self._next_invoke_id
            self._next_invoke_id = candidate % 9998 + 1  # 1..9998; 9999 is for events
            if candidate not in self._pending:
                return candidate
        raise LocalProtocolError("all 9998 invoke IDs are outstanding")

    def _encode(self, message: m.Message, invoke_id: int) -> bytes:
        limit = self.max_frame_size - HEADER_SIZE
        try:
            body = self.codec.encode(message)
            if len(body) <= limit:
                return pack(invoke_id, body)
            if not isinstance(message, m.Response) or type(message).SEGMENT_FIELD is None:
                raise LocalProtocolError(
                    f"{type(message).__name__} is {len(body)} bytes; only results can be segmented"
                )
            return b"".join(
                pack(invoke_id, self.codec.encode(s)) for s in self._segment(message, limit)
            )
        except EncodeError as exc:
            raise LocalProtocolError(str(exc)) from None

    def _segment(self, message: m.Response, limit: int) -> list[m.Response]:
        """Split the list field into chunks whose segments each fit in ``limit`` bytes."""
        field = type(message).SEGMENT_FIELD
        assert field is not None
        items: tuple[object, ...] = getattr(message, field)

        def build(chunk: tuple[object, ...], index: int, last: bool) -> m.Response:
            changes = {field: chunk, "segment_id": index, "last_segment": last}
            return dataclasses.replace(message, **changes)  # type: ignore[arg-type]

        chunks = [items]
        done: list[tuple[object, ...]] = []
        while chunks:
            chunk = chunks.pop()
            if len(self.codec.encode(build(chunk, 9999, False))) <= limit:
                done.append(chunk)
            elif len(chunk) > 1:
                half = len(chunk) // 2
                chunks.extend((chunk[half:], chunk[:half]))  # LIFO: first half next
            else:
                raise LocalProtocolError(f"one {field} entry alone exceeds a frame")
        return [build(c, i, i == len(done)) for i, c in enumerate(done, start=1)]

    # -- internals: receiving ----------------------------------------------

    def _handle_frame(self, frame: Frame) -> ConnectionEvent | None:
        invoke_id = frame.invoke_id
        try:
            message = self.codec.decode(frame.body)
        except DecodeError as exc:
            return self._protocol_error(exc.kind, exc.detail, invoke_id)
        if isinstance(message, m.Event):
            return EventReceived(message=message, invoke_id=invoke_id)
        if isinstance(message, m.Response):
            return self._handle_response(message, invoke_id)
        assert isinstance(message, m.Request)
        return self._handle_request(message, invoke_id)

    def _handle_request(self, message: m.Request, invoke_id: int) -> ConnectionEvent | None:
        kind = type(message)
        if kind in _SESSION_TYPES and (self.session_state, kind) not in SESSION_TRANSITIONS:
            negative = _NEGATIVE_OF.get(kind)
            response: m.Response | None = None
            if self.role is Role.SERVER:
                response = (
                    negative(error_code="invalidSessionState")
                    if negative is not None
                    else m.CSTAErrorCode.of("stateIncompatibility", "invalidObjectState")
                )
            return self._protocol_error(
                "unexpected_message",
                f"{kind.__name__} in session state {self.session_state.value}",
                invoke_id,
                response=response,
            )
        if isinstance(message, (m.RouteSelect, m.RouteReject, m.ReRoute)) and (
            message.cross_ref_identifier not in self.route_dialogues
        ):
            return self._protocol_error(
                "unexpected_message",
                f"{kind.__name__} for unknown routeing dialogue {message.cross_ref_identifier!r}",
                invoke_id,
                response=m.CSTAErrorCode.of("operation", "invalidRouteingCrossRefID"),
            )
        self._account_request(message)
        if kind.RESPONSES:
            queue = self._received.setdefault(invoke_id, deque())
            queue.append(message)
            if len(self._received) > _MAX_TRACKED:
                del self._received[next(iter(self._received))]
        return RequestReceived(invoke_id=invoke_id, message=message)

    def _handle_response(self, message: m.Response, invoke_id: int) -> ConnectionEvent | None:
        pending = self._pending.pop(invoke_id, None)
        if pending is None:
            pending = self._pop_compatible(message)
        request = None if pending is None else pending.request
        field = type(message).SEGMENT_FIELD
        if field is not None and getattr(message, "segment_id", None) is not None:
            assembled = self._reassemble(message, invoke_id, field)
            if assembled is None:
                if pending is not None:  # more segments to come: keep waiting
                    self._pending[invoke_id] = pending
                    pending.deadline = self._now + self.request_timeout
                    heapq.heappush(self._deadlines, (pending.deadline, invoke_id))
                return None
            message = assembled
        if request is not None and type(request) in _SESSION_TYPES:
            key = (self.session_state, self._session_key(message, request))
            if key not in SESSION_TRANSITIONS:
                return self._protocol_error(
                    "unexpected_message",
                    f"{type(message).__name__} in session state {self.session_state.value}",
                    invoke_id,
                    request=request,
                )
        self._account_response(message, request, local=False)
        return ResponseReceived(invoke_id=invoke_id, message=message, request=request)

    def _pop_compatible(self, message: m.Response) -> _Pending | None:
        # Peers that answer every request with the same invoke ID (0000 is common):
        # pair the response with the oldest request it can answer.
        for key, pending in self._pending.items():
            if (
                isinstance(message, _NEGATIVE_TYPES)
                or type(message) in type(pending.request).RESPONSES
            ):
                del self._pending[key]
                return pending
        return None

    def _reassemble(self, message: m.Response, invoke_id: int, field: str) -> m.Response | None:
        key = (invoke_id, type(message))
        parts = self._segments.setdefault(key, [])
        parts.append(message)
        if not getattr(message, "last_segment", False):
            if len(parts) > 4096:  # a peer that never ends: drop, bounded memory
                del self._segments[key]
            return None
        del self._segments[key]
        items = tuple(item for part in parts for item in getattr(part, field))
        changes = {field: items, "segment_id": None, "last_segment": None}
        return dataclasses.replace(parts[0], **changes)  # type: ignore[arg-type]

    def _take_received(self, invoke_id: int, message: m.Response) -> m.Request | None:
        queue = self._received.get(invoke_id)
        if not queue:
            return None
        request = queue.popleft()
        if not queue:
            del self._received[invoke_id]
        key = self._session_key(message, request)
        if type(request) in _SESSION_TYPES and (self.session_state, key) not in SESSION_TRANSITIONS:
            queue.appendleft(request)
            self._received[invoke_id] = queue
            raise LocalProtocolError(
                f"{type(message).__name__} not allowed in session state {self.session_state.value}"
            )
        return request

    def _protocol_error(
        self,
        kind: str,
        detail: str,
        invoke_id: int | None,
        *,
        response: m.Response | None = None,
        request: m.Request | None = None,
    ) -> ProtocolError:
        known = invoke_id is not None and invoke_id != EVENT_INVOKE_ID
        if self.role is Role.SERVER and response is None and known and kind in _ERROR_FOR:
            response = m.CSTAErrorCode.of(*_ERROR_FOR[kind])
        if self.role is Role.CLIENT and request is None and known:
            # The bad frame answered one of our requests: fail it now, not at timeout.
            assert invoke_id is not None
            pending = self._pending.pop(invoke_id, None)
            request = None if pending is None else pending.request
        if self.role is Role.CLIENT:
            response = None
        return ProtocolError(
            kind=kind, detail=detail, invoke_id=invoke_id, response=response, request=request
        )

    # -- internals: bookkeeping shared by both directions --------------------

    @staticmethod
    def _session_key(message: m.Response, request: m.Request) -> type[m.Message]:
        if isinstance(message, m.CSTAErrorCode):
            return _NEGATIVE_OF.get(type(request), type(message))
        return type(message)

    def _account_request(self, message: m.Request) -> None:
        kind = type(message)
        if kind in _SESSION_TYPES:
            self.session_state = SESSION_TRANSITIONS[(self.session_state, kind)]
            if isinstance(message, m.StartApplicationSession):
                self._session.requested_duration = message.requested_session_duration
            elif isinstance(message, m.ResetApplicationSessionTimer):
                self._session.renewed_at = self._now
                self._heartbeat_asked_at = None
        elif isinstance(message, m.SystemStatus):
            self._heartbeat_asked_at = None
        elif isinstance(message, m.RouteRequest):
            self.route_dialogues[message.cross_ref_identifier] = message.route_register_req_id
            if len(self.route_dialogues) > _MAX_TRACKED:
                del self.route_dialogues[next(iter(self.route_dialogues))]
        elif isinstance(message, m.RouteEnd):
            self.route_dialogues.pop(message.cross_ref_identifier, None)
        elif isinstance(message, m.RouteRegisterAbort):
            self.route_registrations.pop(message.route_register_req_id, None)

    def _account_response(
        self, message: m.Response, request: m.Request | None, *, local: bool
    ) -> None:
        if request is None:
            return
        kind = type(request)
        if kind in _SESSION_TYPES:
            key = self._session_key(message, request)
            self.session_state = SESSION_TRANSITIONS[(self.session_state, key)]
            session = self._session
            if isinstance(message, m.StartApplicationSessionPosResponse):
                session.session_id = message.session_id
                duration = message.actual_session_duration or session.requested_duration
                session.duration = float(duration) if duration else None
                session.renewed_at = self._now
                self._heartbeat_asked_at = None
            elif (
                isinstance(message, m.ResetApplicationSessionTimerPosResponse)
                and message.actual_session_duration
            ):
                session.duration = float(message.actual_session_duration)
            return
        if isinstance(message, m.MonitorStartResponse) and isinstance(request, m.MonitorStart):
            target = request.device if request.device is not None else request.call
            assert target is not None
            self.monitors[message.monitor_cross_ref_id] = target
        elif isinstance(message, m.MonitorStopResponse) and isinstance(request, m.MonitorStop):
            self.monitors.pop(request.monitor_cross_ref_id, None)
        elif isinstance(message, m.SystemRegisterResponse):
            self.sys_stat_register_id = message.sys_stat_register_id
        elif isinstance(message, m.RouteRegisterResponse) and isinstance(request, m.RouteRegister):
            self.route_registrations[message.route_register_req_id] = request.routeing_device
        elif isinstance(message, m.RouteRegisterCancelResponse) and isinstance(
            request, m.RouteRegisterCancel
        ):
            self.route_registrations.pop(request.route_register_req_id, None)

    def _heartbeat_time(self) -> float | None:
        if self._closed is not None:
            return None
        session = self._session
        if self.role is Role.CLIENT and self.session_state is SessionState.ACTIVE:
            if session.duration:
                return session.renewed_at + session.duration * self.heartbeat_fraction
            return None
        if self.keepalive_interval is None:
            return None
        if any(isinstance(p.request, m.SystemStatus) for p in self._pending.values()):
            return None  # one heartbeat in flight is enough; its timeout tells the rest
        return self._last_sent + self.keepalive_interval

    def _heartbeat_message(self) -> m.Request:
        session = self._session
        if self.role is Role.CLIENT and self.session_state is SessionState.ACTIVE:
            duration = int(session.duration) if session.duration else None
            return m.ResetApplicationSessionTimer(
                session_id=session.session_id, requested_session_duration=duration
            )
        return m.SystemStatus(system_status="normal")

    def _expiry_time(self) -> float | None:
        session = self._session
        if (
            self.role is Role.SERVER
            and self.session_state is SessionState.ACTIVE
            and session.duration
            and self._closed is None
        ):
            return session.renewed_at + session.duration
        return None

    def _close(self, reason: str, *, error: bool) -> None:
        self._closed = ConnectionClosed(reason=reason, error=error)
        self._frames = FrameBuffer(self.max_frame_size)
