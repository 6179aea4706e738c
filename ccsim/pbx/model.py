"""The simulated center: SimPy drives time, the shared ACD decides every route.

``Center`` turns a scenario into SimPy events — arrivals, trunks, IVR paths,
caller patience and redials, agents' shifts, breaks, ringing, talking and
wrap-up, scripted supervisor actions — feeds the resulting ACD events to the
very ``ccsim.acd.ACD`` the live binding uses, and carries out the commands it
returns. It contains no routing decision of its own.

Why callbacks and not one SimPy process per call or agent: every step here is
"wait a sampled time, then feed one event". A ``env.timeout`` with a callback
is SimPy's cheapest event; a generator process per call would add a frame
switch per step for no modelling gain. Everything still runs on SimPy's clock
and queue, and any other SimPy process can share the environment.

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
from types import MappingProxyType
from typing import Any

import numpy as np
import simpy

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

__all__ = ["DAY", "Center"]

DAY = 86_400.0
_AGENT_STATES = tuple(AgentState)
#: shared by callers without attributes (CallOffered keeps a read-only mapping as is)
_NO_ATTRIBUTES: Mapping[str, str] = MappingProxyType({})
_STATE_CODE = {s: i for i, s in enumerate(_AGENT_STATES)}


class _Draws:
    """Draws from one distribution in blocks: one numpy call per 512 values, not per call.

    Still deterministic per (seed, replication, source), so runs repeat exactly
    and policy comparisons keep their common random numbers.
    """

    __slots__ = ("buf", "dist", "i", "rng")

    def __init__(self, dist: Any, rng: np.random.Generator) -> None:
        self.dist = dist
        self.rng = rng
        self.buf: list[float] = []
        self.i = 0

    def __call__(self) -> float:
        i = self.i
        if i >= len(self.buf):
            self.buf = self.dist.sample(self.rng, 512).tolist()
            i = 0
        self.i = i + 1
        return self.buf[i]


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
        self.queues: list[str] = []
        self.ringing: str | None = None
        self.trunk = False
        self.done = False
        self.attributes: Mapping[str, str] = _NO_ATTRIBUTES
        self.call_id = ""  # set when the call reaches the ACD


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
        self._k_state = {st: lv.key("agents:" + st.value) for st in AgentState}
        self._k_queue = {q.name: lv.key("queue:" + q.name) for q in scenario.skills}
        #: agent state changes as typed columns (13 bytes each), when records are kept
        self._tl_t = array("d")
        self._tl_agent = array("i")
        self._tl_state = array("b")
        self._attempts: dict[str, _Attempt] = {}
        self._agent_state: dict[str, AgentState] = {}
        self._agent_call: dict[str, int] = {}
        self._timers: dict[TimerKey, float] = {}
        self._new_timers: dict[TimerKey, float] = {}
        self._feeds: deque[Event] = deque()
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
        ev = self.env.timeout(max(0.0, t - self.env.now))
        ev.callbacks.append(lambda _e: fn())

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
                    self._feed(AgentReady(at=self.env.now, agent_id=agent))

        return fire

    def _feeder(self, cls: Any, agent: str, **kw: Any) -> Callable[[], None]:
        def fire() -> None:
            self._feed(cls(at=self.env.now, agent_id=agent, **kw))

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
            if math.isfinite(day):
                nxt = int(day) + 1
                self._at(nxt * DAY, lambda: self._day_arrivals(nxt))
            return
        ev = self.env.timeout(times[i] - self.env.now)

        def fire(_e: object) -> None:
            self._customers += 1
            self._arrive(codes[i], self._customers, 1, -1)
            self._arrival_iter(times, codes, i + 1, day)

        ev.callbacks.append(fire)

    def _arrive(self, entry: int, customer: int, attempt: int, redial_of: int) -> None:
        now = self.env.now
        row = self._rows
        self._rows += 1
        a = _Attempt(row, entry, now, customer, attempt, redial_of)
        entry_svc = self._svc[entry]
        if entry_svc.attributes:
            a.attributes = entry_svc.sample_attributes(self.streams.attributes)
        if self.trunks is not None:
            if self._trunks_busy >= self.trunks:
                self._finish(a, "blocked")
                return
            self._trunks_busy += 1
            a.trunk = True
            self.levels.change(self._k_trunks, 1, now)
        svc = self._svc[entry]
        if svc.ivr is not None:
            self._enter_ivr(a, svc.ivr)
        else:
            self._offer(a, entry, svc.routing_point)

    def _enter_ivr(self, a: _Attempt, node_name: str) -> None:
        now = self.env.now
        ivr = self.scenario.ivr
        assert ivr is not None and self.ivr_ports is not None
        if self._ivr_busy >= self.ivr_ports:
            self._finish(a, "blocked")
            return
        self._ivr_busy += 1
        self.levels.change(self._k_ivr, 1, now)
        a.ivr_start = now
        path = ivr.walk(node_name, self.streams.ivr)
        result = (path.outcome, path.service, path.routing_point)
        duration = path.duration

        def leave() -> None:
            t = self.env.now
            self._ivr_busy -= 1
            self.levels.change(self._k_ivr, -1, t)
            a.ivr_end = t
            kind, service, point = result
            if kind == "agent":
                assert service is not None
                svc_code = self._svc_code[service]
                self._offer(a, svc_code, point or self._svc[svc_code].routing_point)
            else:
                self._finish(a, kind)

        self._at(now + duration, leave)

    def _offer(self, a: _Attempt, service: int, routing_point: str | None) -> None:
        now = self.env.now
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
        ev = CallOffered(
            at=now,
            call_id=call_id,
            service=svc.name,
            routing_point=routing_point,
            priority=svc.priority,
            attributes=attributes,
        )
        self._feed(ev)
        if math.isfinite(patience) and not a.done and math.isnan(a.answered_at):
            timeout = self.env.timeout(patience)
            timeout.callbacks.append(lambda _e: self._patience_out(a))

    def _patience_out(self, a: _Attempt) -> None:
        if a.done or not math.isnan(a.answered_at):
            return
        self._feed(CallAbandoned(at=self.env.now, call_id=a.call_id))

    # ---------------------------------------------------------------- the ACD loop

    def _feed(self, ev: Event) -> None:
        """Hand one event to the ACD and execute its commands (and follow-ups) now."""
        feeds = self._feeds
        feeds.append(ev)
        if len(feeds) > 1:
            return  # already inside the loop below
        while feeds:
            event = feeds[0]
            try:
                commands = self.acd.handle(event)
            except ACDError as exc:
                self._rejected(event, exc)
                commands = []
            else:
                if type(event) is CallAbandoned:
                    self._abandoned(event.call_id)
            for cmd in commands:
                self._execute(cmd)
            feeds.popleft()
        if self._new_timers:
            for key, at in self._new_timers.items():
                if self._timers.get(key) == at:
                    self._arm(key, at)
            self._new_timers.clear()

    def _rejected(self, event: Event, exc: ACDError) -> None:
        """Events the ACD refuses (a break ending after logoff ...) are kept, not fatal."""
        self.rejected.append((event, str(exc)))

    def _arm(self, key: TimerKey, at: float) -> None:
        ev = self.env.timeout(at - self.env.now)

        def fire(_e: object) -> None:
            if self._timers.get(key) == at:
                del self._timers[key]
                self._feed(TimerFired(at=self.env.now, key=key))

        ev.callbacks.append(fire)

    def _execute(self, cmd: Any) -> None:
        t = type(cmd)
        now = self.env.now
        if t is Deliver:
            a = self._attempts[cmd.call_id]
            self._leave_queues(a, now)
            a.ringing = cmd.agent_id
            factors = self._svc[a.service].aht_level_factors
            if factors and cmd.queue is not None:
                level = self._agent_skills[cmd.agent_id].get(cmd.queue, 16)
                a.talk = a.handle * self._svc[a.service].aht_factor(level)
            else:
                a.talk = a.handle
            misses = bool(self._no_answer.get(cmd.agent_id, 0.0)) and (
                self.streams.agents.random() < self._no_answer[cmd.agent_id]
            )
            instant = self.ring_time == 0.0 and not misses
            # a zero-length ring is logged but adds nothing to the level integrals
            self._agent_changed(cmd.agent_id, AgentState.RESERVED, now, levels=not instant)
            if misses:
                return  # the agent will not pick up: the ACD's ring timer takes over (RONA)
            if instant:
                self._answer(a, cmd.agent_id)
            else:
                agent = cmd.agent_id
                self._at(now + self.ring_time, lambda: self._answer(a, agent))
        elif t is SetAgentState:
            self._agent_changed(cmd.agent_id, cmd.state, now)
            if cmd.state is AgentState.NOT_READY and cmd.reason == "rona":
                self._at(now + self.rona_recovery, self._rona_recovered(cmd.agent_id))
        elif t is StartTimer:
            if math.isfinite(cmd.at):
                self._timers[cmd.key] = cmd.at
                self._new_timers[cmd.key] = cmd.at
        elif t is CancelTimer:
            self._timers.pop(cmd.key, None)
        elif t is Enqueue:
            a = self._attempts[cmd.call_id]
            a.queues.append(cmd.queue)
            if a.queue < 0:
                a.queue = self._queue_code[cmd.queue]
            self.levels.change(self._k_queue[cmd.queue], 1, now)
        elif t is Retract:
            a = self._attempts[cmd.call_id]
            a.ringing = None
        elif t is Overflow:
            self._finish(self._attempts[cmd.call_id], "overflowed")
        elif t is Disconnect:
            self._finish(self._attempts[cmd.call_id], "disconnected")
        elif t is OfferCallback:
            self._finish(self._attempts[cmd.call_id], "callback")
        # Announce, Conference, Transfer: no effect on the simulated timeline

    def _leave_queues(self, a: _Attempt, now: float) -> None:
        for q in a.queues:
            self.levels.change(self._k_queue[q], -1, now)
        a.queues.clear()

    def _agent_changed(
        self, agent: str, state: AgentState, now: float, levels: bool = True
    ) -> None:
        old = self._agent_state.get(agent)
        if old is state:
            return
        if levels:
            change = self.levels.change
            if old is not None:
                change(self._k_state[old], -1, now)
            change(self._k_state[state], 1, now)
            self._agent_state[agent] = state
        if self.record:
            self._tl_t.append(now)
            self._tl_agent.append(self._agent_code[agent])
            self._tl_state.append(_STATE_CODE[state])

    def _answer(self, a: _Attempt, agent: str) -> None:
        if a.done or a.ringing != agent:
            return
        now = self.env.now
        a.ringing = None
        a.answered_at = now
        a.agent = self._agent_code[agent]
        self._agent_call[agent] = a.row
        self._agent_changed(agent, AgentState.BUSY, now)
        self._feed(CallAnswered(at=now, call_id=a.call_id, agent_id=agent))
        self._at(now + a.talk, lambda: self._end(a, agent))

    def _end(self, a: _Attempt, agent: str) -> None:
        now = self.env.now
        a.ended = now
        wrap = self._draw_wrap[a.service]()
        a.wrap = wrap
        self._finish(a, "answered")
        self._feed(CallEnded(at=now, call_id=a.call_id))
        # A drawn wrap-up of 0 (an empirical distribution may contain it) still
        # ends the wrap-up state the ACD entered, or the agent would stay in it.
        if wrap > 0 or self._agent_state.get(agent) is AgentState.WORKING_AFTER_CALL:
            row = a.row

            def wrap_done() -> None:
                if (
                    self._agent_state.get(agent) is AgentState.WORKING_AFTER_CALL
                    and self._agent_call.get(agent) == row
                ):
                    self._feed(WrapUpEnded(at=self.env.now, agent_id=agent))

            self._at(now + wrap, wrap_done)

    def _abandoned(self, call_id: str) -> None:
        a = self._attempts.get(call_id)
        if a is not None and not a.done:
            self._leave_queues(a, self.env.now)
            a.ringing = None
            a.ended = self.env.now
            self._finish(a, "abandoned")

    # ---------------------------------------------------------------- completion

    def _finish(self, a: _Attempt, outcome: str) -> None:
        if a.done:
            return
        a.done = True
        now = self.env.now
        if math.isnan(a.ended):
            a.ended = now
        if a.trunk:
            a.trunk = False
            self._trunks_busy -= 1
            self.levels.change(self._k_trunks, -1, now)
        if a.call_id:
            self._attempts.pop(a.call_id, None)
        if outcome not in {"answered", "open"}:
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
        if outcome in ("blocked", "abandoned", "ivr_abandoned"):
            entry = self._svc[a.entry]
            p = entry.redial_probability
            if p > 0 and self.streams.redial.random() < p and entry.redial_delay is not None:
                delay = float(entry.redial_delay.sample(self.streams.redial))
                if now + delay < self.horizon:
                    customer, attempt, row = a.customer, a.attempt + 1, a.row
                    self._at(now + delay, lambda: self._arrive(a.entry, customer, attempt, row))

    def _count(self, a: _Attempt, outcome: str) -> None:
        arrived = self.counters.bucket(a.arrival, a.entry)
        arrived[COUNTER_INDEX["arrived"]] += 1
        row = self.counters.bucket(a.arrival, a.service)
        if outcome != "open":
            row[COUNTER_INDEX[outcome]] += 1
        if math.isnan(a.offered):
            return
        row[COUNTER_INDEX["offered"]] += 1
        sl = self._svc_sl[a.service]
        if outcome == "answered":
            wait = a.answered_at - a.offered
            row[COUNTER_INDEX["wait_answered_sum"]] += wait
            row[COUNTER_INDEX["talk_sum"]] += a.ended - a.answered_at
            row[COUNTER_INDEX["wrap_sum"]] += a.wrap
            if wait <= sl:
                row[COUNTER_INDEX["answered_in_sl"]] += 1
            if wait > 0:
                row[COUNTER_INDEX["waited"]] += 1
        elif outcome == "abandoned":
            wait = a.ended - a.offered
            row[COUNTER_INDEX["wait_abandoned_sum"]] += wait
            row[COUNTER_INDEX["waited"]] += 1
            if wait <= sl:
                row[COUNTER_INDEX["abandoned_in_sl"]] += 1

    def _close(self) -> None:
        """End of run: calls still in the system are recorded as ``open``."""
        for a in list(self._attempts.values()):
            self._leave_queues(a, self.env.now)
            self._finish(a, "open")
        self.levels.close(self.env.now)

    # ---------------------------------------------------------------- outputs

    def drop_timeline(self) -> None:
        """Free the recorded agent-state changes (after ``timeline()`` was taken)."""
        self._tl_t = array("d")
        self._tl_agent = array("i")
        self._tl_state = array("b")

    def timeline(self) -> np.ndarray:
        """Agent state changes as a structured array (t, agent code, state code)."""
        dtype = np.dtype([("t", "f8"), ("agent", "i4"), ("state", "i1")])
        out = np.empty(len(self._tl_t), dtype=dtype)
        out["t"] = np.frombuffer(self._tl_t, dtype=np.float64)
        out["agent"] = np.frombuffer(self._tl_agent, dtype=np.int32)
        out["state"] = np.frombuffer(self._tl_state, dtype=np.int8)
        return out
