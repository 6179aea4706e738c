"""The CSTA side of the emulator: sessions, monitors, services, the routeing dialogue.

One asyncio loop runs everything: the listener, one reader task (``CstaLink``)
and one writer task per client, and the :class:`~.clock.SimClock` task that
steps the SimPy switch. A request is handled synchronously between two SimPy
steps: the clock is advanced to "now", the switch executes the service, the
response is queued, then the events the service caused - so a client always
sees its response before the consequences. Events produced by the simulation
itself are queued to each monitoring session as they happen.

Each session has its own bounded output queue and writer task: a client that
stops reading fills only its own queue and is disconnected when the queue
passes ``max_backlog`` messages, so it cannot stall the simulation or the other
clients. Garbage and bad requests are answered by ``CstaLink`` (CSTA errors) or
end only that client's link (framing lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque
from pathlib import Path
from typing import Any

import simpy

from ccsim.csta import messages as m
from ccsim.csta.connection import (
    ConnectionClosed,
    CstaConnection,
    LocalProtocolError,
    RequestReceived,
    Role,
    SessionExpired,
    SessionState,
)
from ccsim.live.emulator.clock import SimClock
from ccsim.live.emulator.switch import Call, ServiceError, Switch, SwitchOptions
from ccsim.live.emulator.trace import Trace, TracingConnection
from ccsim.live.link import CstaLink, LinkClosedError
from ccsim.pbx.streams import Streams
from ccsim.scenario import Scenario

__all__ = ["Emulator", "Session"]

log = logging.getLogger("ccsim.live.emulator")


class Session:
    """One client association: its output queue and writer task."""

    def __init__(self, emulator: Emulator, link: CstaLink, max_backlog: int) -> None:
        self.emulator = emulator
        self.link = link
        self.max_backlog = max_backlog
        self.closed = False
        self._out: deque[tuple[m.Message, int | None]] = deque()
        self._ready = asyncio.Event()
        self.sent = 0

    def emit(self, message: m.Message) -> None:
        """Queue an unsolicited message (event or routeing request) for this client."""
        held = self.emulator._held
        if held is not None:
            held.append((self, message))
        else:
            self.push(message, None)

    def push(self, message: m.Message, invoke_id: int | None) -> None:
        if self.closed:
            return
        self._out.append((message, invoke_id))
        if len(self._out) > self.max_backlog:
            log.warning(
                "client %s does not read: %d messages queued, closing",
                self.link.peer,
                len(self._out),
            )
            self.closed = True
            self._out.clear()
            asyncio.get_running_loop().create_task(self.link.close("output backlog exceeded"))
        self._ready.set()

    async def writer(self) -> None:
        link = self.link
        out = self._out
        while not self.closed:
            await self._ready.wait()
            self._ready.clear()
            while out:
                message, invoke_id = out.popleft()
                try:
                    await link.send(message, invoke_id)
                except LinkClosedError:
                    self.closed = True
                    return
                except LocalProtocolError as exc:  # e.g. the dialogue was closed meanwhile
                    log.debug("not sent to %s: %s", link.peer, exc)
                self.sent += 1


class Emulator:
    """A scenario's center as a CSTA switch on ``host:port`` (``port=0``: any free port).

    ``speed``: simulated seconds per wall second (``math.inf``: as fast as
    possible). ``seed``: the random streams (``ccsim.pbx.streams.Streams``), as
    in ``ccsim.simulate``. ``trace``: a file for the CSTA trace log.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        speed: float = 1.0,
        seed: int = 0,
        replication: int = 0,
        options: SwitchOptions | None = None,
        trace: str | Path | None = None,
        until: float = math.inf,
        max_backlog: int = 200_000,
        edition: int | None = None,
    ) -> None:
        self.scenario = scenario
        self.host = host
        self.requested_port = port
        self.options = options or SwitchOptions()
        self.env = simpy.Environment(initial_time=self.options.start)
        self.switch = Switch(
            scenario, env=self.env, streams=Streams(seed, replication), options=self.options
        )
        self.clock = SimClock(self.env, speed=speed, until=until)
        self.trace = Trace(trace, self.clock.sim_now) if trace is not None else None
        self.max_backlog = max_backlog
        # The switch's only requests expecting an answer are SystemStatus reports: a client
        # that never answers them is tolerated (real CTI clients often do not).
        self.connection_options: dict[str, Any] = {"request_timeout": 365 * 86_400.0}
        if edition is not None:
            self.connection_options["edition"] = edition
        self.sessions: set[Session] = set()
        self._held: list[tuple[Session, m.Message]] | None = None
        self._server: asyncio.Server | None = None
        self._clock_task: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._sys_ids = 0
        #: SystemRegister requests served (clients asking for status reports)
        self.system_registrations = 0

    # ------------------------------------------------------------------ life cycle

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        """Listen, then start the simulation clock."""
        self._server = await asyncio.start_server(self._accept, self.host, self.requested_port)
        self.switch.start()
        self._clock_task = asyncio.create_task(self.clock.run(), name="emulator-clock")

    async def close(self) -> None:
        """Stop the clock, close every client cleanly, stop listening."""
        self.clock.stop()
        if self._server is not None:
            self._server.close()
        for session in list(self.sessions):
            await session.link.close("switch shutting down")
        if self._clock_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock_task
        handlers = list(self._handlers)
        if handlers:  # they end by themselves once their links are closed
            _done, pending = await asyncio.wait(handlers, timeout=5.0)
            for task in pending:
                task.cancel()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
        if self.trace is not None:
            self.trace.close()

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def wait_finished(self) -> None:
        """Wait until the clock reaches ``until`` (or is stopped)."""
        assert self._clock_task is not None
        await asyncio.shield(self._clock_task)

    # ------------------------------------------------------------------ test hooks

    def report_status(self, status: str) -> int:
        """Send every client an ECMA-269 ``SystemStatus`` (e.g. ``messagesLost``); returns how many.

        Real switches report trouble this way (lost events, overload, restart);
        a tester uses it to see the router resynchronise without losing its link.
        """
        for session in list(self.sessions):
            session.push(m.SystemStatus(system_status=status), None)
        return len(self.sessions)

    def inject_call(self, service: str, caller: str | None = None) -> Call | None:
        """A call for ``service`` arrives now (tests, demos): as if the scenario sent it."""
        self.clock.advance()
        call = self.switch.arrive(service, caller)
        self.clock.poke()
        return call

    # ------------------------------------------------------------------ connections

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        connection: CstaConnection
        if self.trace is not None:
            connection = TracingConnection(self.trace, **self.connection_options)
        else:
            connection = CstaConnection(Role.SERVER, **self.connection_options)
        link = CstaLink(reader, writer, connection)
        if isinstance(connection, TracingConnection):
            connection.peer_name = link.peer
        session = Session(self, link, self.max_backlog)
        self.sessions.add(session)
        writer_task = asyncio.create_task(session.writer(), name=f"emulator-out-{link.peer}")
        try:
            # switches announce their status first (ECMA-269 SystemStatus)
            session.push(m.SystemStatus(system_status="normal"), None)
            async for item in link.events():
                if isinstance(item, RequestReceived):
                    self._request(session, item)
                elif isinstance(item, SessionExpired):
                    log.warning("application session of %s expired", link.peer)
                    self.clock.advance()
                    self.switch.peer_gone(session)  # its monitors go, its calls are routed anew
                    self.clock.poke()
                elif isinstance(item, ConnectionClosed):
                    break
        except Exception:
            log.exception("emulator session %s failed", link.peer)
        finally:
            session.closed = True
            self.sessions.discard(session)
            try:
                self.clock.advance()
                self.switch.peer_gone(session)  # its monitors go, its calls are routed anew
            except Exception:
                log.exception("emulator: cleaning up after %s failed", link.peer)
            self.clock.poke()
            writer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer_task
            with contextlib.suppress(Exception):
                await link.close("session ended")
            if self.trace is not None:
                self.trace.flush()
            self._handlers.discard(task)

    def _request(self, session: Session, item: RequestReceived) -> None:
        """Execute one request at the current simulated time; response first, then events."""
        self.clock.advance()  # the request happens now, after everything due by now
        held: list[tuple[Session, m.Message]] = []
        self._held = held
        try:
            self._check_session(session, item.message)
            response = self._service(session, item.message)
        except ServiceError as failure:
            response = failure.response
        except Exception:
            log.exception("emulator: %s failed", type(item.message).__name__)
            response = m.CSTAErrorCode.of("operation", "generic")
        finally:
            self._held = None
        if response is not None and type(item.message).RESPONSES:
            session.push(response, item.invoke_id)
        for peer, message in held:
            peer.push(message, None)
        self.clock.poke()

    def _check_session(self, session: Session, msg: m.Request) -> None:
        """With ``require_session``, nothing but a session start before a session (ECMA-354)."""
        if (
            self.options.require_session
            and not isinstance(msg, m.StartApplicationSession | m.SystemStatus)
            and session.link.connection.session_state is not SessionState.ACTIVE
        ):
            raise ServiceError("operation", "securityViolation")

    def _granted(self, requested: int | None) -> int:
        limit = self.options.session_duration
        return min(requested, limit) if requested else limit

    def _service(self, session: Session, msg: m.Request) -> m.Response | None:
        sw = self.switch
        t = type(msg)
        if t is m.SystemStatus:
            return None  # CstaLink answers heartbeats itself
        if t is m.SystemRegister:
            self._sys_ids += 1
            self.system_registrations += 1
            return m.SystemRegisterResponse(sys_stat_register_id=f"S{self._sys_ids}")
        if t is m.StartApplicationSession:
            assert isinstance(msg, m.StartApplicationSession)
            self._sys_ids += 1
            return m.StartApplicationSessionPosResponse(
                session_id=f"session-{self._sys_ids}",
                actual_protocol_version=(msg.requested_protocol_versions or (None,))[0],
                actual_session_duration=self._granted(msg.requested_session_duration),
            )
        if t is m.ResetApplicationSessionTimer:
            assert isinstance(msg, m.ResetApplicationSessionTimer)
            return m.ResetApplicationSessionTimerPosResponse(
                actual_session_duration=self._granted(msg.requested_session_duration)
            )
        if t is m.StopApplicationSession:
            sw.peer_gone(session)
            return m.StopApplicationSessionPosResponse()
        if isinstance(msg, m.MonitorStart):
            mon = sw.start_monitor(session, msg.device, msg.call)
            return m.MonitorStartResponse(monitor_cross_ref_id=mon.xref)
        if isinstance(msg, m.MonitorStop):
            sw.stop_monitor(msg.monitor_cross_ref_id, session)
            return m.MonitorStopResponse()
        if isinstance(msg, m.RouteRegister):
            reg = sw.register_router(session, msg.routeing_device)
            return m.RouteRegisterResponse(route_register_req_id=reg.req_id)
        if isinstance(msg, m.RouteRegisterCancel):
            sw.cancel_registration(msg.route_register_req_id, session)
            return m.RouteRegisterCancelResponse()
        if isinstance(msg, m.RouteSelect):
            sw.route_select(session, msg)
            return None
        if isinstance(msg, m.RouteEnd):
            sw.route_end_from_client(session, msg)
            return None
        if isinstance(msg, m.RouteReject):
            sw.route_reject(session, msg)
            return None
        if isinstance(msg, m.MakeCall):
            call = sw.make_call(msg.calling_device, msg.called_directory_number)
            return m.MakeCallResponse(calling_device=m.ConnectionID(call.id, msg.calling_device))
        if isinstance(msg, m.AnswerCall):
            sw.answer_call(msg.call_to_be_answered)
            return m.AnswerCallResponse()
        if isinstance(msg, m.ClearConnection):
            sw.clear_call_connection(msg.connection_to_be_cleared)
            return m.ClearConnectionResponse()
        if isinstance(msg, m.DeflectCall):
            sw.deflect_call(msg.call_to_be_diverted, msg.new_destination)
            return m.DeflectCallResponse()
        if isinstance(msg, m.SingleStepTransferCall):
            conn = sw.single_step_transfer(msg.active_call, msg.transferred_to)
            return m.SingleStepTransferCallResponse(transferred_call=conn)
        if isinstance(msg, m.ConsultationCall):
            new = sw.consultation_call(msg.existing_call, msg.consulted_device)
            device = msg.existing_call.device_id
            return m.ConsultationCallResponse(initiated_call=m.ConnectionID(new.id, device))
        if isinstance(msg, m.TransferCall):
            conn = sw.transfer_call(msg.held_call, msg.active_call)
            return m.TransferCallResponse(transferred_call=conn)
        if isinstance(msg, m.HoldCall):
            sw.hold(msg.call_to_be_held)
            return m.HoldCallResponse()
        if isinstance(msg, m.RetrieveCall):
            sw.retrieve(msg.call_to_be_retrieved)
            return m.RetrieveCallResponse()
        if isinstance(msg, m.SingleStepConferenceCall):
            conn = sw.single_step_conference(
                msg.active_call, msg.device_to_join, msg.participation_type
            )
            return m.SingleStepConferenceCallResponse(conferenced_call=conn)
        if isinstance(msg, m.SetAgentState):
            reason = dict(msg.private_data).get("reasonCode", "")
            pending = sw.set_agent_state(msg.device, msg.requested_agent_state, reason)
            return m.SetAgentStateResponse(pending_agent_state=pending)
        if isinstance(msg, m.GetAgentState):
            entry = sw.agent_state(msg.device)
            return m.GetAgentStateResponse(agent_state_list=(entry,))
        if isinstance(msg, m.SnapshotDevice):
            items = sw.snapshot(msg.snapshot_object)
            return m.SnapshotDeviceResponse(snapshot_data=items)
        raise ServiceError("operation", "serviceNotSupported")
