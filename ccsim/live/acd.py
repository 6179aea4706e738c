"""The live ACD: ``ccsim.acd.ACD`` routing a real switch's calls over CSTA (``ccsim acd``).

``LiveACD`` is the asyncio world around the sans-I/O ``Binding``: it keeps a
CSTA link to the switch (``ccsim.live.link.open_client``, reconnecting with
backoff), and on every (re)connection starts an ECMA-354 application session
when the switch offers one, registers as router of the scenario's routing
points (``RouteRegister``), monitors every agent station (``MonitorStart``),
asks each agent's state (``GetAgentState``) and resynchronises calls from
``SnapshotDevice`` of every station and routing point (``Binding.resync``)
before it routes again; route requests that arrive meanwhile are held and
answered right after. A ``SystemStatus`` of ``messagesLost`` (or back to
normal after ``disabled``/``initializing``) triggers the same resync without
dropping the link. Then it feeds every message to the binding with the time
of a ``clock`` and carries out the actions: requests to the switch (in order,
without waiting for one answer before sending the next) and ACD timers as
``loop.call_later`` handles that feed ``TimerFired`` back.

Time: the ACD counts scenario seconds (since midnight of day 0). The clock is
``start + (monotonic wall seconds since start-up) × speed``; against a switch
running in real time speed is 1 and ``start`` the time of day at start-up, and
against a scaled-time emulator they must match its ``--speed`` and ``--start``.
A timer due at ACD time ``at`` sleeps ``(at − now) / speed`` wall seconds. A
``clock`` callable can be injected instead (tests read the emulator's).

Wrap-up: the switch (the agent's phone) ends after-call work, as it does in the
emulator, so the ACD's timed wrap-up is switched off as in the simulation
(``live_config``); an agent's ``AgentReady`` after wrap-up is ``WrapUpEnded``.

Supervisor functions: ``monitor``, ``barge_in`` and ``intercept`` join a
supervisor's station to an agent's answered call (``SingleStepConferenceCall``
silent / active; intercept then clears the agent's connection);
``force_ready``, ``force_not_ready`` and ``force_logout`` set the agent's state
at the switch (pending while the agent is on a call). Each feeds the ACD its
supervisor event, carries out the commands in order, waits for the switch's
answers and returns a ``SupervisorResult`` or raises ``SupervisorError``.

Recording: with ``record`` (a path), every event the ACD accepted is written as
a JSON line (``ccsim.live.binding.event_to_json``); ``read_recording`` and
``ccsim.live.binding.replay`` feed it to a fresh ACD offline.

Call log: with ``db`` (an SQLAlchemy URL), every call, delivery and agent-state
change is written to that database (``ccsim.live.calllog.CallLog``), in batches
off the event loop; a restart appends a new session to the same database.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from ccsim import events as ev
from ccsim.acd import ACD
from ccsim.acd_config import ACDConfig
from ccsim.csta import DeviceID, EventReceived, RequestReceived
from ccsim.csta import messages as m
from ccsim.csta.connection import ConnectionClosed, LocalProtocolError
from ccsim.events import Command, Event, TimerKey
from ccsim.live.binding import (
    Action,
    AgentInfo,
    ArmTimer,
    Binding,
    DisarmTimer,
    Send,
    SupervisorError,
    event_from_json,
    event_to_json,
)
from ccsim.live.calllog import CallLog, load_roster, save_roster_entry
from ccsim.live.kpis import KpiTracker
from ccsim.live.link import CstaClient, CstaError, CstaLink, LinkClosedError
from ccsim.routing.registry import BUILTIN_POLICIES
from ccsim.scenario import Scenario, resolve_policy

__all__ = [
    "LiveACD",
    "SupervisorError",
    "SupervisorResult",
    "live_acd",
    "live_config",
    "read_recording",
    "roster",
    "routing_devices",
]

log = logging.getLogger("ccsim.live.acd")


def live_config(scenario: Scenario) -> ACDConfig:
    """The scenario's ACD configuration with wrap-up ended by the switch, not a timer."""
    cfg = scenario.acd_config()
    return dataclasses.replace(
        cfg,
        wrap_up={s: (math.inf if v > 0 else 0.0) for s, v in cfg.wrap_up.items()},
        default_wrap_up=math.inf if cfg.default_wrap_up > 0 else 0.0,
    )


