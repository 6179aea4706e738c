"""The emulated switch: a SimPy model of a scenario's center that reports in CSTA.

Devices (numbering documented in ``docs/emulator.md``):

* **agent stations** - one per agent, numbered by the agent id (the scenario's
  ``stations`` / ``first_station``, else ``<group>-001`` ...);
* **routing points** (VDNs) - one per scenario routing point, numbered by its
  name, plus one per service that reaches agents without one (named after the
  service, queueing to the skill of that name);
* **IVR ports** ``ivr-001`` ... and **trunks** ``trunk-001`` ... when the
  scenario has them; **plain stations** (supervisors, test phones), by default
  ``9001`` ... ``9010``; and **external numbers**: any other all-digit number
  (callers are ``139`` + 8 digits).

Calls are sets of connections (device -> ``alerting`` / ``connected`` /
``hold`` / ``queued`` / ``initiated`` / ``fail``). Every event about a call goes
to the monitors of every device in the call (ECMA-269 device monitoring) and to
the call's own monitors, with the same ``callID`` throughout the call's life.

Distribution: a call reaching a routing point is offered to the client
registered as its router (RouteRequest, held queued until RouteSelect); with no
router, a router that does not answer within ``route_timeout`` simulated
seconds, or one that ends the dialogue, the switch distributes it itself - a
hunt group per skill, longest-idle agent first, FCFS (priority first) queue.
That makes ``single_skill`` an M/M/N(+M) queue, comparable with
``ccsim.simulate``.

Simulated agents behave like people at their phones (shifts, breaks, ring time,
talk, wrap-up); clients act through CSTA services, which this module executes
(each raises :class:`ServiceError` with the ECMA-269 error when it must refuse).
Nothing here touches a socket: events leave through each monitor's ``peer``.
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import itertools
import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import simpy

from ccsim.csta import messages as m
from ccsim.csta.messages import ConnectionID, DeviceID
from ccsim.pbx.streams import Streams
from ccsim.scenario import (
    Scenario,
)

__all__ = [
    "DAY",
    "AgentStation",
    "Call",
    "Device",
    "Peer",
    "ServiceError",
    "Switch",
    "SwitchOptions",
]

DAY = 86_400.0

# ECMA-269 agent states as reported by GetAgentState
LOGGED_OFF = "agentNull"
NOT_READY = "agentNotReady"
READY = "agentReady"
BUSY = "agentBusy"
WORK = "agentWorkingAfterCall"
_STATE_OF_REQUEST = {
    "notReady": NOT_READY,
    "ready": READY,
    "loggedOff": LOGGED_OFF,
    "workingAfterCall": WORK,
}
_REQUEST_OF_STATE = {v: k for k, v in _STATE_OF_REQUEST.items()}


class ServiceError(Exception):
    """A service request the switch refuses; ``response`` is the CSTAErrorCode to send."""

    def __init__(self, category: str, value: str) -> None:
        super().__init__(f"{category}/{value}")
        self.response = m.CSTAErrorCode.of(category, value)


class Peer(Protocol):
    """Where a monitor's events or a router's dialogue messages go (a client session)."""

    def emit(self, message: m.Message) -> None: ...


@dataclass(slots=True)
class Monitor:
    xref: str
    peer: Peer
    device: str | None = None
    call: str | None = None


@dataclass(slots=True)
class Registration:
    req_id: str
    peer: Peer
    device: str | None  # None: every routing point


@dataclass(slots=True)
class Dialogue:
    """An open routeing dialogue for one call at one routing point."""

    xref: str
    reg: Registration
    call: Call
    rp: str
    timer: int = 0  # generation of the reply timer; a stale timer does nothing
    route_used: bool = False


@dataclass(slots=True, eq=False)
class Device:
    id: str
    kind: str  # agent | station | vdn | ivr | trunk | external
    monitors: list[Monitor] = field(default_factory=list)
    calls: dict[str, Call] = field(default_factory=dict)
    skill: str | None = None  # routing points: the hunt-group skill
    service: str | None = None  # routing points: the service of calls dialled to it

    @property
    def did(self) -> DeviceID:
        return DeviceID(self.id)


@dataclass(slots=True, eq=False)
class AgentStation(Device):
    """A station with an agent position: agent state plus the simulated person."""

    agent_id: str = ""
    group: str = ""
    skills: dict[str, int] = field(default_factory=dict)
    no_answer: float = 0.0
    state: str = LOGGED_OFF
    reason: str = ""
    pending: str | None = None
    pending_reason: str = ""
    idle_since: float = 0.0
    acd_call: Call | None = None  # the distributed call it rings with or talks on
    wrap_gen: int = 0  # generation of the wrap-up timer
    state_before: str = READY  # what a non-ACD call returns the agent to
    reason_before: str = ""


@dataclass(slots=True, eq=False)
class Call:
    id: str
    calling: str
    called: str
    arrived: float = 0.0  # simulated time the call was created
    entry: int = -1  # the service dialled (index), for redials
    conns: dict[str, str] = field(default_factory=dict)
    monitors: list[Monitor] = field(default_factory=list)
    service: int = -1  # index in scenario.services, -1: not an ACD call
    rp: str | None = None  # routing point while distributed
    rec: list[Any] | None = None  # KPI row, once offered at a routing point
    dialogue: Dialogue | None = None
    queued_skill: str | None = None
    queue_seq: int = 0
    priority: int = 0
    ringing: str | None = None  # station it rings at (distribution)
    ring_gen: int = 0
    talker: str | None = None  # device that ends the conversation when talk time is up
    talk: float = 0.0  # drawn handle time
    answered: bool = False
    ended: bool = False
    trunk: str | None = None
    silent: set[str] = field(default_factory=set)
    internal: bool = False  # the router gave up: distributed by the switch
    consult_of: Call | None = None  # a consultation call's held original
    last_redirection: str | None = None
    route_requests: int = 0  # RouteRequests sent for it (0: only the switch routed it)


@dataclass
class SwitchOptions:
    """Behaviour knobs of the emulated switch (all times in simulated seconds)."""

    ring_time: float = 3.0  # simulated agents answer after this long
    route_timeout: float = 30.0  # router reply timeout; 0: wait forever
    rona_recovery: float = 60.0  # an agent made not ready by RONA is ready again after
    #: ring-no-answer for calls a router placed: None = the scenario's ring_timeout, then
    #: ReRoute; 0 = ring until the router acts (DeflectCall), as an ACD doing its own RONA wants
    routed_ring_timeout: float | None = None
    plain_stations: tuple[str, ...] = tuple(str(9001 + i) for i in range(10))
    external_answer_probability: float = 0.8
    external_answer_delay: float = 8.0  # mean, exponential
    external_no_answer_timeout: float = 30.0
    start: float = 0.0  # simulated time at which the emulator starts (e.g. 8 h)
    horizon: float = math.inf  # arrivals stop here
    arrivals: tuple[tuple[float, str], ...] | None = None  # a fixed trace instead of sampling
    record: bool = True  # keep a KPI row per call (``Switch.kpis``); off for endless runs
    #: ECMA-354: refuse every request but StartApplicationSession / SystemStatus until a
    #: session is started (``operation/securityViolation``)
    require_session: bool = False
    #: session duration granted (wall seconds): a client asking less gets what it asks;
    #: a session not renewed by ResetApplicationSessionTimer in time expires
    session_duration: int = 180


class _Draws:
    """Block draws from one scenario distribution (one numpy call per 256 values)."""

    __slots__ = ("buf", "dist", "i", "rng")

    def __init__(self, dist: Any, rng: np.random.Generator) -> None:
        self.dist, self.rng = dist, rng
        self.buf: list[float] = []
        self.i = 0

    def __call__(self) -> float:
        if self.i >= len(self.buf):
            self.buf = self.dist.sample(self.rng, 256).tolist()
            self.i = 0
        self.i += 1
        return float(self.buf[self.i - 1])


class Switch:
    """The emulated PBX on a SimPy environment (see the module docstring)."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        env: simpy.Environment,
        streams: Streams,
        options: SwitchOptions | None = None,
    ) -> None:
        self.scenario = scenario
        self.env = env
        self.streams = streams
        self.opt = options or SwitchOptions()
        self.devices: dict[str, Device] = {}
        self.calls: dict[str, Call] = {}
        self.monitors: dict[str, Monitor] = {}
        self.registrations: dict[str, Registration] = {}
        self.dialogues: dict[str, Dialogue] = {}
        self.events_out = 0
        self._ids = itertools.count(1)
        self._call_ids = itertools.count(1)
        self._xrefs = itertools.count(1)
        self._customers = itertools.count(1)
        self._seq = itertools.count()
        self._svc = list(scenario.services)
        self._svc_index = {s.name: i for i, s in enumerate(self._svc)}
        self._ring_timeout = scenario.timing.ring_timeout
        self._rona_boost = scenario.timing.rona_priority_boost
        st = streams
        self._draw_aht = [
            _Draws(s.aht, st.service) if s.aht is not None else None for s in self._svc
        ]
        self._draw_patience = [_Draws(s.patience, st.patience) for s in self._svc]
        wrap0 = scenario.timing.wrap_up
        self._draw_wrap = [
            _Draws(s.wrap_up if s.wrap_up is not None else wrap0, st.service) for s in self._svc
        ]
        self._default_wrap = _Draws(wrap0, st.service)
        self._sl = [(s.service_level or scenario.service_level).seconds for s in self._svc]
        # hunt groups: skill -> idle agents in idle order, skill -> heap of waiting calls
        self.idle: dict[str, dict[str, AgentStation]] = {s.name: {} for s in scenario.skills}
        self.queues: dict[str, list[tuple[int, float, int, Call]]] = {
            s.name: [] for s in scenario.skills
        }
        # KPI rows (calls reaching a routing point): arrival, offered, answered, end, outcome
        self.records: list[list[Any]] = []
        self._build_devices()

    # ------------------------------------------------------------------ devices

    def _add(self, dev: Device) -> None:
        if dev.id in self.devices:
            raise ValueError(f"device number {dev.id!r} is used twice")
        self.devices[dev.id] = dev

    def _build_devices(self) -> None:
        sc = self.scenario
        for g in sc.agent_groups:
            for a in g.agent_ids():
                self._add(
                    AgentStation(
                        id=a,
                        kind="agent",
                        agent_id=a,
                        group=g.name,
                        skills=dict(g.skills),
                        no_answer=g.no_answer_probability,
                    )
                )
        for rp in sc.routing_points:
            self._add(Device(id=rp.name, kind="vdn", skill=rp.primary_skill()))
        for s in self._svc:
            if s.reaches_agents and s.routing_point is None and s.name not in self.devices:
                self._add(Device(id=s.name, kind="vdn", skill=s.name, service=s.name))
        for s in self._svc:
            if s.routing_point is not None:
                dev = self.devices[s.routing_point]
                if dev.service is None:
                    dev.service = s.name
        if sc.ivr is not None:
            for k in range(sc.ivr.ports):
                self._add(Device(id=f"ivr-{k + 1:03d}", kind="ivr"))
        if sc.trunks is not None:
            for k in range(sc.trunks.count):
                self._add(Device(id=f"trunk-{k + 1:03d}", kind="trunk"))
        for st in self.opt.plain_stations:
            if st not in self.devices:
                self._add(Device(id=st, kind="station"))
        self._free_ivr = deque(d.id for d in self.devices.values() if d.kind == "ivr")
        self._free_trunks = deque(d.id for d in self.devices.values() if d.kind == "trunk")

    def device(self, number: str, *, external: bool = True) -> Device:
        """The device for a number; unknown all-digit numbers are external parties."""
        dev = self.devices.get(number)
        if dev is not None:
            return dev
        if external and number.isdigit() and len(number) >= 5:
            return Device(id=number, kind="external")
        raise ServiceError("operation", "invalidDeviceID")

    def agents(self) -> Iterator[AgentStation]:
        for dev in self.devices.values():
            if isinstance(dev, AgentStation):
                yield dev

    # ------------------------------------------------------------------ time helpers

    def at(self, delay: float, fn: Callable[[], object]) -> None:
        """Call ``fn`` after ``delay`` simulated seconds."""
        ev = self.env.timeout(max(0.0, delay))

        def fire(_e: object) -> None:
            fn()

        ev.callbacks.append(fire)

    @property
    def now(self) -> float:
        return float(self.env.now)

    # ------------------------------------------------------------------ start-up

    def start(self) -> None:
        """Schedule shifts and arrivals (day by day, from ``options.start``)."""
        start = self.opt.start
        day0 = math.floor(start / DAY)
        for g in self.scenario.agent_groups:
            if not g.shifts:  # on duty all the time
                for a in g.agent_ids():
                    self._log_on_at(a, start)
        self._schedule_shifts(day0 - 1, start)  # a night shift still on duty at the start
        self._plan_day(day0)
        self._schedule_supervisor(start)
        if self.opt.arrivals is not None:
            for t, name in self.opt.arrivals:
                if name not in self._svc_index:
                    raise ValueError(f"arrivals: unknown service {name!r}")
                self.at(t - self.now, functools.partial(self.arrive, name))

    def _plan_day(self, day: int) -> None:
        """Schedule one day's shifts and arrivals, and the planning of the next day."""
        base = day * DAY
        if base >= self.opt.horizon:
            return
        start = self.opt.start
        self._schedule_shifts(day, start)
        if self.opt.arrivals is None:
            self._schedule_arrivals(day, start)
        self.at(base + DAY - self.now, lambda: self._plan_day(day + 1))

    def _schedule_shifts(self, day: int, start: float) -> None:
        base = day * DAY
        for g in self.scenario.agent_groups:
            ids = g.agent_ids()
            first = 0
            for shift in g.shifts:
                n = shift.agents if shift.agents is not None else len(ids)
                members = ids[first : first + n] if shift.agents is not None else ids
                if shift.agents is not None:
                    first += n
                if base + shift.end <= start:
                    continue
                for k, a in enumerate(members):
                    self._log_on_at(a, max(start, base + shift.start))
                    for b0, b1, reason in shift.break_windows(k):
                        if base + b1 <= start:
                            continue
                        self.at(base + b0 - self.now, self._break(a, reason))
                        self.at(base + b1 - self.now, self._break_end(a, reason))
                    self.at(base + shift.end - self.now, self._shift_end(a))

    def _schedule_supervisor(self, start: float) -> None:
        """The scenario's scripted supervisor actions, as forced agent-state changes."""
        requested = {
            "force_ready": "ready",
            "force_not_ready": "notReady",
            "force_logout": "loggedOff",
        }
        for act in self.scenario.supervisor:
            if act.at < start:
                continue
            if act.agent is not None:
                targets: tuple[str, ...] = (act.agent,)
            else:
                targets = self.scenario.agent_group(act.group or "").agent_ids()
            state = requested[act.action]
            reason = act.reason if act.action == "force_not_ready" else ""
            for agent in targets:

                def fire(agent: str = agent, state: str = state, reason: str = reason) -> None:
                    # forcing a logged-off agent ready, say, does nothing
                    with contextlib.suppress(ServiceError):
                        self.set_agent_state(DeviceID(agent), state, reason)

                self.at(act.at - self.now, fire)

    def _log_on_at(self, agent: str, t: float) -> None:
        station = self.devices[agent]
        assert isinstance(station, AgentStation)

        def fire() -> None:
            if station.state == LOGGED_OFF:
                self.set_agent(station, READY)

        self.at(t - self.now, fire)

    def _break(self, agent: str, reason: str) -> Callable[[], None]:
        def fire() -> None:
            st = self.devices[agent]
            assert isinstance(st, AgentStation)
            if st.state == READY:
                self.set_agent(st, NOT_READY, reason=reason)
            elif st.state in (BUSY, WORK) and st.pending is None:
                st.pending, st.pending_reason = NOT_READY, reason

        return fire

    def _break_end(self, agent: str, reason: str) -> Callable[[], None]:
        def fire() -> None:
            st = self.devices[agent]
            assert isinstance(st, AgentStation)
            if st.state == NOT_READY and st.reason == reason:
                self.set_agent(st, READY)
            elif st.pending == NOT_READY and st.pending_reason == reason:
                st.pending = None

        return fire

    def _shift_end(self, agent: str) -> Callable[[], None]:
        def fire() -> None:
            st = self.devices[agent]
            assert isinstance(st, AgentStation)
            if st.state in (BUSY,) or (st.state == WORK and st.acd_call is not None):
                st.pending, st.pending_reason = LOGGED_OFF, ""
            elif st.state != LOGGED_OFF:
                self.set_agent(st, LOGGED_OFF)

        return fire

    def _schedule_arrivals(self, day: int, start: float) -> None:
        """Plan one day's arrivals: each service's piecewise-constant Poisson rate.

        Arrival times are drawn lazily, one chunk of at most ~2,000 calls at a
        time, so a busy day never stalls the clock while it is sampled.
        """
        base = day * DAY
        for code, svc in enumerate(self._svc):
            arr = svc.arrivals
            if arr is None:
                continue
            factor = arr.daily_factor(self.streams.daily)
            if arr.calls is None:
                assert arr.rate_per_hour is not None
                segments = [(base, base + DAY, arr.rate_per_hour / 3600.0 * factor)]
            else:
                iv = arr.interval
                segments = [
                    (base + arr.start + k * iv, base + arr.start + (k + 1) * iv, n / iv * factor)
                    for k, n in enumerate(arr.calls)
                ]
            segments = [
                (max(t0, start), min(t1, self.opt.horizon), rate)
                for t0, t1, rate in segments
                if rate > 0 and t1 > start and t0 < self.opt.horizon
            ]
            if segments:
                self._arrival_chunk(code, segments, 0, segments[0][0])

    def _arrival_chunk(
        self, code: int, segments: list[tuple[float, float, float]], k: int, t0: float
    ) -> None:
        """Draw the arrivals of one chunk of segment ``k`` from ``t0``; chain the next."""
        _, seg_end, rate = segments[k]
        t1 = min(seg_end, t0 + min(600.0, max(1.0, 2000.0 / rate)))
        rng = self.streams.arrivals
        n = int(rng.poisson(rate * (t1 - t0)))
        times = sorted((t0 + rng.random(n) * (t1 - t0)).tolist())
        self._arrival_chain(times, code, 0)
        if t1 < seg_end:
            nxt_k, nxt_t = k, t1
        elif k + 1 < len(segments):
            nxt_k, nxt_t = k + 1, segments[k + 1][0]
        else:
            return
        self.at(nxt_t - self.now, lambda: self._arrival_chunk(code, segments, nxt_k, nxt_t))

    def _arrival_chain(self, times: list[float], code: int, i: int) -> None:
        if i >= len(times):
            return

        def fire(_e: object) -> None:
            self.arrive(self._svc[code].name)
            self._arrival_chain(times, code, i + 1)

        self.env.timeout(max(0.0, times[i] - self.now)).callbacks.append(fire)

    # ------------------------------------------------------------------ event output

    def _emit(
        self, call: Call | None, devices: Iterable[str], build: Callable[[str], m.Event]
    ) -> None:
        """Send one event to the monitors of ``devices`` and of ``call``."""
        seen: set[int] = set()
        devs = self.devices
        for d in devices:
            dev = devs.get(d)
            if dev is None:
                continue
            for mon in dev.monitors:
                if id(mon) not in seen:
                    seen.add(id(mon))
                    mon.peer.emit(build(mon.xref))
                    self.events_out += 1
        if call is not None:
            for mon in call.monitors:
                if id(mon) not in seen:
                    seen.add(id(mon))
                    mon.peer.emit(build(mon.xref))
                    self.events_out += 1

    def _watchers(self, call: Call, *extra: str) -> list[str]:
        return [*call.conns, *(e for e in extra if e not in call.conns)]

    def _has_watchers(self, call: Call, *extra: str) -> bool:
        if call.monitors:
            return True
        devs = self.devices
        for d in itertools.chain(call.conns, extra):
            dev = devs.get(d)
            if dev is not None and dev.monitors:
                return True
        return False

    def _agent_event(self, st: AgentStation, kind: type[m.Event], **kw: Any) -> None:
        if not st.monitors:
            return
        for mon in list(st.monitors):
            mon.peer.emit(
                kind(  # type: ignore[call-arg]
                    monitor_cross_ref_id=mon.xref,
                    agent_device=st.did,
                    agent_id=st.agent_id,
                    acd_group=DeviceID(st.group),
                    **kw,
                )
            )
            self.events_out += 1

    def _conn(self, call: Call, dev: str) -> ConnectionID:
        return ConnectionID(call.id, DeviceID(dev))

    def _dev(self, number: str | None) -> DeviceID | None:
        return None if number is None else DeviceID(number)

    # ------------------------------------------------------------------ agent state

    def set_agent(
        self,
        st: AgentStation,
        state: str,
        *,
        reason: str = "",
        forced: bool = False,
    ) -> None:
        """Change an agent's state, keep the hunt groups in step, report it."""
        old = st.state
        if old == state and st.reason == reason:
            return
        if old == LOGGED_OFF and state != LOGGED_OFF:
            self._agent_event(st, m.AgentLoggedOnEvent)
        st.state, st.reason = state, reason if state == NOT_READY else ""
        condition = "forcedPause" if forced and state == NOT_READY else None
        if state == READY:
            st.idle_since = self.now
            if not st.calls:  # a station still ringing is not idle
                for skill in st.skills:
                    self.idle[skill][st.id] = st
        else:
            for skill in st.skills:
                self.idle[skill].pop(st.id, None)
        if state == READY:
            self._agent_event(st, m.AgentReadyEvent)
        elif state == NOT_READY:
            private = (("reasonCode", reason),) if reason else ()
            self._agent_event(
                st, m.AgentNotReadyEvent, private_data=private, agent_state_condition=condition
            )
        elif state == BUSY:
            self._agent_event(st, m.AgentBusyEvent)
        elif state == WORK:
            self._agent_event(st, m.AgentWorkingAfterCallEvent)
        elif state == LOGGED_OFF:
            st.pending = None
            self._agent_event(st, m.AgentLoggedOffEvent)
        if state == READY and not st.calls:
            self._agent_free(st)

    def _agent_free(self, st: AgentStation) -> None:
        """A ready agent: take the best waiting call of their skills."""
        best: tuple[int, float, int, Call] | None = None
        for skill in st.skills:
            heap = self.queues[skill]
            while heap and (heap[0][3].queued_skill != skill or heap[0][2] != heap[0][3].queue_seq):
                heapq.heappop(heap)  # stale entry
            if heap and (best is None or heap[0][:3] < best[:3]):
                best = heap[0]
        if best is not None:
            call = best[3]
            heapq.heappop(self.queues[call.queued_skill or ""])
            call.queued_skill = None
            self._deliver(call, st)

    def _after_call(self, st: AgentStation, call: Call | None) -> None:
        """The agent's call ended: pending state, else wrap-up, else ready."""
        if st.state == LOGGED_OFF or st.calls:
            return
        acd = call is not None and call.service >= 0 and st.acd_call is call
        st.acd_call = None
        if st.pending is not None:
            state, reason = st.pending, st.pending_reason
            st.pending = None
            self.set_agent(st, state, reason=reason)
            return
        if st.state != BUSY:
            return
        if acd:
            assert call is not None
            wrap = self._draw_wrap[call.service]()
        else:
            wrap = 0.0
            if st.state_before != READY:
                self.set_agent(st, st.state_before, reason=st.reason_before)
                return
        if wrap > 0:
            self.set_agent(st, WORK)
            st.wrap_gen += 1
            gen = st.wrap_gen

            def wrap_done() -> None:
                if st.wrap_gen == gen and st.state == WORK:
                    if st.pending is not None:
                        state, reason = st.pending, st.pending_reason
                        st.pending = None
                        self.set_agent(st, state, reason=reason)
                    else:
                        self.set_agent(st, READY)

            self.at(wrap, wrap_done)
        else:
            self.set_agent(st, READY)

    # ------------------------------------------------------------------ inbound calls

    def arrive(self, service: str, caller: str | None = None) -> Call | None:
        """A call for ``service`` arrives from the network (trunk, then IVR or routing point)."""
        svc_i = self._svc_index[service]
        svc = self._svc[svc_i]
        now = self.now
        if caller is None:
            caller = f"139{next(self._customers):08d}"
        call = Call(
            id=str(next(self._call_ids)), calling=caller, called=service, arrived=now, entry=svc_i
        )
        call.conns[caller] = "connected"
        if self.scenario.trunks is not None:
            if not self._free_trunks:
                self._record([now, math.nan, math.nan, now, "blocked", svc_i])
                self._redial(svc_i, caller)
                return None
            call.trunk = self._free_trunks.popleft()
            call.conns[call.trunk] = "connected"
        self.calls[call.id] = call
        if svc.ivr is not None:
            self._enter_ivr(call, svc.ivr, now)
        else:
            rp = svc.routing_point or svc.name
            self._enter_rp(call, svc_i, rp, arrival=now)
        return call

    def _enter_ivr(self, call: Call, node_name: str, arrival: float) -> None:
        ivr = self.scenario.ivr
        assert ivr is not None
        if not self._free_ivr:
            self._record([arrival, math.nan, math.nan, arrival, "blocked", -1])
            self._end_call(call, call.calling, "resourcesNotAvailable")
            self._redial(call.entry, call.calling)
            return
        port = self._free_ivr.popleft()
        call.conns[port] = "alerting"
        self._delivered(call, port, cause="newCall")
        call.conns[port] = "connected"
        self._established(call, port, cause="newCall")
        path = ivr.walk(node_name, self.streams.ivr)
        exit_to = path.service if path.outcome == "agent" else None
        rp_name = path.routing_point
        hung_up = path.outcome == "ivr_abandoned"
        duration = path.duration

        def leave() -> None:
            self._free_ivr.append(port)
            if call.ended:
                return
            if exit_to is None:
                releasing = call.calling if hung_up else port
                self._end_call(call, releasing, "callCancelled" if hung_up else "normalClearing")
                if hung_up:
                    self._redial(call.entry, call.calling)
                return
            svc_i = self._svc_index[exit_to]
            rp = rp_name or self._svc[svc_i].routing_point or exit_to
            self._clear_conn(call, port, port, "redirected")
            call.last_redirection = port
            self._enter_rp(call, svc_i, rp, arrival=arrival)

        self.at(duration, leave)

    def _enter_rp(self, call: Call, svc_i: int, rp: str, *, arrival: float) -> None:
        """The call reaches a routing point: router dialogue or internal distribution."""
        now = self.now
        svc = self._svc[svc_i]
        call.service = svc_i
        call.rp = rp
        call.priority = svc.priority
        if call.rec is None:
            call.rec = [arrival, now, math.nan, math.nan, "open", svc_i]
            self._record(call.rec)
            draw = self._draw_aht[svc_i]
            call.talk = draw() if draw is not None else 0.0
            patience = self._draw_patience[svc_i]()
            if math.isfinite(patience):
                self.at(patience, lambda: self._patience_out(call))
        if call.dialogue is not None:  # back at a routing point (a transfer): a new dialogue
            self._route_end(call.dialogue, None)
        call.internal = False
        call.conns[rp] = "alerting"
        self._delivered(call, rp, cause="enteringDistribution")
        self._distribute(call)

    def _distribute(self, call: Call, *, head: bool = False) -> None:
        rp = call.rp
        assert rp is not None
        reg = self._router_for(rp)
        if reg is not None and call.dialogue is None and not call.internal:
            self._queued(call, rp)
            self._route_request(call, reg, rp)
            return
        if call.dialogue is not None:
            self._queued(call, rp)
            return
        skill = self.devices[rp].skill
        if skill is None:
            self._end_call(call, rp, "noAvailableAgents")
            return
        idle = self.idle.get(skill)
        if idle:
            st = next(iter(idle.values()))
            self._deliver(call, st)
            return
        self._queued(call, rp)
        prio = call.priority + (self._rona_boost if head else 0)
        call.queued_skill = skill
        call.queue_seq = next(self._seq)
        heapq.heappush(self.queues[skill], (-prio, self.now, call.queue_seq, call))

    def _patience_out(self, call: Call) -> None:
        if call.ended or call.answered:
            return
        self._unqueue(call)
        if call.rec is not None:
            call.rec[3], call.rec[4] = self.now, "abandoned"
        self._end_call(call, call.calling, "callCancelled")
        if call.entry >= 0:
            self._redial(call.entry, call.calling)

    def _redial(self, entry: int, caller: str) -> None:
        """A caller who hung up or was blocked calls again, per the entry service."""
        svc = self._svc[entry]
        p = svc.redial_probability
        rng = self.streams.redial
        if p <= 0 or svc.redial_delay is None or rng.random() >= p:
            return
        delay = float(svc.redial_delay.sample(rng))
        if self.now + delay < self.opt.horizon:
            self.at(delay, lambda: self.arrive(svc.name, caller))

    def _unqueue(self, call: Call) -> None:
        call.queued_skill = None  # lazy deletion from the heap

    # ------------------------------------------------------------------ delivery and answer

    def _deliver(self, call: Call, st: Device) -> None:
        """Ring a station with a call leaving its routing point."""
        rp = call.rp
        if rp is not None and rp in call.conns:
            self._diverted(call, rp, st.id, cause="distributed")
            del call.conns[rp]
            call.last_redirection = rp
        call.conns[st.id] = "alerting"
        call.ringing = st.id
        call.ring_gen += 1
        gen = call.ring_gen
        if isinstance(st, AgentStation):
            for skill in st.skills:
                self.idle[skill].pop(st.id, None)
            st.acd_call = call
        st.calls[call.id] = call
        self._delivered(call, st.id, cause="distributed" if rp is not None else "newCall")
        self._person_rings(call, st, gen)
        if rp is not None:
            timeout = self._ring_timeout
            if call.dialogue is not None and self.opt.routed_ring_timeout is not None:
                timeout = self.opt.routed_ring_timeout  # 0: the router handles no-answer
            if timeout > 0:
                self.at(timeout, lambda: self._ring_timeout_hit(call, st, gen))

    def _person_rings(self, call: Call, st: Device, gen: int) -> None:
        """A simulated agent picks up after the ring time, unless they miss the call."""
        if not isinstance(st, AgentStation) or st.state == LOGGED_OFF:
            return
        if st.no_answer and self.streams.agents.random() < st.no_answer:
            return
        ring = self.opt.ring_time

        def pick_up() -> None:
            if call.ring_gen == gen and call.conns.get(st.id) == "alerting" and not call.ended:
                self.answer(call, st.id)

        self.at(ring, pick_up)

    def _ring_timeout_hit(self, call: Call, st: Device, gen: int) -> None:
        """Ring-no-answer: the call goes back to its routing point."""
        if call.ended or call.ring_gen != gen or call.conns.get(st.id) != "alerting":
            return
        rp = call.rp
        assert rp is not None
        self._diverted(call, st.id, rp, cause="alertTimeExpired")
        del call.conns[st.id]
        st.calls.pop(call.id, None)
        call.ringing = None
        call.conns[rp] = "queued"
        if isinstance(st, AgentStation):
            st.acd_call = None
            if call.dialogue is None and st.state == READY:
                self.set_agent(st, NOT_READY, reason="rona")
                self.at(self.opt.rona_recovery, lambda: self._rona_recovered(st))
            elif st.state == READY and not st.calls:
                for skill in st.skills:  # still ready: back in the hunt group
                    self.idle[skill][st.id] = st
        if call.dialogue is not None:
            self._queued(call, rp)
            self._reroute(call.dialogue)
        else:
            del call.conns[rp]
            call.conns[rp] = "alerting"
            self._distribute(call, head=True)

    def _rona_recovered(self, st: AgentStation) -> None:
        if st.state == NOT_READY and st.reason == "rona":
            self.set_agent(st, READY)

    def answer(self, call: Call, dev: str) -> None:
        """``dev`` answers its alerting connection."""
        call.conns[dev] = "connected"
        d = self.devices.get(dev)
        if call.ringing == dev:
            call.ringing = None
        first = not call.answered and call.service >= 0 and call.rp is not None
        if first:
            call.answered = True
            assert call.rec is not None
            call.rec[2] = self.now
        self._established(call, dev, cause="newCall")
        if isinstance(d, AgentStation) and d.state != LOGGED_OFF:
            self._agent_busy(d, call)
        if first or (isinstance(d, AgentStation) and call.talker is None):
            if call.talk <= 0 and call.service < 0:
                call.talk = self._outbound_talk()
            call.talker = dev
            self._arm_talk(call, dev)
        elif d is not None and d.kind == "external" and call.talker is None:
            call.talk = self._outbound_talk()
            call.talker = dev
            self._arm_talk(call, dev)

    def _agent_busy(self, st: AgentStation, call: Call) -> None:
        if st.state in (READY, NOT_READY, WORK):
            st.state_before = st.state if st.state != WORK else READY
            st.reason_before = st.reason
            if st.acd_call is not call and call.service >= 0 and call.rp is not None:
                st.acd_call = call
            st.wrap_gen += 1
            self.set_agent(st, BUSY)

    def _outbound_talk(self) -> float:
        for draw in self._draw_aht:
            if draw is not None:
                return draw()
        return 120.0

    def _arm_talk(self, call: Call, dev: str) -> None:
        talk = call.talk

        def done() -> None:
            if call.ended or call.talker != dev or call.conns.get(dev) != "connected":
                return
            if call.rec is not None:
                call.rec[3], call.rec[4] = self.now, "answered"
            self.clear_connection(call, dev)

        self.at(talk, done)

    # ------------------------------------------------------------------ clearing

    def _clear_conn(self, call: Call, dev: str, releasing: str, cause: str) -> None:
        if dev not in call.conns:
            return
        watchers = self._watchers(call)
        del call.conns[dev]
        call.silent.discard(dev)
        d = self.devices.get(dev)
        if d is not None:
            d.calls.pop(call.id, None)
        if self._has_watchers(call, *watchers):
            conn = self._conn(call, dev)
            rel = DeviceID(releasing)
            self._emit(
                call,
                watchers,
                lambda x: m.ConnectionClearedEvent(
                    monitor_cross_ref_id=x,
                    dropped_connection=conn,
                    releasing_device=rel,
                    local_connection_info="null",
                    cause=cause,
                ),
            )
        if dev == call.trunk:
            call.trunk = None
            self._free_trunks.append(dev)
        if isinstance(d, AgentStation):
            if call.ringing == dev:
                call.ringing = None
                d.acd_call = None
                if d.state == READY and not d.calls:
                    for skill in d.skills:
                        self.idle[skill][d.id] = d
            else:
                self._after_call(d, call)

    def clear_connection(self, call: Call, dev: str, cause: str = "normalClearing") -> None:
        """``dev`` leaves the call; the call ends when fewer than two real parties remain."""
        self._clear_conn(call, dev, dev, cause)
        parties = [
            d
            for d, state in call.conns.items()
            if d not in call.silent and state != "fail" and self._party(d)
        ]
        if len(parties) < 2 and not (call.rp in call.conns and parties):
            self._end_call(call, dev, cause)

    def _party(self, dev: str) -> bool:
        d = self.devices.get(dev)
        return d is None or d.kind in ("agent", "station", "external", "ivr")

    def _end_call(self, call: Call, releasing: str, cause: str) -> None:
        """Clear every remaining connection; close any routeing dialogue."""
        if call.ended:
            return
        call.ended = True
        self._unqueue(call)
        order = sorted(call.conns, key=lambda d: d != releasing)
        for dev in order:
            self._clear_conn(call, dev, releasing, cause if dev == releasing else "normalClearing")
        if call.trunk is not None:
            self._free_trunks.append(call.trunk)
            call.trunk = None
        rec = call.rec
        if rec is not None and rec[4] == "open":
            rec[3] = self.now
            rec[4] = "answered" if call.answered else "disconnected"
        dlg = call.dialogue
        if dlg is not None:
            error = None if call.answered else m.Failure("operation", "invalidCallID")
            self._route_end(dlg, error)
        self.calls.pop(call.id, None)
        for mon in call.monitors:
            self.monitors.pop(mon.xref, None)
        call.monitors.clear()

    # ------------------------------------------------------------------ call events

    def _delivered(self, call: Call, dev: str, *, cause: str) -> None:
        if not self._has_watchers(call):
            return
        conn = self._conn(call, dev)
        alerting, calling, called = DeviceID(dev), DeviceID(call.calling), DeviceID(call.called)
        redirect = self._dev(call.last_redirection)
        svc = self._svc[call.service].name if call.service >= 0 else None
        private = (("service", svc),) if svc else ()
        self._emit(
            call,
            call.conns,
            lambda x: m.DeliveredEvent(
                monitor_cross_ref_id=x,
                connection=conn,
                alerting_device=alerting,
                calling_device=calling,
                called_device=called,
                last_redirection_device=redirect,
                local_connection_info="alerting",
                cause=cause,
                private_data=private,
            ),
        )

    def _established(self, call: Call, dev: str, *, cause: str) -> None:
        if not self._has_watchers(call):
            return
        conn = self._conn(call, dev)
        answering, calling, called = DeviceID(dev), DeviceID(call.calling), DeviceID(call.called)
        redirect = self._dev(call.last_redirection)
        self._emit(
            call,
            call.conns,
            lambda x: m.EstablishedEvent(
                monitor_cross_ref_id=x,
                established_connection=conn,
                answering_device=answering,
                calling_device=calling,
                called_device=called,
                last_redirection_device=redirect,
                local_connection_info="connected",
                cause=cause,
            ),
        )

    def _queued(self, call: Call, rp: str) -> None:
        call.conns[rp] = "queued"
        if not self._has_watchers(call):
            return
        conn = self._conn(call, rp)
        queue, calling, called = DeviceID(rp), DeviceID(call.calling), DeviceID(call.called)
        skill = self.devices[rp].skill
        waiting = len(self.queues[skill]) if skill in self.queues else 0
        self._emit(
            call,
            call.conns,
            lambda x: m.QueuedEvent(
                monitor_cross_ref_id=x,
                queued_connection=conn,
                queue=queue,
                calling_device=calling,
                called_device=called,
                number_queued=waiting + 1,
                local_connection_info="queued",
                cause="enteringDistribution",
            ),
        )

    def _diverted(self, call: Call, frm: str, to: str, *, cause: str) -> None:
        watchers = list(call.conns)  # the new destination learns of the call by Delivered
        if not self._has_watchers(call):
            return
        conn = self._conn(call, frm)
        diverting, new, calling, called = (
            DeviceID(frm),
            DeviceID(to),
            DeviceID(call.calling),
            DeviceID(call.called),
        )
        self._emit(
            call,
            watchers,
            lambda x: m.DivertedEvent(
                monitor_cross_ref_id=x,
                connection=conn,
                diverting_device=diverting,
                new_destination=new,
                calling_device=calling,
                called_device=called,
                local_connection_info="null",
                cause=cause,
            ),
        )

    # ------------------------------------------------------------------ routeing

    @staticmethod
    def _waiting_at_rp(call: Call) -> bool:
        """The call sits at its routing point, not ringing anywhere: it can be routed."""
        return (
            not call.ended
            and call.rp is not None
            and call.rp in call.conns
            and call.ringing is None
        )

    def _router_for(self, rp: str) -> Registration | None:
        found = None
        for reg in self.registrations.values():
            if reg.device == rp:
                return reg
            if reg.device is None and found is None:
                found = reg
        return found

    def register_router(self, peer: Peer, device: DeviceID | None) -> Registration:
        if device is not None:
            dev = self.devices.get(device.number)
            if dev is None or dev.kind != "vdn":
                raise ServiceError("operation", "invalidDeviceID")
        req = Registration(f"R{next(self._ids)}", peer, None if device is None else device.number)
        self.registrations[req.req_id] = req
        return req

    def cancel_registration(self, req_id: str, peer: Peer | None = None) -> None:
        reg = self.registrations.get(req_id)
        if reg is None or (peer is not None and reg.peer is not peer):
            raise ServiceError("operation", "invalidRouteRegistrationCrossRefID")
        del self.registrations[req_id]
        for dlg in [d for d in self.dialogues.values() if d.reg is reg]:
            self._abandon_dialogue(dlg)

    def _route_request(self, call: Call, reg: Registration, rp: str) -> None:
        xref = f"X{next(self._xrefs)}"
        dlg = Dialogue(xref=xref, reg=reg, call=call, rp=rp)
        call.dialogue = dlg
        call.route_requests += 1
        self.dialogues[xref] = dlg
        svc = self._svc[call.service].name if call.service >= 0 else ""
        reg.peer.emit(
            m.RouteRequest(
                cross_ref_identifier=xref,
                route_register_req_id=reg.req_id,
                current_route=DeviceID(call.called),
                calling_device=DeviceID(call.calling),
                routeing_device=DeviceID(rp),
                routed_call=self._conn(call, rp),
                priority=call.priority > 0 or None,
                reply_timeout=int(self.opt.route_timeout) if self.opt.route_timeout > 0 else None,
                private_data=(("service", svc),) if svc else (),
            )
        )
        self.events_out += 1
        self._arm_route_timer(dlg)

    def _arm_route_timer(self, dlg: Dialogue) -> None:
        dlg.timer += 1
        gen = dlg.timer
        if self.opt.route_timeout <= 0:
            return

        def expire() -> None:
            if dlg.timer == gen and self.dialogues.get(dlg.xref) is dlg:
                call = dlg.call
                if not self._waiting_at_rp(call):
                    return
                self._route_end(dlg, m.Failure("operation", "routeingTimerExpired"))
                self._fallback(call, internal=True)

        self.at(self.opt.route_timeout, expire)

    def _route_end(self, dlg: Dialogue, error: m.Failure | None) -> None:
        if self.dialogues.pop(dlg.xref, None) is None:
            return
        dlg.call.dialogue = None
        dlg.reg.peer.emit(
            m.RouteEnd(
                cross_ref_identifier=dlg.xref,
                route_register_req_id=dlg.reg.req_id,
                error_value=error,
            )
        )
        self.events_out += 1

    def _fallback(self, call: Call, *, internal: bool = False) -> None:
        """The router gave up (or never answered): internal distribution takes the call."""
        call.dialogue = None
        call.internal = call.internal or internal
        if not self._waiting_at_rp(call):
            return
        self._distribute(call)

    def _abandon_dialogue(self, dlg: Dialogue) -> None:
        """The router went away: close the dialogue without a message, distribute internally."""
        self.dialogues.pop(dlg.xref, None)
        dlg.call.dialogue = None
        self._fallback(dlg.call)

    def _reroute(self, dlg: Dialogue) -> None:
        dlg.reg.peer.emit(
            m.ReRoute(
                cross_ref_identifier=dlg.xref,
                route_register_req_id=dlg.reg.req_id,
                reply_timeout=int(self.opt.route_timeout) if self.opt.route_timeout > 0 else None,
            )
        )
        self.events_out += 1
        self._arm_route_timer(dlg)

    def route_select(self, peer: Peer, msg: m.RouteSelect) -> None:
        dlg = self.dialogues.get(msg.cross_ref_identifier)
        if dlg is None or dlg.reg.peer is not peer:
            raise ServiceError("operation", "invalidRouteingCrossRefID")
        call = dlg.call
        if not self._waiting_at_rp(call):
            return  # too late: the call moved on (RouteEnd follows when it clears)
        dlg.timer += 1  # answered: stop the reply timer
        dest = self.devices.get(msg.route_selected.number)
        if dest is None or dest.kind not in ("agent", "station") or dest.calls:
            self._reroute(dlg)
            return
        if msg.route_used_req:
            peer.emit(
                m.RouteUsed(
                    cross_ref_identifier=dlg.xref,
                    route_register_req_id=dlg.reg.req_id,
                    route_used=DeviceID(dest.id),
                    calling_device=DeviceID(call.calling),
                )
            )
            self.events_out += 1
        self._deliver(call, dest)

    def route_end_from_client(self, peer: Peer, msg: m.RouteEnd) -> None:
        dlg = self.dialogues.get(msg.cross_ref_identifier)
        if dlg is None or dlg.reg.peer is not peer:
            return
        self.dialogues.pop(dlg.xref, None)
        self._fallback(dlg.call, internal=True)

    def route_reject(self, peer: Peer, msg: m.RouteReject) -> None:
        dlg = self.dialogues.get(msg.cross_ref_identifier)
        if dlg is None or dlg.reg.peer is not peer:
            raise ServiceError("operation", "invalidRouteingCrossRefID")
        call = dlg.call
        self.dialogues.pop(dlg.xref, None)
        call.dialogue = None
        self._route_end_normal(dlg)
        self._end_call(call, call.rp or call.called, "callCancelled")

    def _route_end_normal(self, dlg: Dialogue) -> None:
        dlg.reg.peer.emit(
            m.RouteEnd(cross_ref_identifier=dlg.xref, route_register_req_id=dlg.reg.req_id)
        )
        self.events_out += 1

    def peer_gone(self, peer: Peer) -> None:
        """A client disconnected: drop its monitors and registrations, take back its calls."""
        for xref in [x for x, mon in self.monitors.items() if mon.peer is peer]:
            self.stop_monitor(xref)
        for req_id in [r for r, reg in self.registrations.items() if reg.peer is peer]:
            self.cancel_registration(req_id)

    # ------------------------------------------------------------------ monitors

    def start_monitor(
        self, peer: Peer, device: DeviceID | None, call: ConnectionID | None
    ) -> Monitor:
        xref = f"M{next(self._ids)}"
        if device is not None:
            dev = self.devices.get(device.number)
            if dev is None:
                raise ServiceError("operation", "invalidDeviceID")
            mon = Monitor(xref, peer, device=dev.id)
            dev.monitors.append(mon)
        else:
            assert call is not None
            target = self.calls.get(call.call_id or "")
            if target is None:
                raise ServiceError("operation", "invalidCallID")
            mon = Monitor(xref, peer, call=target.id)
            target.monitors.append(mon)
        self.monitors[xref] = mon
        return mon

    def stop_monitor(self, xref: str, peer: Peer | None = None) -> None:
        mon = self.monitors.get(xref)
        if mon is None or (peer is not None and mon.peer is not peer):
            raise ServiceError("operation", "invalidMonitorCrossRefID")
        del self.monitors[xref]
        if mon.device is not None:
            dev = self.devices[mon.device]
            dev.monitors = [x for x in dev.monitors if x is not mon]
        elif mon.call is not None and mon.call in self.calls:
            c = self.calls[mon.call]
            c.monitors = [x for x in c.monitors if x is not mon]

    # ------------------------------------------------------------------ services

    def _call_at(
        self, conn: ConnectionID, *, states: tuple[str, ...] | None = None
    ) -> tuple[Call, str]:
        dev = conn.device_id.number if conn.device_id is not None else ""
        call = self.calls.get(conn.call_id or "")
        if call is None:
            raise ServiceError("operation", "invalidCallID")
        if dev not in call.conns:
            raise ServiceError("operation", "invalidConnectionID")
        if states is not None and call.conns[dev] not in states:
            raise ServiceError("stateIncompatibility", "invalidConnectionState")
        return call, dev

    def _station(self, device: DeviceID, *, error: str = "invalidDeviceID") -> Device:
        dev = self.devices.get(device.number)
        if dev is None:
            raise ServiceError("operation", error)
        if dev.kind not in ("agent", "station"):
            raise ServiceError("operation", "requestIncompatibleWithDevice")
        return dev

    def make_call(self, calling: DeviceID, called: DeviceID) -> Call:
        """A station (or an agent for an outbound campaign) calls a number."""
        src = self._station(calling, error="invalidCallingDeviceID")
        if any(
            c.conns.get(src.id) in ("connected", "alerting", "initiated")
            for c in src.calls.values()
        ):
            raise ServiceError("stateIncompatibility", "invalidCallingDeviceState")
        try:
            dest = self.device(called.number)
        except ServiceError:
            raise ServiceError("operation", "invalidCalledDeviceID") from None
        if dest.id == src.id:
            raise ServiceError("operation", "invalidCalledDeviceID")
        call = Call(id=str(next(self._call_ids)), calling=src.id, called=dest.id, arrived=self.now)
        self.calls[call.id] = call
        self._originate(call, src, dest)
        return call

    def _originate(self, call: Call, src: Device, dest: Device) -> None:
        call.conns[src.id] = "initiated"
        src.calls[call.id] = call
        conn = self._conn(call, src.id)
        self._emit(
            call,
            call.conns,
            lambda x: m.ServiceInitiatedEvent(
                monitor_cross_ref_id=x,
                initiated_connection=conn,
                initiating_device=DeviceID(src.id),
                local_connection_info="initiated",
                cause="newCall",
            ),
        )
        call.conns[src.id] = "connected"
        self._emit(
            call,
            call.conns,
            lambda x: m.OriginatedEvent(
                monitor_cross_ref_id=x,
                originated_connection=conn,
                calling_device=DeviceID(src.id),
                called_device=DeviceID(dest.id),
                local_connection_info="connected",
                cause="newCall",
            ),
        )
        if isinstance(src, AgentStation) and src.state != LOGGED_OFF:
            self._agent_busy(src, call)
        self._connect_to(call, dest)

    def _connect_to(self, call: Call, dest: Device) -> None:
        """Offer the call to ``dest``: a routing point, a station or the network."""
        if dest.kind == "vdn":
            svc_name = dest.service
            svc_i = self._svc_index[svc_name] if svc_name is not None else -1
            if svc_i < 0 or self._svc[svc_i].aht is None:
                svc_i = next(i for i, s in enumerate(self._svc) if s.reaches_agents)
            self._enter_rp(call, svc_i, dest.id, arrival=self.now)
            return
        if dest.kind in ("agent", "station"):
            if any(c.conns.get(dest.id) in ("connected", "alerting") for c in dest.calls.values()):
                self._failed(call, dest.id, "busy")
                return
            call.conns[dest.id] = "alerting"
            dest.calls[call.id] = call
            self._delivered(call, dest.id, cause="newCall")
            self._person_rings(call, dest, call.ring_gen)
            return
        if dest.kind == "external":
            call.conns[dest.id] = "alerting"
            self._delivered(call, dest.id, cause="newCall")
            rng = self.streams.agents
            if rng.random() < self.opt.external_answer_probability:
                delay = float(rng.exponential(self.opt.external_answer_delay))

                def pick_up() -> None:
                    if not call.ended and call.conns.get(dest.id) == "alerting":
                        self.answer(call, dest.id)

                self.at(delay, pick_up)
            else:

                def no_answer() -> None:
                    if not call.ended and call.conns.get(dest.id) == "alerting":
                        del call.conns[dest.id]
                        self._failed(call, dest.id, "noAnswer")

                self.at(self.opt.external_no_answer_timeout, no_answer)
            return
        raise ServiceError("operation", "invalidCalledDeviceID")

    def _failed(self, call: Call, dev: str, cause: str) -> None:
        conn = self._conn(call, dev)
        watchers = self._watchers(call, dev)
        self._emit(
            call,
            watchers,
            lambda x: m.FailedEvent(
                monitor_cross_ref_id=x,
                failed_connection=conn,
                failing_device=DeviceID(dev),
                called_device=DeviceID(dev),
                local_connection_info="fail",
                cause=cause,
            ),
        )

    def answer_call(self, conn: ConnectionID) -> None:
        call = self.calls.get(conn.call_id or "")
        dev = conn.device_id.number if conn.device_id is not None else ""
        if dev and dev not in self.devices:
            raise ServiceError("operation", "invalidDeviceID")
        if call is None or call.conns.get(dev) != "alerting":
            raise ServiceError("stateIncompatibility", "noCallToAnswer")
        self.answer(call, dev)

    def clear_call_connection(self, conn: ConnectionID) -> None:
        call = self.calls.get(conn.call_id or "")
        dev = conn.device_id.number if conn.device_id is not None else ""
        if call is None or dev not in call.conns:
            raise ServiceError("stateIncompatibility", "noConnectionToClear")
        if call.rp == dev and call.rec is not None and not call.answered:
            call.rec[4] = "disconnected"
        if call.conns.get(dev) == "alerting" and call.ringing == dev:
            # refusing a distributed call sends it back to its routing point
            self._ring_back(call, dev, "callCancelled")
            return
        self.clear_connection(call, dev)

    def _ring_back(self, call: Call, dev: str, cause: str) -> None:
        st = self.devices[dev]
        call.ring_gen += 1
        rp = call.rp
        assert rp is not None
        self._diverted(call, dev, rp, cause=cause)
        del call.conns[dev]
        st.calls.pop(call.id, None)
        call.ringing = None
        if isinstance(st, AgentStation):
            st.acd_call = None
            if st.state == READY and not st.calls:
                for skill in st.skills:
                    self.idle[skill][st.id] = st
        call.conns[rp] = "alerting"
        if call.dialogue is not None:
            self._queued(call, rp)
            self._reroute(call.dialogue)
        else:
            self._distribute(call, head=True)

    def deflect_call(self, conn: ConnectionID, new_destination: DeviceID) -> None:
        call, dev = self._call_at(conn, states=("alerting", "queued"))
        dest = self.device(new_destination.number)
        if dest.id == dev or dest.id in call.conns:
            raise ServiceError("operation", "invalidDestination")
        if dest.kind in ("agent", "station") and dest.calls:
            raise ServiceError("stateIncompatibility", "invalidDestinationDeviceState")
        call.ring_gen += 1
        old = self.devices.get(dev)
        self._diverted(call, dev, dest.id, cause="redirected")
        del call.conns[dev]
        if old is not None:
            old.calls.pop(call.id, None)
        if isinstance(old, AgentStation):
            old.acd_call = None
            if old.state == READY and not old.calls:
                for skill in old.skills:
                    self.idle[skill][old.id] = old
        call.ringing = None
        call.last_redirection = dev
        self._unqueue(call)
        if dest.kind == "vdn":
            call.rp = dest.id
            call.conns[dest.id] = "alerting"
            self._delivered(call, dest.id, cause="redirected")
            self._distribute(call)
        elif dest.kind in ("agent", "station") and call.rp is not None:
            self._deliver(call, dest)
        else:
            self._connect_to(call, dest)

    def single_step_transfer(self, conn: ConnectionID, to: DeviceID) -> ConnectionID:
        call, dev = self._call_at(conn, states=("connected", "hold"))
        dest = self.device(to.number)
        if dest.id in call.conns:
            raise ServiceError("operation", "invalidDestination")
        transferring = DeviceID(dev)
        old = self._conn(call, dev)
        self._emit(
            call,
            self._watchers(call, dest.id),
            lambda x: m.TransferedEvent(
                monitor_cross_ref_id=x,
                primary_old_call=old,
                transferring_device=transferring,
                transferred_to_device=DeviceID(dest.id),
                local_connection_info="null",
                cause="singleStepTransfer",
            ),
        )
        self._drop_silently(call, dev)
        call.talker = None
        call.last_redirection = dev
        self._connect_to(call, dest)
        return self._conn(call, dest.id)

    def _drop_silently(self, call: Call, dev: str) -> None:
        """A party leaves by transfer (reported by TransferedEvent, no ConnectionCleared)."""
        call.conns.pop(dev, None)
        d = self.devices.get(dev)
        if d is not None:
            d.calls.pop(call.id, None)
            if isinstance(d, AgentStation):
                self._after_call(d, call)

    def hold(self, conn: ConnectionID) -> None:
        self._hold(conn, held=True)

    def retrieve(self, conn: ConnectionID) -> None:
        self._hold(conn, held=False)

    def _hold(self, conn: ConnectionID, *, held: bool) -> None:
        """Put a connected party on hold (``held``) or take a held one back."""
        call, dev = self._call_at(conn, states=("connected",) if held else ("hold",))
        state = "hold" if held else "connected"
        call.conns[dev] = state
        c = self._conn(call, dev)

        def event(x: str) -> m.Event:
            if held:
                return m.HeldEvent(
                    monitor_cross_ref_id=x,
                    held_connection=c,
                    holding_device=DeviceID(dev),
                    local_connection_info=state,
                )
            return m.RetrievedEvent(
                monitor_cross_ref_id=x,
                retrieved_connection=c,
                retrieving_device=DeviceID(dev),
                local_connection_info=state,
            )

        self._emit(call, call.conns, event)

    def consultation_call(self, conn: ConnectionID, consulted: DeviceID) -> Call:
        call, dev = self._call_at(conn, states=("connected", "hold"))
        dest = self.device(consulted.number)
        if call.conns[dev] == "connected":
            self.hold(conn)
        src = self.devices[dev]
        new = Call(id=str(next(self._call_ids)), calling=dev, called=dest.id, arrived=self.now)
        new.consult_of = call
        self.calls[new.id] = new
        self._originate(new, src, dest)
        return new

    def transfer_call(self, held: ConnectionID, active: ConnectionID) -> ConnectionID:
        call, dev = self._call_at(held, states=("hold",))
        cons, dev2 = self._call_at(active)
        if dev2 != dev or cons is call:
            raise ServiceError("operation", "notSameDevice")
        others = [d for d in cons.conns if d != dev]
        if not others:
            raise ServiceError("stateIncompatibility", "noActiveCall")
        items = tuple(
            m.ConnectionListItem(
                new_connection=self._conn(call, d),
                old_connection=self._conn(cons, d),
                endpoint=DeviceID(d),
            )
            for d in others
        )
        primary, secondary = self._conn(call, dev), self._conn(cons, dev)
        target = DeviceID(others[0])
        watchers = list(dict.fromkeys([*call.conns, *cons.conns]))
        mons = [*call.monitors, *(x for x in cons.monitors if x not in call.monitors)]
        saved = call.monitors
        call.monitors = mons
        self._emit(
            call,
            watchers,
            lambda x: m.TransferedEvent(
                monitor_cross_ref_id=x,
                primary_old_call=primary,
                secondary_old_call=secondary,
                transferring_device=DeviceID(dev),
                transferred_to_device=target,
                transferred_connections=items,
                local_connection_info="null",
                cause="transfer",
            ),
        )
        call.monitors = saved
        # the consulted parties join the original call; the transferring party leaves both
        for d in others:
            call.conns[d] = cons.conns[d]
            dd = self.devices.get(d)
            if dd is not None:
                dd.calls.pop(cons.id, None)
                dd.calls[call.id] = call
            if call.ringing is None and cons.ringing == d:
                call.ringing = d
        cons.conns.clear()
        cons.ended = True
        self.calls.pop(cons.id, None)
        self.devices[dev].calls.pop(cons.id, None)
        self._drop_silently(call, dev)
        call.talker = None
        for d in others:
            dd = self.devices.get(d)
            if call.conns.get(d) == "connected" and (
                isinstance(dd, AgentStation) or dd is None or dd.kind == "external"
            ):
                call.talk = self._outbound_talk()
                call.talker = d
                self._arm_talk(call, d)
                break
        return self._conn(call, others[0])

    def single_step_conference(
        self, conn: ConnectionID, join: DeviceID, participation: str | None
    ) -> ConnectionID:
        call, dev = self._call_at(conn, states=("connected", "hold", "alerting"))
        sup = self._station(join)
        if sup.id in call.conns:
            raise ServiceError("operation", "invalidDestination")
        if participation not in (None, "silent", "active"):
            raise ServiceError("operation", "participationTypeOutOfRange")
        silent = participation == "silent"
        call.conns[sup.id] = "connected"
        sup.calls[call.id] = call
        if silent:
            call.silent.add(sup.id)
        primary = self._conn(call, dev)
        items = tuple(
            m.ConnectionListItem(new_connection=self._conn(call, d), endpoint=DeviceID(d))
            for d in call.conns
        )
        cause = "silentParticipation" if silent else "activeParticipation"
        self._emit(
            call,
            call.conns,
            lambda x: m.ConferencedEvent(
                monitor_cross_ref_id=x,
                primary_old_call=primary,
                conferencing_device=DeviceID(sup.id),
                added_party=DeviceID(sup.id),
                conference_connections=items,
                local_connection_info="connected",
                cause=cause,
            ),
        )
        return self._conn(call, sup.id)

    def set_agent_state(self, device: DeviceID, requested: str, reason: str = "") -> str | None:
        """SetAgentState; returns the pending state when the change waits for the call."""
        dev = self.devices.get(device.number)
        if dev is None:
            raise ServiceError("operation", "invalidDeviceID")
        if not isinstance(dev, AgentStation):
            raise ServiceError("operation", "requestIncompatibleWithDevice")
        if requested == "loggedOn":
            if dev.state == LOGGED_OFF:
                self.set_agent(dev, NOT_READY, reason=reason or "loggedOn")
            return None
        state = _STATE_OF_REQUEST.get(requested)
        if state is None:
            raise ServiceError("operation", "agentStateOutOfRange")
        if dev.state == LOGGED_OFF and state != LOGGED_OFF:
            raise ServiceError("stateIncompatibility", "invalidObjectState")
        if dev.state == BUSY:
            dev.pending, dev.pending_reason = state, reason
            return requested
        if dev.state == WORK and state == READY:
            dev.wrap_gen += 1
        self.set_agent(dev, state, reason=reason, forced=True)
        return None

    def agent_state(self, device: DeviceID) -> m.AgentStateEntry:
        dev = self.devices.get(device.number)
        if dev is None:
            raise ServiceError("operation", "invalidDeviceID")
        if not isinstance(dev, AgentStation):
            raise ServiceError("operation", "requestIncompatibleWithDevice")
        pending = _REQUEST_OF_STATE.get(dev.pending) if dev.pending else None
        info = m.AgentInfo(
            acd_group=DeviceID(dev.group),
            agent_state=dev.state,
            pending_agent_state=pending,
        )
        return m.AgentStateEntry(
            agent_id=dev.agent_id, logged_on=dev.state != LOGGED_OFF, agent_info=(info,)
        )

    def snapshot(self, device: DeviceID) -> tuple[m.SnapshotDeviceItem, ...]:
        dev = self.devices.get(device.number)
        if dev is None:
            raise ServiceError("operation", "invalidDeviceID")
        calls = [c for c in self.calls.values() if dev.id in c.conns]
        return tuple(
            m.SnapshotDeviceItem(
                connection_identifier=self._conn(c, dev.id), local_call_state=c.conns[dev.id]
            )
            for c in calls
        )

    # ------------------------------------------------------------------ KPIs

    def _record(self, row: list[Any]) -> None:
        if self.opt.record:
            self.records.append(row)

    def kpis(self, warmup: float = 0.0, horizon: float = math.inf) -> dict[str, float]:
        """Per-run KPIs with ``ccsim.simulate``'s definitions over calls arriving in the window."""
        offered = answered = in_sl = abandoned = 0
        wait_sum = 0.0
        for arrival, off, ans, _end, outcome, svc in self.records:
            if not warmup <= arrival < horizon or math.isnan(off):
                continue
            offered += 1
            if outcome == "abandoned":
                abandoned += 1
            elif not math.isnan(ans):
                answered += 1
                wait = ans - off
                wait_sum += wait
                if wait <= self._sl[svc]:
                    in_sl += 1
        nan = math.nan
        return {
            "all.offered": float(offered),
            "all.answered": float(answered),
            "all.abandoned": float(abandoned),
            "all.sl": in_sl / offered if offered else nan,
            "all.asa": wait_sum / answered if answered else nan,
            "all.abandon_rate": abandoned / offered if offered else nan,
        }
