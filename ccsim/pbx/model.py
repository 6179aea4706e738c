"""The simulated center: SimPy drives time, the shared ACD decides every route.

``Center`` turns a scenario into SimPy events — arrivals, trunks, IVR paths,
caller patience and redials, agents' shifts, breaks, ringing, talking and
wrap-up, scripted supervisor actions — feeds the resulting ACD events to the
very ``ccsim.acd.ACD`` the live binding uses, and carries out the commands it
returns. It contains no routing decision of its own.

Why callbacks and not one SimPy process per call or agent: every step here is
"wait a sampled time, then feed one event". A triggered event with one
callback is SimPy's cheapest event (``_CallWake`` and friends below: a
``Timeout`` that carries its payload instead of a closure); a generator
process per call would add a frame switch per step for no modelling gain.
Everything still runs on SimPy's clock and queue, and any other SimPy process
can share the environment.

The driver runs once per event of every simulated call, so its hot path is
kept lean: commands are dispatched through a type -> handler dict, level
changes are two appends to the collector's buffers (``LevelTimes``), and
counter columns are module constants. None of it changes what is drawn from
which random stream, or when, so a seed's results are the same as before.

Agents end wrap-up at a sampled time (``WrapUpEnded``), so the ACD's timed
wrap-up is switched off in simulation; ring time and ring-no-answer follow
``ring_time`` and each group's ``no_answer_probability``, the ACD's ring
timer doing the rest (RONA).
"""

from __future__ import annotations

import dataclasses
import math
from array import array
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from heapq import heappush
from types import MappingProxyType
from typing import Any

import numpy as np
import simpy
from simpy.events import NORMAL

from ccsim.acd import ACD, ACDError
from ccsim.events import (
    AgentLoggedOff,
    AgentLoggedOn,
    AgentNotReady,
    AgentReady,
    AgentState,
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallOffered,
    CancelTimer,
    Deliver,
    Disconnect,
    Enqueue,
    Event,
    ForceLogout,
    ForceNotReady,
    ForceReady,
    OfferCallback,
    Overflow,
    Retract,
    SetAgentState,
    StartTimer,
    TimerFired,
    TimerKey,
    WrapUpEnded,
)
from ccsim.pbx.records import COUNTER_INDEX, OUTCOME_CODE, CdrStore, IntervalCounters, LevelTimes
from ccsim.pbx.streams import Streams
from ccsim.routing.registry import BUILTIN_POLICIES
from ccsim.scenario import (
    Scenario,
    resolve_policy,
)

# events built from trusted values in field order (events.py: ``_make`` skips checks)
_mk_offered = CallOffered._make
_mk_answered = CallAnswered._make
_mk_ended = CallEnded._make
_mk_abandoned = CallAbandoned._make
_mk_timer = TimerFired._make
_mk_wrap_ended = WrapUpEnded._make

__all__ = ["DAY", "Center"]

DAY = 86_400.0
_AGENT_STATES = tuple(AgentState)
#: shared by callers without attributes (CallOffered keeps a read-only mapping as is)
_NO_ATTRIBUTES: Mapping[str, str] = MappingProxyType({})
_STATE_CODE = {s: i for i, s in enumerate(_AGENT_STATES)}
_RESERVED = AgentState.RESERVED
_BUSY = AgentState.BUSY
_NOT_READY = AgentState.NOT_READY
_WRAP_UP = AgentState.WORKING_AFTER_CALL
#: outcomes that leave the call's queue levels alone (an answered call left them at delivery)
_QUEUES_KEPT = frozenset({"answered", "open"})
#: outcomes after which the caller may try again
_REDIALLING = frozenset({"blocked", "abandoned", "ivr_abandoned"})
# counter columns, looked up once (``_count`` runs once per attempt)
_ARRIVED = COUNTER_INDEX["arrived"]
_OFFERED = COUNTER_INDEX["offered"]
_ANSWERED_IN_SL = COUNTER_INDEX["answered_in_sl"]
_ABANDONED_IN_SL = COUNTER_INDEX["abandoned_in_sl"]
_WAITED = COUNTER_INDEX["waited"]
_WAIT_ANSWERED_SUM = COUNTER_INDEX["wait_answered_sum"]
_WAIT_ABANDONED_SUM = COUNTER_INDEX["wait_abandoned_sum"]
_TALK_SUM = COUNTER_INDEX["talk_sum"]
_WRAP_SUM = COUNTER_INDEX["wrap_sum"]


def _after(t: float, now: float) -> float:
    """The delay ``_at`` uses for absolute time ``t`` (kept, so event times repeat exactly)."""
    d = t - now
    return d if d > 0.0 else 0.0


def _delay(d: float) -> float:
    """``env.timeout``'s check, kept where it applied: a negative delay is an error."""
    if d < 0:
        raise ValueError(f"Negative delay {d}")
    return d


