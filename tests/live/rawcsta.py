"""A raw-socket CSTA client for the emulator tests, independent of ccsim's codec.

Frames are built by hand (ECMA-323 Annex G: ``00 00``, 2-byte big-endian length
of the whole frame, 4 ASCII digits of invoke ID, XML) from string templates, and
replies are read with ``xml.etree.ElementTree`` by local element name only. So a
bug in ``ccsim.csta``'s codec cannot hide on both sides of a test.

Also here: :class:`EmulatorThread`, an in-process emulator on port 0 running in
its own thread and event loop, so tests can use this blocking client.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable
from typing import Any

from ccsim.live.emulator import Emulator
from ccsim.scenario import Scenario

# The small center of the call-flow tests: two sales agents, one who never answers.
SPEED = 50.0

FLOWS = """
name = "flows"
skills = ["sales", "backup"]

[[services]]
name = "sales"
routing_point = "sales"
aht = 40
wrap_up = 5
patience = 30

[[routing_points]]
name = "sales"
steps = [{ op = "queue", queue = "sales" }]

[[agent_groups]]
name = "team"
size = 2
stations = ["301", "302"]
skills = { sales = 1 }

[[agent_groups]]
name = "lazy"
size = 1
stations = ["303"]
skills = { backup = 1 }
no_answer_probability = 0.999999