def live_acd(scenario: Scenario, *, seed: int = 0) -> ACD:
    """The scenario's ACD for live use: ``live_config`` and the scenario's policies.

    Policies are resolved as the simulation resolves them; a random policy
    without a ``random_state`` gets a generator seeded with ``seed``.
    """
    specs = scenario.policies
    slots = {
        "agent_selector": specs.agent_selector,
        "call_selector": specs.call_selector,
        "discipline": specs.queue_discipline,
        "ewt": specs.ewt,
    }
    policies: dict[str, Any] = {}
    for slot, spec in slots.items():
        if spec is not None:
            policy = resolve_policy(spec, BUILTIN_POLICIES, where=f"policies.{slot}")
            params: dict[str, Any] = getattr(policy, "get_params", dict)()
            if "random_state" in params and params["random_state"] is None:
                policy.set_params(random_state=np.random.default_rng(seed))
            policies[slot] = policy
    return ACD(live_config(scenario), **policies)


def roster(scenario: Scenario) -> list[AgentInfo]:
    """Every agent of the scenario with its station (the agent id) and skills."""
    return [
        AgentInfo(agent_id=a, station=a, skills=dict(g.skills))
        for g in scenario.agent_groups
        for a in g.agent_ids()
    ]


def routing_devices(scenario: Scenario) -> dict[str, str]:
    """Routing point devices -> the service of their calls (the emulator's numbering)."""
    out: dict[str, str] = {rp.name: "" for rp in scenario.routing_points}
    for s in scenario.services:
        if s.routing_point is not None and not out.get(s.routing_point):
            out[s.routing_point] = s.name
        elif s.routing_point is None and s.reaches_agents and s.name not in out:
            out[s.name] = s.name
    return {rp: svc or rp for rp, svc in out.items()}


def read_recording(path: str | Path) -> Iterator[Event]:
    """The events of a recording written by ``LiveACD(record=...)``."""
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield event_from_json(json.loads(line))
                except (ValueError, TypeError) as exc:
                    raise ValueError(f"{path}:{n}: {exc}") from None


@dataclass(frozen=True, slots=True)
class SupervisorResult:
    """What a supervisor function did.

    ``call_id``: the call monitored, barged into or intercepted; ``state``: the
    agent's state in the ACD afterwards; ``pending``: the state that applies when
    the agent's current call ends (a forced not-ready or logout of a busy agent).
    """

    function: str
    agent_id: str
    supervisor: str
    call_id: str | None = None
    state: str | None = None
    pending: str | None = None