class _Draws:
    """Draws from one distribution in blocks: one numpy call per 512 values, not per call.

    Still deterministic per (seed, replication, source), so runs repeat exactly
    and policy comparisons keep their common random numbers.
    """

    __slots__ = ("buf", "dist", "rng")

    def __init__(self, dist: Any, rng: np.random.Generator) -> None:
        self.dist = dist
        self.rng = rng
        #: the block's values not yet used, last first (``pop`` is the cheapest read)
        self.buf: list[float] = []

    def __call__(self) -> float:
        buf = self.buf
        if not buf:
            buf = self.buf = self.dist.sample(self.rng, 512).tolist()
            buf.reverse()
        return buf.pop()


class _Attempt:
    """One call attempt while it is in the system (becomes one CDR row)."""

    __slots__ = (
        "agent",
        "answered_at",
        "arrival",
        "attempt",
        "attributes",
        "call_id",
        "customer",
        "done",
        "ended",
        "entry",
        "handle",
        "ivr_end",
        "ivr_start",
        "offered",
        "priority",
        "queue",
        "queues",
        "redial_of",
        "ringing",
        "row",
        "service",
        "talk",
        "trunk",
        "wrap",
    )

    def __init__(
        self, row: int, entry: int, arrival: float, customer: int, attempt: int, redial_of: int
    ) -> None:
        self.row = row
        self.entry = entry
        self.service = entry
        self.arrival = arrival
        self.customer = customer
        self.attempt = attempt
        self.redial_of = redial_of
        self.ivr_start = math.nan
        self.ivr_end = math.nan
        self.offered = math.nan
        self.answered_at = math.nan
        self.ended = math.nan
        self.wrap = math.nan
        self.handle = 0.0  # drawn at offer (common random numbers across policies)
        self.talk = 0.0  # the handle time scaled for the answering agent's level
        self.priority = 0
        self.agent = -1
        self.queue = -1
        #: queues the call waits in; None until the first Enqueue (most calls never wait)
        self.queues: list[str] | None = None
        self.ringing: str | None = None
        self.trunk = False
        self.done = False
        self.attributes: Mapping[str, str] = _NO_ATTRIBUTES
        self.call_id = ""  # set when the call reaches the ACD


# ---------------------------------------------------------------- SimPy wake-ups
#
# ``env.timeout(d)`` plus ``callbacks.append(lambda ...)`` costs a Timeout, a
# list append and a closure (often two) per scheduled action. These events are
# what a Timeout is once created — already triggered (``_ok``, value None) and
# put on SimPy's queue with ``env.schedule(ev, NORMAL, delay)`` — but carry
# their payload, and their one callback is a bound method of ``Center``.
# ``Environment.step`` only reads ``callbacks`` and ``_ok``. Scheduling happens
# at the same points, in the same order, with the same delays as the
# ``env.timeout`` calls they replace, so SimPy's tie order (by insertion) and
# hence every seed's results are unchanged.


class _Triggered(simpy.Event):
    """Already triggered and successful, as a Timeout is once made; ``env.step`` reads these."""

    _ok = True
    _value = None


class _Wake(_Triggered):
    """A triggered event that calls ``fn()`` (rare actions: shifts, supervisor, redials)."""

    def __init__(
        self, env: simpy.Environment, callback: Callable[[Any], None], fn: Callable[[], None]
    ) -> None:
        self.env = env
        self.callbacks = [callback]
        self.fn = fn


class _CallWake(_Triggered):
    """A triggered event about one attempt (and agent): patience, ringing, talk, wrap-up."""

    def __init__(
        self, env: simpy.Environment, callback: Callable[[Any], None], a: _Attempt, agent: str
    ) -> None:
        self.env = env
        self.callbacks = [callback]
        self.a = a
        self.agent = agent


class _IvrWake(_Triggered):
    """A triggered event: the caller leaves the IVR with the path's result."""

    def __init__(
        self,
        env: simpy.Environment,
        callback: Callable[[Any], None],
        a: _Attempt,
        result: tuple[str, str | None, str | None],
    ) -> None:
        self.env = env
        self.callbacks = [callback]
        self.a = a
        self.result = result


class _TimerWake(_Triggered):
    """A triggered event: an ACD timer is due (if it was not cancelled or re-armed)."""

    def __init__(
        self, env: simpy.Environment, callback: Callable[[Any], None], key: TimerKey, at: float
    ) -> None:
        self.env = env
        self.callbacks = [callback]
        self.key = key
        self.at = at


class _ArrivalStream(_Triggered):
    """A day's (or a trace's) arrivals: one event object rescheduled for each arrival."""

    def __init__(
        self,
        env: simpy.Environment,
        callback: Callable[[Any], None],
        times: list[float],
        codes: list[int],
        day: float,
    ) -> None:
        self.env = env
        self.callbacks = [callback]
        self.times = times
        self.codes = codes
        self.day = day
        self.i = 0