[timing]
ring_timeout = 10
"""


def scenario() -> Scenario:
    """The call-flow test center (``FLOWS``)."""
    return Scenario.from_toml_string(FLOWS, "flows.toml")


ED3 = "http://www.ecma-international.org/standards/ecma-323/csta/ed3"
ED5 = "http://www.ecma-international.org/standards/ecma-323/csta/ed5"


def frame(invoke_id: int, xml: str) -> bytes:
    body = xml.encode("utf-8")
    return b"\x00\x00" + struct.pack(">H", len(body) + 8) + b"%04d" % invoke_id + body


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def child(elem: ET.Element, path: str) -> ET.Element | None:
    """Follow ``a/b/c`` by local names (namespaces ignored)."""
    node: ET.Element | None = elem
    for part in path.split("/"):
        if node is None:
            return None
        node = next((c for c in node if local(c.tag) == part), None)
    return node


def text(elem: ET.Element, path: str) -> str | None:
    """Text at ``path``; a device wrapped in ``<deviceIdentifier>`` is unwrapped."""
    node = child(elem, path)
    if node is None:
        return None
    inner = child(node, "deviceIdentifier")
    if inner is not None:
        node = inner
    return (node.text or "").strip()


class Message:
    """One received frame: invoke ID, element name and the parsed tree."""

    def __init__(self, invoke_id: int, body: bytes) -> None:
        self.invoke_id = invoke_id
        self.body = body
        self.root = ET.fromstring(body)
        self.name = local(self.root.tag)
        self.namespace = self.root.tag[1:].split("}")[0] if self.root.tag.startswith("{") else ""

    def get(self, path: str) -> str | None:
        return text(self.root, path)

    def __repr__(self) -> str:
        return f"<{self.name} {self.invoke_id:04d}>"


class RawClient:
    """A blocking CSTA client speaking hand-written XML of one ECMA-323 edition."""

    def __init__(self, port: int, namespace: str = ED5, *, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.ns = namespace
        self.timeout = timeout
        self._buf = b""
        self.inbox: deque[Message] = deque()
        self.next_id = 1
        self.auto_answer = True  # answer the switch's SystemStatus, as polite clients do

    def close(self) -> None:
        self.sock.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, name: str, inner: str = "", invoke_id: int | None = None) -> int:
        if invoke_id is None:
            invoke_id, self.next_id = self.next_id, self.next_id % 9998 + 1
        xmlns = f' xmlns="{self.ns}"' if self.ns else ""
        xml = f'<?xml version="1.0" encoding="UTF-8"?><{name}{xmlns}>{inner}</{name}>'
        self.send_raw(frame(invoke_id, xml))
        return invoke_id

    def _read(self, deadline: float) -> Message | None:
        while True:
            if len(self._buf) >= 8:
                size = struct.unpack(">H", self._buf[2:4])[0]
                if len(self._buf) >= size:
                    head, self._buf = self._buf[:size], self._buf[size:]
                    msg = Message(int(head[4:8]), head[8:])
                    if msg.name == "SystemStatus" and self.auto_answer:
                        self.send("SystemStatusResponse", "", msg.invoke_id)
                    return msg
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                return None
            if not data:
                raise ConnectionError("emulator closed the connection")
            self._buf += data

    def receive(self, timeout: float | None = None) -> Message:
        """The next message (answering SystemStatus requests from the switch on the way)."""
        if self.inbox:
            return self.inbox.popleft()
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        msg = self._read(deadline)
        if msg is None:
            raise TimeoutError("no message from the emulator")
        return msg

    def request(self, name: str, inner: str = "", invoke_id: int | None = None) -> Message:
        """Send a request and wait for the reply with its invoke ID; others are kept."""
        return self._await_reply(self.send(name, inner, invoke_id), name)

    def request_xml(self, xml: str, invoke_id: int) -> Message:
        """Send a whole XML body as given (a trace replay) and wait for its reply."""
        self.send_raw(frame(invoke_id, xml))
        return self._await_reply(invoke_id, xml[:40])

    def _await_reply(self, iid: int, name: str) -> Message:
        deadline = time.monotonic() + self.timeout
        kept: list[Message] = []
        try:
            while True:
                msg = self._read(deadline)
                if msg is None:
                    raise TimeoutError(f"no reply to {name}")
                if msg.invoke_id == iid and _is_reply(msg):
                    return msg
                kept.append(msg)
        finally:
            self.inbox.extend(kept)

    def expect(self, *names: str, timeout: float | None = None) -> list[Message]:
        """The next messages, which must have exactly these names in this order."""
        got = [self.receive(timeout) for _ in names]
        assert [g.name for g in got] == list(names), [g.name for g in got]
        return got

    def wait_for(
        self,
        name: str,
        *,
        timeout: float | None = None,
        match: dict[str, str] | None = None,
        **fields: str,
    ) -> Message:
        """Skip messages until one named ``name`` whose fields (paths in ``match``) match."""
        fields = {**fields, **(match or {})}
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            msg = self.receive(max(0.01, deadline - time.monotonic()))
            if msg.name == name and all(msg.get(k) == v for k, v in fields.items()):
                return msg
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {name} {fields}")

    def drain(self, quiet: float = 0.2) -> list[Message]:
        out = []
        try:
            while True:
                out.append(self.receive(quiet))
        except TimeoutError:
            return out

    # shorthands built from templates --------------------------------------

    def monitor(self, device: str) -> str:
        reply = self.request(
            "MonitorStart", f"<monitorObject><deviceObject>{device}</deviceObject></monitorObject>"
        )
        assert reply.name == "MonitorStartResponse", reply.body
        xref = reply.get("monitorCrossRefID")
        assert xref
        return xref

    def register(self, device: str | None) -> str:
        inner = f"<routeingDevice>{device}</routeingDevice>" if device else ""
        reply = self.request("RouteRegister", inner)
        assert reply.name == "RouteRegisterResponse", reply.body
        req = reply.get("routeRegisterReqID")
        assert req
        return req

    def route_select(self, xref: str, req: str, device: str) -> None:
        self.send(
            "RouteSelectRequest",
            f"<crossRefIdentifier>{xref}</crossRefIdentifier>"
            f"<routeRegisterReqID>{req}</routeRegisterReqID>"
            f"<routeSelected>{device}</routeSelected>",
        )

    def make_call(self, calling: str, called: str) -> Message:
        return self.request(
            "MakeCall",
            f"<callingDevice>{calling}</callingDevice>"
            f"<calledDirectoryNumber>{called}</calledDirectoryNumber>",
        )

    def set_agent_state(self, device: str, state: str, reason: str = "") -> Message:
        private = (
            f"<extensions><privateData><private><reasonCode>{reason}</reasonCode>"
            "</private></privateData></extensions>"
            if reason
            else ""
        )
        return self.request(
            "SetAgentState",
            f"<device>{device}</device><requestedAgentState>{state}</requestedAgentState>{private}",
        )


_SWITCH_REQUESTS = {
    "SystemStatus",
    "RouteRequest",
    "ReRouteRequest",
    "RouteEndRequest",
    "RouteUsedRequest",
}


def _is_reply(msg: Message) -> bool:
    return not msg.name.endswith("Event") and msg.name not in _SWITCH_REQUESTS


def connection(call_id: str, device: str) -> str:
    return f"<callID>{call_id}</callID><deviceID>{device}</deviceID>"


class EmulatorThread:
    """An Emulator on 127.0.0.1:0 in a background thread with its own event loop."""

    def __init__(self, scenario: Any, **kwargs: Any) -> None:
        self.scenario = scenario
        self.kwargs = kwargs
        self.emulator: Emulator | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> EmulatorThread:
        self.thread.start()
        if not self._ready.wait(20):
            raise TimeoutError("emulator did not start")
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc: object) -> None:
        if self.loop is not None and self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(20)

    @property
    def port(self) -> int:
        assert self.emulator is not None
        return self.emulator.port

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.emulator = Emulator(self.scenario, **self.kwargs)
        await self.emulator.start()
        self._ready.set()
        await self._stop.wait()
        await self.emulator.close()

    def call(self, fn: Callable[[Emulator], Any]) -> Any:
        """Run ``fn(emulator)`` in the emulator's loop and return its result."""
        assert self.loop is not None and self.emulator is not None
        emulator = self.emulator

        async def job() -> Any:
            return fn(emulator)

        return asyncio.run_coroutine_threadsafe(job(), self.loop).result(10)

    def inject(self, service: str, caller: str | None = None) -> str:
        """A call arrives now; returns its call ID."""
        call = self.call(lambda e: e.inject_call(service, caller))
        assert call is not None
        return str(call.id)