class LiveACD:
    """The scenario's ACD attached to the switch at ``host:port``.

    ``speed``/``start`` define the clock (see the module docstring) unless
    ``clock`` is given. ``record``: a JSON-lines file of the accepted events;
    ``on_record``: a callback with each accepted event and its commands.
    ``acd``: an ACD to use (default: a new one from ``live_config``).
    ``db``: the call log's database URL (e.g. ``sqlite:///acd.sqlite``; none: no log).
    """

    def __init__(
        self,
        scenario: Scenario,
        host: str,
        port: int,
        *,
        speed: float = 1.0,
        start: float = 0.0,
        clock: Callable[[], float] | None = None,
        record: str | Path | None = None,
        on_record: Callable[[Event, list[Command]], None] | None = None,
        acd: ACD | None = None,
        reconnect: bool = True,
        db: str | None = None,
        db_flush_interval: float = 1.0,
    ) -> None:
        if not speed > 0 or not math.isfinite(speed):
            raise ValueError(f"speed must be a finite number > 0, got {speed!r}")
        self.scenario = scenario
        self.host, self.port = host, port
        self.speed = float(speed)
        self.start_time = float(start)
        self._wall0 = time.monotonic()
        self.clock: Callable[[], float] = clock or self._wall_clock
        self.acd = acd or live_acd(scenario)
        self.devices = routing_devices(scenario)
        priorities = {s.name: s.priority for s in scenario.services}
        self._record_file: IO[str] | None = (
            # line-buffered: a crash loses at most the event being written
            open(record, "w", encoding="utf-8", buffering=1)  # noqa: SIM115
            if record is not None
            else None
        )
        self._on_record = on_record
        self.call_log: CallLog | None = None
        if db is not None:
            try:
                self.call_log = CallLog(
                    db,
                    self.acd,
                    call_info=self._call_info,
                    # reached only through the IVR: every call of theirs came from it
                    ivr_services=[
                        s.name
                        for s in scenario.services
                        if s.reaches_agents and s.arrivals is None and scenario.ivr is not None
                    ],
                    scenario=scenario.name,
                    flush_interval=db_flush_interval,
                )
            except Exception:
                if self._record_file is not None:
                    self._record_file.close()
                raise
        agents = roster(scenario)
        if self.call_log is not None:
            agents = self._stored_roster(agents)
        self.binding = Binding(
            self.acd,
            agents,
            route_services=self.devices,
            priorities=priorities,
            record=self._record,
        )
        self.reconnect = reconnect
        self.client: CstaClient | None = None
        self._timers: dict[TimerKey, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._reader: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()
        self.connections = 0
        #: supervisors' stations monitored so the ACD sees the end of calls they joined
        self.supervisor_stations: set[str] = set()
        #: the switch's last ECMA-269 SystemStatus, and how many resyncs were done
        self.switch_status = "unknown"
        self.resyncs = 0
        #: station -> monitor cross-reference id of its device monitor (for MonitorStop)
        self._monitors: dict[str, str] = {}
        #: routeing messages held while a resync runs (answered right after it)
        self._held: list[m.Message] = []
        #: live KPIs per service (today, last 15 minutes) for the API's wallboard
        self.kpis = KpiTracker.from_scenario(scenario)
        #: more callbacks with each accepted event and its commands (the API's, tests')
        self.record_listeners: list[Callable[[Event, list[Command]], None]] = []

    # ------------------------------------------------------------------ life cycle

    def _wall_clock(self) -> float:
        return self.start_time + (time.monotonic() - self._wall0) * self.speed

    async def start(self) -> None:
        """Connect, register, monitor, learn the agents; then process messages."""
        self._wall0 = time.monotonic()
        self.client = CstaClient(
            self.host, self.port, on_connect=self._on_connect, reconnect=self.reconnect
        )
        if self.call_log is not None:
            self.call_log.start()
        await self.client.start()
        self._reader = asyncio.create_task(self._read(), name="live-acd")

    async def close(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        if self.client is not None:
            await self.client.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        for task in list(self._tasks):
            task.cancel()
        if self._record_file is not None:
            self._record_file.close()
            self._record_file = None
        if self.call_log is not None:
            await self.call_log.close()
            self.call_log = None

    async def __aenter__(self) -> LiveACD:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _on_connect(self, link: CstaLink) -> None:
        """(Re)connected: session, registration, monitors, agent states, resync; then route.

        Order matters for never losing a call: an ECMA-354 session first (a
        switch that requires one refuses everything else; one that does not
        know it refuses just that), then ``RouteRegister`` so no new call is
        missed, then monitors and ``GetAgentState`` of every station, then
        ``SnapshotDevice`` of every station and routing point for the
        binding's ``resync``. Routeing messages arriving meanwhile are held by
        ``_read`` and handled after the resync, in order, before ``ready``:
        no ``RouteSelect`` goes out on a stale view, and no request is left
        unanswered.
        """
        self.ready.clear()
        self._held = []
        binding = self.binding
        if binding.on_default_routed is None:
            binding.on_default_routed = self._default_routed
            binding.on_foreign_ended = self._foreign_ended
        if self.connections:  # a reconnection: the old dialogues are gone
            self._run(binding.link_lost(self.now()))
        self.connections += 1
        restart = self.connections == 1
        await self._start_session(link)
        await self._system_register(link)
        binding.route_register_req_ids.clear()
        for rp in self.devices:
            try:
                reg = await link.request(m.RouteRegister(routeing_device=DeviceID(rp)))
            except CstaError as exc:
                log.warning("RouteRegister %s refused: %s", rp, exc)
                continue
            assert isinstance(reg, m.RouteRegisterResponse)
            binding.route_register_req_ids[rp] = reg.route_register_req_id
        stations = [a.station for a in binding.agents.values()]
        for station in sorted(self.supervisor_stations):
            try:
                await link.request(m.MonitorStart(device=DeviceID(station)))
            except CstaError as exc:
                log.warning("supervisor station %s: %s", station, exc)

        self._monitors.clear()
        for station in stations:
            try:
                started = await link.request(m.MonitorStart(device=DeviceID(station)))
            except CstaError as exc:
                log.warning("station %s: %s", station, exc)
                continue
            if isinstance(started, m.MonitorStartResponse):
                self._monitors[station] = started.monitor_cross_ref_id
        held = await self._resync(link)
        if restart and self.call_log is not None:
            self.call_log.settle_earlier()
        held += self._release_held()
        self.ready.set()
        log.info(
            "live ACD on %s: %d routing points, %d stations, %d calls held back, %d foreign calls",
            link.peer,
            len(binding.route_register_req_ids),
            len(stations),
            held,
            len(binding.foreign),
        )

    async def _resync(self, link: CstaLink) -> int:
        """Agent states and calls from the switch (GetAgentState, SnapshotDevice); then resync.

        Run with ``ready`` clear, so routeing messages are held meanwhile;
        returns how many held messages it answered (the caller releases later ones).
        """
        binding = self.binding
        stations = [a.station for a in binding.agents.values()]

        async def agent_state(station: str) -> None:
            try:
                state = await link.request(m.GetAgentState(device=DeviceID(station)))
            except CstaError as exc:
                log.warning("station %s: %s", station, exc)
                return
            if isinstance(state, m.GetAgentStateResponse) and state.agent_state_list:
                self._run(binding.on_agent_state(station, state.agent_state_list[0], self.now()))

        await asyncio.gather(*(agent_state(s) for s in stations))

        async def snapshot(device: str) -> tuple[str, list[tuple[str, str]] | None]:
            try:
                snap = await link.request(
                    m.SnapshotDevice(snapshot_object=DeviceID(device)), timeout=self.resync_timeout
                )
            except (CstaError, TimeoutError) as exc:
                # that device's calls are left as the ACD has them
                log.warning("SnapshotDevice %s refused: %s", device, exc or "no answer")
                return device, None
            if not isinstance(snap, m.SnapshotDeviceResponse):
                return device, None
            return device, [
                (item.connection_identifier.call_id or "", item.local_call_state or "")
                for item in snap.snapshot_data
            ]

        snapshots = dict(await asyncio.gather(*(snapshot(d) for d in [*stations, *self.devices])))
        routing = self._waiting_routes()
        try:
            self._run(binding.resync(snapshots, self.now(), routing=routing))
        except Exception:  # a resync that fails must not stop routing for good
            log.exception("resync failed")
        self.resyncs += 1
        return self._release_held()

    def _release_held(self) -> int:
        """Answer the routeing messages held during a resync, in the order they came."""
        held, self._held = self._held, []
        for msg in held:
            self._handle(msg)
        return len(held)

    async def _system_register(self, link: CstaLink) -> None:
        """Ask for the switch's status reports (``SystemRegister``); not every switch has them."""
        try:
            await link.request(m.SystemRegister())
        except (CstaError, TimeoutError) as exc:
            log.info("no system status registration on %s: %s", link.peer, exc or "no answer")

    #: ECMA-269 statuses after which the switch's view must be read again
    _TROUBLE = frozenset({"messagesLost", "disabled", "partiallyDisabled", "initializing"})

    def _system_status(self, status: str) -> None:
        """A ``SystemStatus`` from the switch: resynchronise after lost messages or a restart.

        ``messagesLost`` means events may be missing, so the ACD's view of
        agents and calls can be wrong; a switch back to ``normal``/``enabled``
        after being disabled or initialising may have dropped calls. Either
        way the ACD reads agent states and calls again (holding route requests
        meanwhile) without dropping the link.
        """
        previous, self.switch_status = self.switch_status, status
        if status != "messagesLost" and not (
            status in ("normal", "enabled") and previous in self._TROUBLE
        ):
            return
        client = self.client
        if client is None or client.link is None or not self.ready.is_set():
            return  # a (re)connection's own resync is under way or due
        log.warning("switch reports %s: resynchronising", status)
        self.ready.clear()
        link = client.link

        async def run() -> None:
            try:
                await self._resync(link)
            except (CstaError, LinkClosedError, OSError) as exc:
                log.warning("resync after %s failed: %s", status, exc)
            finally:
                self._release_held()
                self.ready.set()

        task = asyncio.get_running_loop().create_task(run(), name="live-acd-resync")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ supervisor

    async def monitor(self, supervisor_station: str, agent_id: str) -> SupervisorResult:
        """Silent monitor: the supervisor's station joins the agent's call, unheard."""
        return await self._supervise(ev.Monitor, agent_id, supervisor_station, station=True)

    async def barge_in(self, supervisor_station: str, agent_id: str) -> SupervisorResult:
        """Barge-in: the supervisor's station joins the agent's call as a party."""
        return await self._supervise(ev.BargeIn, agent_id, supervisor_station, station=True)

    async def intercept(self, supervisor_station: str, agent_id: str) -> SupervisorResult:
        """Take over: the supervisor joins the call and the agent's connection is cleared."""
        return await self._supervise(ev.Intercept, agent_id, supervisor_station, station=True)

    async def force_ready(self, agent_id: str, supervisor: str) -> SupervisorResult:
        """Force the agent ready (ends wrap-up or a pause); the ACD may deliver at once."""
        return await self._supervise(ev.ForceReady, agent_id, supervisor)

    async def force_not_ready(
        self, agent_id: str, supervisor: str, reason: str = "forced"
    ) -> SupervisorResult:
        """Force the agent not ready with ``reason`` (pending while on a call)."""
        return await self._supervise(ev.ForceNotReady, agent_id, supervisor, reason=reason)

    async def force_logout(self, agent_id: str, supervisor: str) -> SupervisorResult:
        """Log the agent off (pending while on a call: applies when it ends)."""
        return await self._supervise(ev.ForceLogout, agent_id, supervisor)

    async def _supervise(
        self,
        kind: type[ev.SupervisorEvent],
        agent_id: str,
        supervisor: str,
        *,
        station: bool = False,
        **fields: Any,
    ) -> SupervisorResult:
        """Feed one supervisor event and carry out its commands, in order, awaiting each.

        The first request the switch refuses stops the rest (an intercept whose
        conference fails does not clear the agent's connection) and raises; the
        ACD has then already taken the request, and the error says so.
        """
        name = kind.__name__
        client = self.client
        if client is None or not self.ready.is_set():
            raise SupervisorError(f"{name}: not connected to the switch")
        if not supervisor.strip():
            raise SupervisorError(f"{name}: the supervisor must be named (audit)")
        try:
            event = kind(at=self.now(), agent_id=agent_id, supervisor=supervisor, **fields)
        except (ValueError, TypeError) as exc:
            raise SupervisorError(f"{name}: {exc}") from None
        if station and supervisor not in self.supervisor_stations:
            if all(a.station != supervisor for a in self.binding.agents.values()):
                try:
                    await client.request(m.MonitorStart(device=DeviceID(supervisor)))
                except (CstaError, LinkClosedError, TimeoutError, OSError) as exc:
                    raise SupervisorError(
                        f"{name}: supervisor station {supervisor!r}: {exc}"
                    ) from None
            self.supervisor_stations.add(supervisor)
        commands, actions = self.binding.supervise(event)
        for n, action in enumerate(actions):
            if not isinstance(action, Send):
                self._run((action,))
                continue
            try:
                if type(action.message).RESPONSES:
                    await client.request(action.message)
                else:
                    await client.send(action.message)
            except (CstaError, LinkClosedError, LocalProtocolError, TimeoutError, OSError) as exc:
                self._run(self.binding.on_failure(action, str(exc), self.now()))
                self._run([a for a in actions[n + 1 :] if not isinstance(a, Send)])
                took = "" if kind in (ev.Monitor, ev.BargeIn) else "; the ACD already took it"
                raise SupervisorError(
                    f"{name} of agent {agent_id!r}: the switch refused "
                    f"{type(action.message).__name__} ({exc}){took}"
                ) from None
        call_id = next(
            (c.call_id for c in commands if isinstance(c, ev.Conference | ev.Transfer)), None
        )
        pending = next(
            (c.pending for c in commands if isinstance(c, ev.SetAgentState) and c.pending),
            None,
        )
        agent = self.acd.agent(agent_id)
        log.info("%s of agent %s by %s", name, agent_id, supervisor)
        return SupervisorResult(
            function=name,
            agent_id=agent_id,
            supervisor=supervisor,
            call_id=call_id,
            state=agent.state.value,
            pending=pending.value if pending is not None else None,
        )

    # ---- run-time roster (API)

    async def add_agent(
        self, agent_id: str, skills: Mapping[str, int], station: str | None = None
    ) -> AgentInfo:
        """Add an agent to the roster at run time and start watching its station.

        The station (default: the agent id, as in scenarios) gets a device
        monitor and a ``GetAgentState``, exactly as at (re)connection, so an agent
        already logged on at the switch is known to the ACD at once. Raises
        ``ValueError`` for a bad id or skills, ``SupervisorError`` when the agent or
        the station is already in the roster or the switch refuses the station
        (the roster is then left as it was).
        """
        station = agent_id if station is None else station
        info = self._roster_entry(agent_id, station, skills)
        if agent_id in self.binding.agents:
            raise SupervisorError(f"agent {agent_id!r} is already in the roster")
        owner = self.binding.agent_at.get(station)
        if owner is not None or station in self.supervisor_stations:
            raise SupervisorError(
                f"station {station!r} is already in use ({owner or 'supervisor'})"
            )
        client = self.client
        if client is None or not self.ready.is_set():
            raise SupervisorError("not connected to the switch")
        self.binding.add_agent(info)
        try:
            started = await client.request(m.MonitorStart(device=DeviceID(station)))
            if isinstance(started, m.MonitorStartResponse):
                self._monitors[station] = started.monitor_cross_ref_id
            state = await client.request(m.GetAgentState(device=DeviceID(station)))
        except (CstaError, LinkClosedError, LocalProtocolError, TimeoutError, OSError) as exc:
            self.binding.remove_agent(agent_id)
            raise SupervisorError(f"station {station!r}: the switch refused it ({exc})") from None
        if isinstance(state, m.GetAgentStateResponse) and state.agent_state_list:
            self._run(self.binding.on_agent_state(station, state.agent_state_list[0], self.now()))
        self._save_roster(info.agent_id, info.station, info.skills)
        log.info("roster: added agent %s at station %s with %s", agent_id, station, dict(skills))
        return info

    def set_skills(self, agent_id: str, skills: Mapping[str, int]) -> AgentInfo:
        """Replace an agent's skills: in the roster (the next logon) and, if logged on, in the ACD.

        A logged-on agent's change is ``AgentSkillsChanged`` (recorded like any
        event; a READY agent may be offered a waiting call of a new skill at once).
        Raises ``KeyError`` for an agent not in the roster, ``ValueError`` for
        unknown skills or levels outside 1..16; nothing changes then.
        """
        old = self.binding.agents.get(agent_id)
        if old is None:
            raise KeyError(agent_id)
        info = self._roster_entry(agent_id, old.station, skills)
        if self.binding.logged_on(agent_id):
            rejected = self.binding.stats.rejected
            event = ev.AgentSkillsChanged(at=self.now(), agent_id=agent_id, skills=info.skills)
            self._run(self.binding.feed(event))
            if self.binding.stats.rejected != rejected:
                raise ValueError(f"the ACD refused the change: {self.binding.stats.errors[-1]}")
        self.binding.agents[agent_id] = info
        self._save_roster(agent_id, info.station, info.skills)
        log.info("roster: agent %s skills now %s", agent_id, dict(info.skills))
        return info

    def remove_agent(self, agent_id: str) -> AgentInfo:
        """Remove a logged-off agent from the roster (its station's events are then ignored).

        Raises ``KeyError`` for an agent not in the roster and ``SupervisorError``
        while the agent is logged on (log them off first: ``force_logout``).
        """
        info = self.binding.agents.get(agent_id)
        if info is None:
            raise KeyError(agent_id)
        if self.binding.logged_on(agent_id):
            raise SupervisorError(f"agent {agent_id!r} is logged on: log them off first")
        self.binding.remove_agent(agent_id)
        self._save_roster(agent_id, info.station, None)
        xref = self._monitors.pop(info.station, None)
        if xref is not None and self.client is not None:  # stop watching the station
            self._run((Send(m.MonitorStop(monitor_cross_ref_id=xref), purpose="roster"),))
        log.info("roster: removed agent %s", agent_id)
        return info

    def _save_roster(self, agent_id: str, station: str, skills: Mapping[str, int] | None) -> None:
        """Keep a run-time roster change in the call log so a restart starts from it."""
        if self.call_log is None:
            return
        try:  # a rare, small write: done at once so the change is durable when answered
            save_roster_entry(self.call_log, agent_id, station, skills)
        except Exception:  # the change stands in memory; the log must not undo it
            log.exception("roster change of %s not stored in the call log", agent_id)

    def _stored_roster(self, agents: list[AgentInfo]) -> list[AgentInfo]:
        """The scenario's roster with the run-time changes stored by an earlier run.

        An entry that no longer fits the scenario (a skill it dropped, a station
        another agent has) is skipped with a warning rather than stopping the ACD.
        """
        assert self.call_log is not None
        by_id = {a.agent_id: a for a in agents}
        known = set(self.acd.config.queues)
        for agent_id, entry in load_roster(self.call_log).items():
            if entry is None:
                by_id.pop(agent_id, None)
                continue
            station, skills = entry
            taken = {a.station for a in by_id.values() if a.agent_id != agent_id}
            if not skills or not set(skills) <= known or station in taken:
                log.warning("stored roster entry of %s no longer fits the scenario", agent_id)
                continue
            by_id[agent_id] = AgentInfo(agent_id=agent_id, station=station, skills=skills)
        return list(by_id.values())

    def _roster_entry(self, agent_id: str, station: str, skills: Mapping[str, int]) -> AgentInfo:
        """A checked roster entry: ids non-empty, skills known to the ACD, levels 1..16."""
        for name, value in (("agent id", agent_id), ("station", station)):
            if not isinstance(value, str) or not value.strip() or len(value) > 64:
                raise ValueError(f"{name} must be a non-empty string of at most 64 characters")
            if not value.isprintable():
                raise ValueError(f"{name} must be printable, got {value!r}")
        if not isinstance(skills, Mapping) or not skills:
            raise ValueError("skills must be a non-empty mapping of skill -> level 1..16")
        unknown = sorted(set(skills) - set(self.acd.config.queues))
        if unknown:
            raise ValueError(f"unknown skills {unknown} (known: {sorted(self.acd.config.queues)})")
        # the event's own check (levels 1..16, names) so the roster never holds what
        # the ACD would refuse at logon
        checked = ev.AgentSkillsChanged(at=0.0, agent_id=agent_id, skills=skills).skills
        return AgentInfo(agent_id=agent_id, station=station, skills=dict(checked))

    # ------------------------------------------------------------------ the loop

    def now(self) -> float:
        """ACD time now (never before the ACD's own clock)."""
        return max(self.clock(), self.acd.now)

    #: application session asked of switches that support ECMA-354 (wall seconds)
    session_duration: int = 60
    #: wall seconds to wait for StartApplicationSession and SnapshotDevice answers
    #: (a switch that ignores what it does not support must not stall the start)
    resync_timeout: float = 5.0
    #: the routeing dialogue: held back while the ACD resynchronises
    _ROUTEING = (m.RouteRequest, m.ReRoute, m.RouteEnd)

    async def _start_session(self, link: CstaLink) -> None:
        """Start an ECMA-354 application session; a switch that refuses gets none.

        The connection then renews it (``ResetApplicationSessionTimer`` at half
        the granted duration) and the client stops it on close.
        """
        try:
            started = await link.request(
                m.StartApplicationSession(
                    application_id="ccsim-acd",
                    requested_session_duration=self.session_duration,
                ),
                timeout=self.resync_timeout,
            )
        except (CstaError, TimeoutError) as exc:
            # serviceNotSupported, or a switch that does not answer unknown requests
            log.info("no application session on %s: %s", link.peer, exc or "no answer")
            return
        if isinstance(started, m.StartApplicationSessionPosResponse):
            log.info(
                "application session %s on %s (%s s)",
                started.session_id,
                link.peer,
                started.actual_session_duration,
            )

    def _waiting_routes(self) -> set[str]:
        """Calls with a route request received but not handled yet (held, or still queued).

        Any request the switch sent before the snapshots' answers is among them,
        so a call the snapshot finds queued at a routing point and listed here is
        the ACD's to route, not one the switch routes by default.
        """
        messages = list(self._held)
        if self.client is not None:
            messages += [
                item.message
                for item in self.client.queued()
                if isinstance(item, EventReceived | RequestReceived)
            ]
        return {
            msg.routed_call.call_id or ""
            for msg in messages
            if isinstance(msg, m.RouteRequest) and msg.routed_call is not None
        }

    def _default_routed(
        self, call_id: str, device: str, state: str, at: float, known: bool
    ) -> None:
        """The binding found a call the switch routed by itself: log it (once)."""
        if self.call_log is None or known:
            return  # known: the ACD had it and logged it withdrawn
        station = device in self.binding.agent_at
        self.call_log.default_routed(
            call_id,
            at,
            service=self.devices.get(device, ""),
            routing_point="" if station else device,
            agent_id=self.binding.agent_at.get(device),
        )

    def _foreign_ended(self, call_id: str, at: float) -> None:
        if self.call_log is not None:
            self.call_log.foreign_ended(call_id, at)

    async def _read(self) -> None:
        assert self.client is not None
        client = self.client
        async for item in client.events():
            if isinstance(item, EventReceived | RequestReceived):
                msg = item.message
                if isinstance(msg, m.SystemStatus):
                    self._system_status(msg.system_status)
                    continue
                if not self.ready.is_set() and isinstance(msg, self._ROUTEING):
                    self._held.append(msg)  # answered once the resync is done
                    continue
                actions = self._handle(msg, run=False)
                if not actions:
                    continue
                if all(not isinstance(a, Send) or not type(a.message).RESPONSES for a in actions):
                    # the common case (RouteSelect, timers): written here, in order, no task
                    for action in actions:
                        if isinstance(action, Send):
                            await self._send(action)
                        else:
                            self._run((action,))
                else:
                    self._run(actions)
            elif isinstance(item, ConnectionClosed) and not client.closing:
                # the switch takes back the calls not yet answered now, not at reconnection
                self.ready.clear()
                try:
                    self._run(self.binding.link_lost(self.now()))
                except Exception:
                    log.exception("link loss handling failed")

    def _handle(self, msg: m.Message, *, run: bool = True) -> list[Action]:
        """One message from the switch through the binding; bad input is logged, survived."""
        try:
            actions = self.binding.on_message(msg, self.now())
        except Exception:  # bad input must never stop the router
            log.exception("binding failed on %s", type(msg).__name__)
            return []
        if run:
            self._run(actions)
            return []
        return actions

    def _run(self, actions: Sequence[Action]) -> None:
        """Carry out the binding's actions, in order."""
        loop = asyncio.get_running_loop()
        for action in actions:
            if isinstance(action, Send):
                task = loop.create_task(self._send(action))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            elif isinstance(action, ArmTimer):
                old = self._timers.pop(action.key, None)
                if old is not None:
                    old.cancel()
                delay = max(0.0, (action.at - self.clock()) / self.speed)
                self._timers[action.key] = loop.call_later(delay, self._fire, action.key, action.at)
            elif isinstance(action, DisarmTimer):
                handle = self._timers.pop(action.key, None)
                if handle is not None:
                    handle.cancel()

    def _fire(self, key: TimerKey, at: float) -> None:
        self._timers.pop(key, None)
        try:
            actions = self.binding.on_timer(key, max(at, self.now()))
        except Exception:
            log.exception("timer %s failed", key)
            return
        self._run(actions)

    async def _send(self, action: Send) -> None:
        assert self.client is not None
        msg = action.message
        try:
            if type(msg).RESPONSES:
                await self.client.request(msg)
            else:
                await self.client.send(msg)
        except (CstaError, LinkClosedError, LocalProtocolError, TimeoutError, OSError) as exc:
            self._run(self.binding.on_failure(action, str(exc), self.now()))

    def _call_info(self, call_id: str) -> tuple[str, str] | None:
        call = self.binding.calls.get(call_id)
        return (call.rp, call.caller) if call is not None else None

    def _record(self, event: Event, commands: list[Command]) -> None:
        if self.call_log is not None:
            try:
                self.call_log.record(event, commands)
            except Exception:  # the log must never stop the router
                log.exception("call log failed on %s", type(event).__name__)
        if self._record_file is not None:
            self._record_file.write(json.dumps(event_to_json(event), ensure_ascii=False) + "\n")
        if self._on_record is not None:
            self._on_record(event, commands)
        try:
            self.kpis.record(event, commands)
            for listener in self.record_listeners:
                listener(event, commands)
        except Exception:  # a wallboard must never stop the router
            log.exception("record listener failed on %s", type(event).__name__)

    def flush(self) -> None:
        if self._record_file is not None:
            self._record_file.flush()

    def status(self) -> dict[str, Any]:
        """Counters and the ACD's snapshot summary (for logs and the command line)."""
        s = self.binding.stats
        return {
            "route_requests": s.route_requests,
            "events_fed": s.fed,
            "rejected": s.rejected,
            "ignored": s.ignored,
            "requests_sent": s.sent,
            "failures": s.failures,
            "default_routed": s.default_routed,
            "withdrawn": s.withdrawn,
            "foreign": s.foreign,
            "services": {k: dict(v) for k, v in self.acd.snapshot()["services"].items()},
        }