class Center:
    """One replication of a scenario on a SimPy environment.

    ``horizon``: arrivals stop at this time (seconds since the epoch, midnight
    of day 0); calls in the system are then served to the end (at most
    ``drain`` more seconds). ``warmup``: attempts arriving earlier are not
    counted in KPIs (the CDR still lists them). ``interval``: KPI interval
    length. ``record``: keep per-attempt CDRs and agent-state timelines
    (KPIs are streamed either way).
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        streams: Streams,
        horizon: float,
        warmup: float = 0.0,
        interval: float = 1800.0,
        record: bool = True,
        ring_time: float = 0.0,
        drain: float = 4 * 3600.0,
        env: simpy.Environment | None = None,
        policies: dict[str, Any] | None = None,
        arrivals: Sequence[tuple[float, str]] | None = None,
        rona_recovery: float = 60.0,
    ) -> None:
        if not horizon > 0:
            raise ValueError(f"horizon must be > 0 seconds, got {horizon!r}")
        if not 0 <= warmup < horizon:
            raise ValueError(f"warmup must be in [0, horizon), got {warmup!r}")
        if not interval > 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval!r}")
        if not ring_time >= 0:
            raise ValueError(f"ring_time must be >= 0 seconds, got {ring_time!r}")
        self.scenario = scenario
        self.env = env if env is not None else simpy.Environment()
        self.streams = streams
        self.horizon = float(horizon)
        self.warmup = float(warmup)
        self.interval = float(interval)
        self.record = record
        self.ring_time = float(ring_time)
        self.drain = float(drain)
        if not rona_recovery > 0:
            raise ValueError(f"rona_recovery must be > 0 seconds, got {rona_recovery!r}")
        #: seconds an agent made not ready by ring-no-answer takes to make themself ready again
        self.rona_recovery = float(rona_recovery)

        cfg = scenario.acd_config()
        # The agent ends wrap-up at a sampled time; the ACD's timed wrap-up is off.
        cfg = dataclasses.replace(
            cfg,
            wrap_up={s: (math.inf if v > 0 else 0.0) for s, v in cfg.wrap_up.items()},
            default_wrap_up=math.inf if cfg.default_wrap_up > 0 else 0.0,
        )
        self.acd = ACD(cfg, **self._policies(policies))

        self.services = [s.name for s in scenario.services]
        self._svc_code = {n: i for i, n in enumerate(self.services)}
        self._svc = list(scenario.services)
        self._svc_sl = [
            (s.service_level or scenario.service_level).seconds for s in scenario.services
        ]
        self.agents = list(scenario.agent_ids())
        self._agent_code = {a: i for i, a in enumerate(self.agents)}
        self._no_answer: dict[str, float] = {}
        self._agent_skills: dict[str, dict[str, int]] = {}
        for g in scenario.agent_groups:
            for a in g.agent_ids():
                self._no_answer[a] = g.no_answer_probability
                self._agent_skills[a] = dict(g.skills)
        self.queues = [s.name for s in scenario.skills]
        self._queue_code = {q: i for i, q in enumerate(self.queues)}
        self._default_wrap = scenario.timing.wrap_up
        st = self.streams
        self._draw_aht = [
            _Draws(v.aht, st.service) if v.aht is not None else None for v in self._svc
        ]
        self._draw_patience = [_Draws(v.patience, st.patience) for v in self._svc]
        self._draw_wrap = [
            _Draws(v.wrap_up if v.wrap_up is not None else self._default_wrap, st.service)
            for v in self._svc
        ]

        self.cdr = CdrStore() if record else None
        self.counters = IntervalCounters(len(self.services), self.interval)
        self.levels = LevelTimes(self.interval, (self.warmup, self.horizon))
        lv = self.levels
        self._k_trunks = lv.key("trunks")
        self._k_ivr = lv.key("ivr_ports")
        k_state = {st: lv.key("agents:" + st.value) for st in AgentState}
        k_queue = {q.name: lv.key("queue:" + q.name) for q in scenario.skills}
        # Level changes go straight into the collector's buffers (see ``LevelTimes``):
        # two appends per change, codes worked out once here.
        self._lv_time = lv.times.append
        self._lv_code = lv.codes.append
        self._trunk_up, self._trunk_down = lv.code(self._k_trunks, 1), lv.code(self._k_trunks, -1)
        self._ivr_up, self._ivr_down = lv.code(self._k_ivr, 1), lv.code(self._k_ivr, -1)
        self._state_up = {st: lv.code(k, 1) for st, k in k_state.items()}
        self._state_down = {st: lv.code(k, -1) for st, k in k_state.items()}
        self._queue_up = {q: lv.code(k, 1) for q, k in k_queue.items()}
        self._queue_down = {q: lv.code(k, -1) for q, k in k_queue.items()}
        self._aht_by_level = [bool(s.aht_level_factors) for s in self._svc]
        #: agent state changes as typed columns (13 bytes each), when records are kept
        self.drop_timeline()
        self._attempts: dict[str, _Attempt] = {}
        self._agent_state: dict[str, AgentState] = {}
        self._agent_call: dict[str, int] = {}
        self._timers: dict[TimerKey, float] = {}
        self._new_timers: dict[TimerKey, float] = {}
        self._feeds: deque[Event] = deque()
        self._feeding = False
        #: command type -> handler; types not listed (Announce, Conference, Transfer)
        #: have no effect on the simulated timeline
        self._handlers: dict[type, Callable[[Any], None]] = {
            Deliver: self._deliver,
            SetAgentState: self._set_agent_state,
            StartTimer: self._start_timer,
            CancelTimer: self._cancel_timer,
            Enqueue: self._enqueue,
            Retract: self._retract,
            Overflow: self._overflowed,
            Disconnect: self._disconnected,
            OfferCallback: self._offered_callback,
        }
        self._rows = 0
        self._customers = 0
        self.trunks = scenario.trunks.count if scenario.trunks is not None else None
        self.ivr_ports = scenario.ivr.ports if scenario.ivr is not None else None
        self._trunks_busy = 0
        self._ivr_busy = 0
        self.rejected: list[tuple[Event, str]] = []
        self._trace: list[tuple[float, int]] | None = None
        if arrivals is not None:
            trace = []
            for i, (t, name) in enumerate(arrivals):
                if name not in self._svc_code:
                    raise ValueError(f"arrivals[{i}]: unknown service {name!r}")
                if not 0 <= t < self.horizon:
                    raise ValueError(f"arrivals[{i}]: time must be in [0, horizon), got {t!r}")
                trace.append((float(t), self._svc_code[name]))
            self._trace = sorted(trace, key=lambda x: x[0])

    # ---------------------------------------------------------------- set-up

    def _push(self, event: simpy.Event, priority: int, delay: float) -> None:
        """``Environment.schedule`` without the Python call: the same heap entry.

        SimPy's clock (``_now``), queue (``_queue``) and event ids (``_eid``) are
        read directly, as ``schedule`` and ``now`` do; this runs twice per call.
        """
        env = self.env
        queue: list[Any] = env._queue
        heappush(queue, (env._now + delay, priority, next(env._eid), event))

    def _policies(self, given: dict[str, Any] | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        specs = self.scenario.policies
        slots = {
            "agent_selector": specs.agent_selector,
            "call_selector": specs.call_selector,
            "discipline": specs.queue_discipline,
            "ewt": specs.ewt,
        }
        for slot, spec in slots.items():
            if given and slot in given:
                out[slot] = given[slot]
            elif spec is not None:
                out[slot] = resolve_policy(spec, BUILTIN_POLICIES, where=f"policies.{slot}")
        for policy in out.values():
            params: dict[str, Any] = getattr(policy, "get_params", dict)()
            if "random_state" in params and params["random_state"] is None:
                policy.set_params(random_state=self.streams.policy)
        return out

    def start(self) -> None:
        """Schedule arrivals, agent schedules and supervisor actions."""
        self._schedule_agents()
        self._schedule_supervisor()
        if self._trace is None:
            self._day_arrivals(0)
        else:  # trace-driven: replay given arrival times (tests, recorded days)
            times = [t for t, _ in self._trace]
            codes = [c for _, c in self._trace]
            self._arrival_iter(times, codes, 0, math.inf)

    def run(self) -> None:
        """Start and run to the end (horizon plus drain)."""
        self.start()
        self.env.run(until=self.horizon + self.drain)
        self._close()

    def _at(self, t: float, fn: Callable[[], None]) -> None:
        """Call ``fn`` at absolute time ``t`` (now if ``t`` has passed)."""
        env = self.env
        self._push(_Wake(env, self._call_fn, fn), NORMAL, max(0.0, t - env._now))

    @staticmethod
    def _call_fn(ev: _Wake) -> None:
        ev.fn()

    def _schedule_agents(self) -> None:
        days = math.ceil(self.horizon / DAY)
        for g in self.scenario.agent_groups:
            ids = g.agent_ids()
            skills = dict(g.skills)
            if not g.shifts:
                for a in ids:
                    self._at(0.0, self._feeder(AgentLoggedOn, a, skills=skills, ready=True))
                continue
            first = 0
            for shift in g.shifts:
                n = shift.agents if shift.agents is not None else len(ids)
                members = ids[first : first + n] if shift.agents is not None else ids
                if shift.agents is not None:
                    first += n
                # day -1: a shift running past midnight is still on duty when the run starts
                for d in range(-1, days):
                    base = d * DAY
                    if base + shift.start >= self.horizon:
                        break
                    if base + shift.end <= 0:
                        continue
                    for k, a in enumerate(members):
                        self._at(
                            max(0.0, base + shift.start),
                            self._feeder(AgentLoggedOn, a, skills=skills, ready=True),
                        )
                        for b0, b1, reason in shift.break_windows(k):
                            if base + b0 < 0:
                                continue  # a break that began before the run is not replayed
                            self._at(base + b0, self._feeder(AgentNotReady, a, reason=reason))
                            self._at(base + b1, self._feeder(AgentReady, a))
                        self._at(base + shift.end, self._feeder(AgentLoggedOff, a))

    def _schedule_supervisor(self) -> None:
        kinds: dict[str, Any] = {
            "force_ready": ForceReady,
            "force_not_ready": ForceNotReady,
            "force_logout": ForceLogout,
        }
        for act in self.scenario.supervisor:
            targets = (
                [act.agent]
                if act.agent is not None
                else list(self.scenario.agent_group(act.group or "").agent_ids())
            )
            cls = kinds[act.action]
            for a in targets:
                kw: dict[str, Any] = {"supervisor": "scenario"}
                if cls is ForceNotReady:
                    kw["reason"] = act.reason
                self._at(act.at, self._feeder(cls, a, **kw))

    def _rona_recovered(self, agent: str) -> Callable[[], None]:
        def fire() -> None:
            if self._agent_state.get(agent) is AgentState.NOT_READY:
                view = self.acd.agent(agent)
                if view.reason == "rona":
                    self._feed(AgentReady(at=self.env._now, agent_id=agent))

        return fire

    def _feeder(self, cls: Any, agent: str, **kw: Any) -> Callable[[], None]:
        def fire() -> None:
            self._feed(cls(at=self.env._now, agent_id=agent, **kw))

        return fire

    # ---------------------------------------------------------------- arrivals

    def _day_arrivals(self, day: int) -> None:
        """Generate one day of arrivals for every service (per-interval Poisson counts)."""
        base = day * DAY
        if base >= self.horizon:
            return
        rng = self.streams.arrivals
        times: list[np.ndarray] = []
        codes: list[np.ndarray] = []
        for code, svc in enumerate(self._svc):
            arr = svc.arrivals
            if arr is None:
                continue
            factor = arr.daily_factor(self.streams.daily)
            if arr.calls is None:
                assert arr.rate_per_hour is not None
                mean = arr.rate_per_hour / 3600.0 * DAY * factor
                n = int(rng.poisson(mean))
                t = base + rng.random(n) * DAY
            else:
                counts = rng.poisson(np.asarray(arr.calls, dtype=float) * factor)
                starts = base + arr.start + arr.interval * np.arange(len(arr.calls))
                t = np.repeat(starts, counts) + rng.random(int(counts.sum())) * arr.interval
            times.append(t)
            codes.append(np.full(t.size, code, dtype=np.int64))
        if not times:
            return
        t_all = np.concatenate(times)
        c_all = np.concatenate(codes)
        order = np.argsort(t_all, kind="stable")
        t_all, c_all = t_all[order], c_all[order]
        keep = t_all < self.horizon
        self._arrival_iter(t_all[keep].tolist(), c_all[keep].tolist(), 0, day)

    def _arrival_iter(self, times: list[float], codes: list[int], i: int, day: float) -> None:
        if i >= len(times):
            self._next_day(day)
            return
        stream = _ArrivalStream(self.env, self._arrival, times, codes, day)
        stream.i = i
        self._push(stream, NORMAL, _delay(times[i] - self.env._now))

    def _next_day(self, day: float) -> None:
        if math.isfinite(day):
            nxt = int(day) + 1
            self._at(nxt * DAY, lambda: self._day_arrivals(nxt))

    def _arrival(self, ev: _ArrivalStream) -> None:
        """One arrival of a stream; the same event object is then scheduled for the next."""
        levels = self.levels
        if len(levels.codes) >= levels.FOLD_EVERY:
            levels.fold()  # keeps the level-change buffer bounded (this driver appends directly)
        i = ev.i
        self._customers += 1
        self._arrive(ev.codes[i], self._customers, 1, -1)
        i += 1
        times = ev.times
        if i >= len(times):
            self._next_day(ev.day)
            return
        ev.i = i
        ev.callbacks = [self._arrival]
        self._push(ev, NORMAL, _delay(times[i] - self.env._now))

    def _arrive(self, entry: int, customer: int, attempt: int, redial_of: int) -> None:
        now = self.env._now
        row = self._rows
        self._rows += 1
        a = _Attempt(row, entry, now, customer, attempt, redial_of)
        svc = self._svc[entry]
        if svc.attributes:
            a.attributes = svc.sample_attributes(self.streams.attributes)
        if self.trunks is not None:
            if self._trunks_busy >= self.trunks:
                self._finish(a, "blocked")
                return
            self._trunks_busy += 1
            a.trunk = True
            self._lv_time(now)
            self._lv_code(self._trunk_up)
        if svc.ivr is not None:
            self._enter_ivr(a, svc.ivr)
        else:
            self._offer(a, entry, svc.routing_point)

    def _enter_ivr(self, a: _Attempt, node_name: str) -> None:
        now = self.env._now
        ivr = self.scenario.ivr
        assert ivr is not None and self.ivr_ports is not None
        if self._ivr_busy >= self.ivr_ports:
            self._finish(a, "blocked")
            return
        self._ivr_busy += 1
        self._lv_time(now)
        self._lv_code(self._ivr_up)
        a.ivr_start = now
        path = ivr.walk(node_name, self.streams.ivr)
        result = (path.outcome, path.service, path.routing_point)
        ev = _IvrWake(self.env, self._leave_ivr, a, result)
        self._push(ev, NORMAL, _after(now + path.duration, now))

    def _leave_ivr(self, ev: _IvrWake) -> None:
        a = ev.a
        t = self.env._now
        self._ivr_busy -= 1
        self._lv_time(t)
        self._lv_code(self._ivr_down)
        a.ivr_end = t
        kind, service, point = ev.result
        if kind == "agent":
            assert service is not None
            svc_code = self._svc_code[service]
            self._offer(a, svc_code, point or self._svc[svc_code].routing_point)
        else:
            self._finish(a, kind)

    def _offer(self, a: _Attempt, service: int, routing_point: str | None) -> None:
        now = self.env._now
        svc = self._svc[service]
        a.service = service
        a.offered = now
        draw_aht = self._draw_aht[service]
        assert draw_aht is not None
        a.handle = draw_aht()
        a.priority = svc.priority
        call_id = a.call_id = str(a.row)
        self._attempts[call_id] = a
        patience = self._draw_patience[service]()
        attributes = a.attributes
        if service != a.entry and svc.attributes:
            # a call leaving the IVR keeps its entry attributes; the new service draws the rest
            drawn = svc.sample_attributes(self.streams.attributes)
            attributes = {**drawn, **attributes}
        if type(attributes) is not MappingProxyType:
            attributes = MappingProxyType(dict(attributes)) if attributes else _NO_ATTRIBUTES
        # trusted values in field order (events.py: _make skips the keyword parsing)
        self._feed(_mk_offered((now, call_id, svc.name, routing_point, svc.priority, attributes)))
        if math.isfinite(patience) and not a.done and a.answered_at != a.answered_at:
            self._push(_CallWake(self.env, self._patience_out, a, ""), NORMAL, _delay(patience))

    def _patience_out(self, ev: _CallWake) -> None:
        a = ev.a
        if a.done or a.answered_at == a.answered_at:  # done, or answered (not NaN)
            return
        self._feed(_mk_abandoned((self.env._now, a.call_id)))

    # ---------------------------------------------------------------- the ACD loop

    def _feed(self, ev: Event) -> None:
        """Hand one event to the ACD and execute its commands (and follow-ups) now.

        Events fed while commands execute (an instant answer, an abandon ...)
        wait in ``_feeds`` and are handled in order after the current event's
        commands, as if each had its own turn.
        """
        if self._feeding:
            self._feeds.append(ev)
            return
        self._feeding = True
        feeds = self._feeds
        handle = self.acd.handle
        handlers = self._handlers
        try:
            while True:
                try:
                    commands = handle(ev)
                except ACDError as exc:
                    self._rejected(ev, exc)
                else:
                    if type(ev) is CallAbandoned:
                        self._abandoned(ev.call_id)
                    for cmd in commands:
                        try:
                            run = handlers[type(cmd)]
                        except KeyError:
                            continue  # Announce, Conference, Transfer: no effect on the timeline
                        run(cmd)
                if not feeds:
                    break
                ev = feeds.popleft()
        finally:
            self._feeding = False
        new_timers = self._new_timers
        if new_timers:  # armed only if still set now (most ring timers are cancelled at once)
            timers = self._timers
            for key, at in new_timers.items():
                if timers.get(key) == at:
                    self._arm(key, at)
            new_timers.clear()

    def _rejected(self, event: Event, exc: ACDError) -> None:
        """Events the ACD refuses (a break ending after logoff ...) are kept, not fatal."""
        self.rejected.append((event, str(exc)))

    def _arm(self, key: TimerKey, at: float) -> None:
        env = self.env
        self._push(_TimerWake(env, self._timer_due, key, at), NORMAL, _delay(at - env._now))

    def _timer_due(self, ev: _TimerWake) -> None:
        key = ev.key
        if self._timers.get(key) == ev.at:
            del self._timers[key]
            self._feed(_mk_timer((self.env._now, key)))

    # ---------------------------------------------------------------- commands

    def _deliver(self, cmd: Deliver) -> None:
        now = self.env._now
        a = self._attempts[cmd.call_id]
        if a.queues:
            self._leave_queues(a, now)
        agent = cmd.agent_id
        a.ringing = agent
        if self._aht_by_level[a.service] and cmd.queue is not None:
            level = self._agent_skills[agent].get(cmd.queue, 16)
            a.talk = a.handle * self._svc[a.service].aht_factor(level)
        else:
            a.talk = a.handle
        p_miss = self._no_answer.get(agent, 0.0)
        misses = bool(p_miss) and (self.streams.agents.random() < p_miss)
        if self.ring_time == 0.0 and not misses:
            # a zero-length ring is logged but adds nothing to the level integrals
            # (``_agent_changed(agent, RESERVED, now, levels=False)``, inline)
            if self.record and self._agent_state.get(agent) is not _RESERVED:
                self._tl_add_t(now)
                self._tl_add_agent(self._agent_code[agent])
                self._tl_add_state(_STATE_CODE[_RESERVED])
            self._answer(a, agent)
            return
        self._agent_changed(agent, _RESERVED, now)
        if misses:
            return  # the agent will not pick up: the ACD's ring timer takes over (RONA)
        ev = _CallWake(self.env, self._ring_answered, a, agent)
        self._push(ev, NORMAL, _after(now + self.ring_time, now))

    def _ring_answered(self, ev: _CallWake) -> None:
        self._answer(ev.a, ev.agent)

    def _set_agent_state(self, cmd: SetAgentState) -> None:
        now = self.env._now
        self._agent_changed(cmd.agent_id, cmd.state, now)
        if cmd.state is _NOT_READY and cmd.reason == "rona":
            self._at(now + self.rona_recovery, self._rona_recovered(cmd.agent_id))

    def _start_timer(self, cmd: StartTimer) -> None:
        if math.isfinite(cmd.at):
            self._timers[cmd.key] = cmd.at
            self._new_timers[cmd.key] = cmd.at

    def _cancel_timer(self, cmd: CancelTimer) -> None:
        self._timers.pop(cmd.key, None)

    def _enqueue(self, cmd: Enqueue) -> None:
        a = self._attempts[cmd.call_id]
        queue = cmd.queue
        if a.queues is None:
            a.queues = [queue]
        else:
            a.queues.append(queue)
        if a.queue < 0:
            a.queue = self._queue_code[queue]
        self._lv_time(self.env._now)
        self._lv_code(self._queue_up[queue])

    def _retract(self, cmd: Retract) -> None:
        self._attempts[cmd.call_id].ringing = None

    def _overflowed(self, cmd: Overflow) -> None:
        self._finish(self._attempts[cmd.call_id], "overflowed")

    def _disconnected(self, cmd: Disconnect) -> None:
        self._finish(self._attempts[cmd.call_id], "disconnected")

    def _offered_callback(self, cmd: OfferCallback) -> None:
        self._finish(self._attempts[cmd.call_id], "callback")

    # ---------------------------------------------------------------- calls and agents

    def _leave_queues(self, a: _Attempt, now: float) -> None:
        queues = a.queues
        if queues:
            down = self._queue_down
            for q in queues:
                self._lv_time(now)
                self._lv_code(down[q])
            queues.clear()

    def _agent_changed(
        self, agent: str, state: AgentState, now: float, levels: bool = True
    ) -> None:
        states = self._agent_state
        old = states.get(agent)
        if old is state:
            return
        if levels:
            add_time = self._lv_time
            add_code = self._lv_code
            if old is not None:
                add_time(now)
                add_code(self._state_down[old])
            add_time(now)
            add_code(self._state_up[state])
            states[agent] = state
        if self.record:
            self._tl_add_t(now)
            self._tl_add_agent(self._agent_code[agent])
            self._tl_add_state(_STATE_CODE[state])

    def _answer(self, a: _Attempt, agent: str) -> None:
        if a.done or a.ringing != agent:
            return
        now = self.env._now
        a.ringing = None
        a.answered_at = now
        a.agent = self._agent_code[agent]
        self._agent_call[agent] = a.row
        self._agent_changed(agent, _BUSY, now)
        self._feed(_mk_answered((now, a.call_id, agent)))
        delay = (now + a.talk) - now  # as _at(now + talk) computes it: event times repeat exactly
        self._push(_CallWake(self.env, self._end, a, agent), NORMAL, delay if delay > 0.0 else 0.0)

    def _end(self, ev: _CallWake) -> None:
        a = ev.a
        agent = ev.agent
        now = self.env._now
        a.ended = now
        wrap = self._draw_wrap[a.service]()
        a.wrap = wrap
        self._finish(a, "answered")
        self._feed(_mk_ended((now, a.call_id)))
        # A drawn wrap-up of 0 (an empirical distribution may contain it) still
        # ends the wrap-up state the ACD entered, or the agent would stay in it.
        if wrap > 0 or self._agent_state.get(agent) is _WRAP_UP:
            ev.callbacks = [self._wrap_done]  # the processed event is reused for the next step
            delay = (now + wrap) - now
            self._push(ev, NORMAL, delay if delay > 0.0 else 0.0)

    def _wrap_done(self, ev: _CallWake) -> None:
        agent = ev.agent
        if self._agent_state.get(agent) is _WRAP_UP and self._agent_call.get(agent) == ev.a.row:
            self._feed(_mk_wrap_ended((self.env._now, agent)))

    def _abandoned(self, call_id: str) -> None:
        a = self._attempts.get(call_id)
        if a is not None and not a.done:
            self._leave_queues(a, self.env._now)
            a.ringing = None
            a.ended = self.env._now
            self._finish(a, "abandoned")

    # ---------------------------------------------------------------- completion

    def _finish(self, a: _Attempt, outcome: str) -> None:
        if a.done:
            return
        a.done = True
        now = self.env._now
        if a.ended != a.ended:  # NaN: not set yet
            a.ended = now
        if a.trunk:
            a.trunk = False
            self._trunks_busy -= 1
            self._lv_time(now)
            self._lv_code(self._trunk_down)
        if a.call_id:
            self._attempts.pop(a.call_id, None)
        if a.queues and outcome not in _QUEUES_KEPT:
            self._leave_queues(a, now)
        if a.arrival >= self.warmup:
            self._count(a, outcome)
        if self.cdr is not None:
            self.cdr.add(
                a.row,
                (
                    a.arrival,
                    a.ivr_start,
                    a.ivr_end,
                    a.offered,
                    a.answered_at,
                    a.ended,
                    a.wrap,
                    a.customer,
                    a.redial_of,
                    a.agent,
                    a.queue,
                    a.service,
                    a.entry,
                    a.attempt,
                    OUTCOME_CODE[outcome],
                    a.priority,
                ),
            )
        if outcome in _REDIALLING:
            entry = self._svc[a.entry]
            p = entry.redial_probability
            if p > 0 and self.streams.redial.random() < p and entry.redial_delay is not None:
                delay = float(entry.redial_delay.sample(self.streams.redial))
                if now + delay < self.horizon:
                    customer, attempt, row = a.customer, a.attempt + 1, a.row
                    self._at(now + delay, lambda: self._arrive(a.entry, customer, attempt, row))

    def _count(self, a: _Attempt, outcome: str) -> None:
        counters = self.counters
        interval = int(a.arrival // counters.interval)
        row = counters.rows.get((interval, a.entry))
        if row is None:
            row = counters.bucket(a.arrival, a.entry)
        row[_ARRIVED] += 1
        if a.service != a.entry:
            row = counters.bucket(a.arrival, a.service)
        if outcome != "open":
            row[COUNTER_INDEX[outcome]] += 1
        if a.offered != a.offered:  # NaN: never reached the ACD
            return
        row[_OFFERED] += 1
        sl = self._svc_sl[a.service]
        if outcome == "answered":
            wait = a.answered_at - a.offered
            row[_WAIT_ANSWERED_SUM] += wait
            row[_TALK_SUM] += a.ended - a.answered_at
            row[_WRAP_SUM] += a.wrap
            if wait <= sl:
                row[_ANSWERED_IN_SL] += 1
            if wait > 0:
                row[_WAITED] += 1
        elif outcome == "abandoned":
            wait = a.ended - a.offered
            row[_WAIT_ABANDONED_SUM] += wait
            row[_WAITED] += 1
            if wait <= sl:
                row[_ABANDONED_IN_SL] += 1

    def _close(self) -> None:
        """End of run: calls still in the system are recorded as ``open``."""
        for a in list(self._attempts.values()):
            if a.queues:
                self._leave_queues(a, self.env._now)
            self._finish(a, "open")
        self.levels.close(self.env._now)

    # ---------------------------------------------------------------- outputs

    def drop_timeline(self) -> None:
        """Free the recorded agent-state changes (after ``timeline()`` was taken)."""
        self._tl_t = array("d")
        self._tl_agent = array("i")
        self._tl_state = array("b")
        self._tl_add_t = self._tl_t.append
        self._tl_add_agent = self._tl_agent.append
        self._tl_add_state = self._tl_state.append

    def timeline(self) -> np.ndarray:
        """Agent state changes as a structured array (t, agent code, state code)."""
        dtype = np.dtype([("t", "f8"), ("agent", "i4"), ("state", "i1")])
        out = np.empty(len(self._tl_t), dtype=dtype)
        out["t"] = np.frombuffer(self._tl_t, dtype=np.float64)
        out["agent"] = np.frombuffer(self._tl_agent, dtype=np.int32)
        out["state"] = np.frombuffer(self._tl_state, dtype=np.int8)
        return out
