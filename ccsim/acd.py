"""The ACD: a sans-I/O state machine shared by the simulation and the live binding.

``ACD.handle(event) -> list[Command]`` is the whole interface (plus read-only
inspection). The ACD never reads a clock, sleeps or does I/O: every input
carries its own time, timers are commands, and the world (SimPy driver, CSTA
binding, offline replay) executes the commands. Feeding the same events
therefore yields the same commands everywhere.

Data structures are chosen for the simulation's hot loop:

* each skill queue is a heap keyed by the queue discipline's static key, with
  lazy deletion (a call leaving a queue is only forgotten by its record; its
  stale heap entry is dropped when it surfaces) — O(log n) per operation;
* each skill keeps its READY agents in an ``OrderedDict`` in the order they
  became ready, so "longest idle" is the first entry, O(1), and removal is O(1);
* a freed agent looks only at the heads of its own skills' queues — O(skills).

Errors (an unknown call, an agent in the wrong state) raise ``ACDError`` before
anything changes, so a caller can report them and carry on.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from ccsim.acd_config import ACDConfig, QueueConfig
from ccsim.agents.states import RESOLVE, TRANSITIONS, AgentCore, Outcome, Trigger, plan
from ccsim.errors import ACDError, IllegalTransitionError
from ccsim.events import (
    AgentLoggedOff,
    AgentLoggedOn,
    AgentNotReady,
    AgentReady,
    AgentSkillsChanged,
    AgentState,
    Announce,
    BargeIn,
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallOffered,
    CallOutcome,
    CallWithdrawn,
    CancelTimer,
    Command,
    Conference,
    Deliver,
    DeliveryFailed,
    Disconnect,
    Enqueue,
    Event,
    ForceLogout,
    ForceNotReady,
    ForceReady,
    Intercept,
    Monitor,
    OfferCallback,
    Overflow,
    Retract,
    SetAgentState,
    StartTimer,
    TimerFired,
    TimerKey,
    Transfer,
    WrapUpEnded,
)
from ccsim.routing import script as sc
from ccsim.routing.agent_selection import LongestIdle
from ccsim.routing.call_selection import Fifo
from ccsim.routing.disciplines import PriorityFifo
from ccsim.routing.ewt import PositionEwt
from ccsim.routing.views import (
    AgentSelector,
    CallSelector,
    Candidate,
    EwtEstimator,
    QueueDiscipline,
)

if TYPE_CHECKING:
    from ccsim.scenario import Scenario

_candidate = Candidate._make

__all__ = ["ACD", "ACDConfig", "ACDError", "IllegalTransitionError", "QueueConfig"]

_NO_HELD: Mapping[str, float] = MappingProxyType({})
_INF = float("inf")
_S = AgentState
_READY = AgentState.READY
_RESERVED = AgentState.RESERVED
_BUSY = AgentState.BUSY
_WORKING = frozenset((AgentState.RESERVED, AgentState.BUSY, AgentState.WORKING_AFTER_CALL))

#: The three transitions every answered call makes, specialised in the hot
#: paths below (deliver, answer, end of a call without wrap-up). The table stays
#: the authority: the specialisations are used only while it still says this.
_FAST = (
    TRANSITIONS.get((_READY, Trigger.DELIVER)) is _RESERVED
    and TRANSITIONS.get((_RESERVED, Trigger.ANSWER)) is _BUSY
    and TRANSITIONS.get((_BUSY, Trigger.CALL_END)) is RESOLVE
)

# Commands built from their values in field order (events.py: ``_make`` skips the
# keyword parsing and checks a trusted producer does not need).
_mk_deliver = Deliver._make
_mk_start = StartTimer._make
_mk_cancel = CancelTimer._make
_mk_state = SetAgentState._make
_mk_enqueue = Enqueue._make
CallPhase = Literal["routing", "queued", "ringing", "talking"]

#: Weight of the newest observation in the per-queue handle-time average.
_AHT_ALPHA = 0.05


class _Agent(AgentCore):
    """An agent record; satisfies ``AgentView`` for policies (read-only by contract)."""

    __slots__ = (
        "busy_since",
        "busy_time",
        "call_id",
        "calls_handled",
        "idle_since",
        "logged_on_at",
        "misses",
        "queues",
        "ready_cmd",
        "skills",
    )

    def __init__(
        self, agent_id: str, skills: Mapping[str, int], at: float, queues: list[_Queue]
    ) -> None:
        super().__init__(agent_id)
        self.skills: Mapping[str, int] = skills
        #: the queue records of the agent's skills, in skill order (saves lookups)
        self.queues = queues
        self.logged_on_at = at
        self.idle_since = at
        self.calls_handled = 0
        self.busy_time = 0.0
        self.busy_since = at
        self.call_id: str | None = None
        self.misses = 0
        #: the command announcing a plain READY (no reason, not forced, nothing
        #: pending): an immutable value, so one per agent serves every call
        self.ready_cmd = _mk_state((agent_id, _READY, None, False, None))


class _Call:
    """A call record; satisfies ``CallView`` for policies.

    Not slotted on purpose: one is made per call, and class-level defaults for
    the fields most calls never change make that a third cheaper than setting
    sixteen slots (only live calls are kept, so the instance dicts cost little).
    """

    pc = 0
    point: str | None = None
    script_waiting = False
    phase: CallPhase = "routing"
    queued_at: float | None = None
    first_queue: str | None = None
    #: the record of ``first_queue`` (saves a lookup per answered and ended call)
    first_q: _Queue | None = None
    agent_id: str | None = None
    answered_at: float | None = None
    #: queues (and entry times) the call waited in when last delivered, for RONA
    held: Mapping[str, float] = _NO_HELD

    def __init__(self, ev: CallOffered, script: sc.Script) -> None:
        self.call_id = ev.call_id
        self.service = ev.service
        self.priority = ev.priority
        self.attributes = ev.attributes
        self.offered_at = ev.at
        self.script = script
        #: queue name -> (heap sequence number of the live entry, enqueued_at)
        self.queues: dict[str, tuple[int, float]] = {}


class _Queue:
    """One skill queue: a lazily cleaned heap plus incrementally kept statistics."""

    __slots__ = (
        "abandoned",
        "answered",
        "answered_in_target",
        "heap",
        "idle",
        "length",
        "mean_handle_time",
        "name",
        "staffed",
        "target_fraction",
        "target_seconds",
    )

    def __init__(self, cfg: QueueConfig, default_aht: float) -> None:
        self.name = cfg.name
        self.target_fraction = cfg.target_fraction
        self.target_seconds = cfg.target_seconds
        self.heap: list[tuple[float, float, int, _Call]] = []
        self.length = 0
        self.idle: OrderedDict[str, _Agent] = OrderedDict()
        self.staffed = 0
        self.mean_handle_time = default_aht
        self.answered = 0
        self.answered_in_target = 0
        self.abandoned = 0

    @property
    def available(self) -> int:
        """READY agents with this skill (the idle index is the count)."""
        return len(self.idle)

    def head(self) -> tuple[float, float, int, _Call] | None:
        """The first live entry, dropping stale ones on the way."""
        heap = self.heap
        while heap:
            entry = heap[0]
            live = entry[3].queues.get(self.name)
            if live is not None and live[0] == entry[2]:
                return entry
            heapq.heappop(heap)
        return None


_OUTCOME_COUNTERS = (
    "offered",
    "answered",
    "abandoned",
    "overflowed",
    "disconnected",
    "callback",
    "withdrawn",
)


@dataclass(frozen=True, slots=True)
class ServiceCounters:
    """Outcome counters of one service (for wallboards and replay checks)."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    overflowed: int = 0
    disconnected: int = 0
    callback: int = 0
    withdrawn: int = 0


class ACD:
    """The automatic call distributor.

    Parameters are policies (defaults in brackets): ``agent_selector``
    [``LongestIdle``], ``call_selector`` [``Fifo``], ``discipline``
    [``PriorityFifo``], ``ewt`` [``PositionEwt``]. ``config`` is an
    ``ACDConfig`` or a ``Scenario`` (its ``acd_config()`` is used).
    """

    def __init__(
        self,
        config: ACDConfig | Scenario,
        *,
        agent_selector: AgentSelector | None = None,
        call_selector: CallSelector | None = None,
        discipline: QueueDiscipline | None = None,
        ewt: EwtEstimator | None = None,
    ) -> None:
        if not isinstance(config, ACDConfig):
            config = config.acd_config()
        self.config = config
        self.agent_selector = agent_selector or LongestIdle()
        self.call_selector: CallSelector = call_selector or Fifo()
        self.discipline: QueueDiscipline = discipline or PriorityFifo()
        self.ewt: EwtEstimator = ewt or PositionEwt()
        self.now = 0.0
        self._queues = {
            name: _Queue(q, config.ewt_default_handle_time) for name, q in config.queues.items()
        }
        self._agents: dict[str, _Agent] = {}
        self._calls: dict[str, _Call] = {}
        #: the script of a service that is routed straight to its namesake queue
        self._implicit: dict[str, sc.Script] = {name: (sc.QueueTo(name),) for name in self._queues}
        #: services routed straight to their namesake queue (no routing point): the
        #: implicit one-step script is run inline by ``_on_offered``
        self._direct: dict[str, tuple[_Queue, sc.Script]] = {
            name: (q, self._implicit[name])
            for name, q in self._queues.items()
            if name not in config.service_routing
        }
        #: the hot-path specialisations on (tests switch them off to compare)
        self._fast = _FAST
        self._ring_timeout = config.ring_timeout
        self._wrap_up = dict(config.wrap_up)
        self._default_wrap = config.default_wrap_up
        self._timers: dict[TimerKey, float] = {}
        self._seq = 0
        self._counters: dict[str, dict[str, int]] = {}
        self._handlers: dict[type[Event], Callable[[Any, list[Command]], None]] = {
            CallOffered: self._on_offered,
            CallAnswered: self._on_answered,
            CallEnded: self._on_ended,
            CallAbandoned: self._on_abandoned,
            CallWithdrawn: self._on_withdrawn,
            AgentSkillsChanged: self._on_skills_changed,
            DeliveryFailed: self._on_delivery_failed,
            AgentLoggedOn: self._on_logged_on,
            AgentReady: self._on_ready,
            AgentNotReady: self._on_not_ready,
            AgentLoggedOff: self._on_logged_off,
            WrapUpEnded: self._on_wrap_ended,
            TimerFired: self._on_timer,
            ForceReady: self._on_ready,
            ForceNotReady: self._on_not_ready,
            ForceLogout: self._on_logged_off,
            Monitor: self._on_supervise,
            BargeIn: self._on_supervise,
            Intercept: self._on_intercept,
        }

    # ------------------------------------------------------------------ public API

    @property
    def agent_selector(self) -> AgentSelector:
        """The agent-selection policy (replaceable at any time)."""
        return self._agent_selector

    @agent_selector.setter
    def agent_selector(self, policy: AgentSelector) -> None:
        self._agent_selector = policy
        #: the default policy takes the first idle agent; done inline when exactly it
        self._first_idle = type(policy) is LongestIdle

    def handle(self, event: Event) -> list[Command]:
        """Apply one event; return the commands for the world, in order.

        Raises ``ACDError`` (state unchanged) for an event that does not fit.
        """
        handler = self._handlers.get(type(event))
        if handler is None:
            raise ACDError(f"unsupported event type {type(event).__name__}")
        at = event.at
        before = self.now
        if at < before:
            raise ACDError(f"event at {at} is earlier than the ACD clock {before}")
        self.now = at
        out: list[Command] = []
        try:
            handler(event, out)
        except ACDError:
            self.now = before
            raise
        return out

    def queue(self, name: str) -> _Queue:
        """Read-only view of one queue (``QueueView``)."""
        try:
            return self._queues[name]
        except KeyError:
            raise ACDError(f"unknown queue {name!r}") from None

    def expected_wait(self, queue: str, position: int | None = None) -> float:
        """EWT for a new call in ``queue`` (or the call at ``position``)."""
        q = self.queue(queue)
        return self.ewt.estimate(q, q.length if position is None else position)

    def agent(self, agent_id: str) -> _Agent:
        """Read-only view of an agent (``AgentView``) — "what is agent Y doing"."""
        try:
            return self._agents[agent_id]
        except KeyError:
            raise ACDError(f"unknown agent {agent_id!r}") from None

    def call(self, call_id: str) -> _Call:
        """Read-only view of a live call (``CallView``) — "where is call X"."""
        try:
            return self._calls[call_id]
        except KeyError:
            raise ACDError(f"unknown or finished call {call_id!r}") from None

    def where_is(self, call_id: str) -> dict[str, Any]:
        """Where a live call is: its phase, the queues it waits in, or the agent it is with."""
        c = self.call(call_id)
        return {
            "call_id": c.call_id,
            "phase": c.phase,
            "queues": sorted(c.queues),
            "agent_id": c.agent_id,
            "priority": c.priority,
            "offered_at": c.offered_at,
        }

    def counters(self, service: str) -> ServiceCounters:
        """Outcome counters of ``service`` so far."""
        return ServiceCounters(**self._counters.get(service, {}))

    def snapshot(self) -> dict[str, Any]:
        """Plain-data picture of the ACD (for wallboards, logs and tests)."""
        queues = {}
        for name, q in self._queues.items():
            head = q.head()
            queues[name] = {
                "length": q.length,
                "staffed": q.staffed,
                "available": q.available,
                "answered": q.answered,
                "answered_in_target": q.answered_in_target,
                "abandoned": q.abandoned,
                "oldest_wait": 0.0 if head is None else self.now - head[3].queues[name][1],
                "mean_handle_time": q.mean_handle_time,
                "ewt": self.ewt.estimate(q, q.length),
            }
        agents = {
            a.agent_id: {
                "state": a.state.value,
                "reason": a.reason,
                "forced": a.forced,
                "pending": None if a.pending is None else a.pending.value,
                "call_id": a.call_id,
                "skills": dict(a.skills),
                "calls_handled": a.calls_handled,
            }
            for a in self._agents.values()
        }
        calls = {cid: self.where_is(cid) for cid in self._calls}
        return {
            "now": self.now,
            "queues": queues,
            "agents": agents,
            "calls": calls,
            "services": {s: dict(c) for s, c in self._counters.items()},
            "timers": {f"{k[0]}:{k[1]}": at for k, at in self._timers.items()},
        }

    def export_state(self) -> dict[str, Any]:
        """Everything needed to continue elsewhere (warm start, hot standby), as plain data.

        ``ACD.restore(config, state)`` rebuilds an ACD that answers every later
        event exactly as this one would (tested by replaying the same events
        into both). Policies' own derived state (a round-robin cursor) is not
        part of it.
        """
        agents = []
        for a in self._agents.values():
            agents.append(
                {
                    "agent_id": a.agent_id,
                    "skills": dict(a.skills),
                    "state": a.state.value,
                    "reason": a.reason,
                    "forced": a.forced,
                    "pending": None if a.pending is None else a.pending.value,
                    "pending_reason": a.pending_reason,
                    "pending_forced": a.pending_forced,
                    "call_id": a.call_id,
                    "idle_since": a.idle_since,
                    "logged_on_at": a.logged_on_at,
                    "calls_handled": a.calls_handled,
                    "busy_time": a.busy_time,
                    "busy_since": a.busy_since,
                    "misses": a.misses,
                }
            )
        calls = []
        for c in self._calls.values():
            calls.append(
                {
                    "call_id": c.call_id,
                    "service": c.service,
                    "priority": c.priority,
                    "attributes": dict(c.attributes),
                    "offered_at": c.offered_at,
                    "point": c.point,
                    "pc": c.pc,
                    "script_waiting": c.script_waiting,
                    "phase": c.phase,
                    "queues": {q: [seq, t] for q, (seq, t) in c.queues.items()},
                    "held": dict(c.held),
                    "queued_at": c.queued_at,
                    "first_queue": c.first_queue,
                    "agent_id": c.agent_id,
                    "answered_at": c.answered_at,
                }
            )
        queues = {
            name: {
                "idle_order": list(q.idle),
                "mean_handle_time": q.mean_handle_time,
                "answered": q.answered,
                "answered_in_target": q.answered_in_target,
                "abandoned": q.abandoned,
            }
            for name, q in self._queues.items()
        }
        return {
            "version": 1,
            "now": self.now,
            "seq": self._seq,
            "agents": agents,
            "calls": calls,
            "queues": queues,
            "timers": [[k[0], k[1], at] for k, at in self._timers.items()],
            "counters": {svc: dict(c) for svc, c in self._counters.items()},
        }

    @classmethod
    def restore(
        cls, config: ACDConfig | Scenario, state: Mapping[str, Any], **policies: Any
    ) -> ACD:
        """An ACD continuing from ``export_state()``'s output (same config, same policies)."""
        if state.get("version") != 1:
            raise ACDError(f"unsupported ACD state version {state.get('version')!r}")
        acd = cls(config, **policies)
        acd.now = float(state["now"])
        acd._seq = int(state["seq"])
        for ad in state["agents"]:
            a = _Agent(
                ad["agent_id"],
                MappingProxyType(dict(ad["skills"])),
                float(ad["logged_on_at"]),
                [acd.queue(s) for s in ad["skills"]],
            )
            a.state = AgentState(ad["state"])
            a.reason = ad["reason"]
            a.forced = bool(ad["forced"])
            a.pending = None if ad["pending"] is None else AgentState(ad["pending"])
            a.pending_reason = ad["pending_reason"]
            a.pending_forced = bool(ad["pending_forced"])
            a.call_id = ad["call_id"]
            a.idle_since = float(ad["idle_since"])
            a.calls_handled = int(ad["calls_handled"])
            a.busy_time = float(ad["busy_time"])
            a.busy_since = float(ad["busy_since"])
            a.misses = int(ad["misses"])
            acd._agents[a.agent_id] = a
            for q in a.queues:
                q.staffed += 1
        for name, qd in state["queues"].items():
            q = acd.queue(name)
            q.mean_handle_time = float(qd["mean_handle_time"])
            q.answered = int(qd["answered"])
            q.answered_in_target = int(qd["answered_in_target"])
            q.abandoned = int(qd["abandoned"])
            for aid in qd["idle_order"]:
                q.idle[aid] = acd._agents[aid]
        for cd in state["calls"]:
            ev = CallOffered(
                at=float(cd["offered_at"]),
                call_id=cd["call_id"],
                service=cd["service"],
                priority=int(cd["priority"]),
                attributes=cd["attributes"],
            )
            point = cd["point"]
            script = acd.config.scripts[point] if point is not None else acd._implicit[ev.service]
            c = _Call(ev, script)
            c.point = point
            c.pc = int(cd["pc"])
            c.script_waiting = bool(cd["script_waiting"])
            c.phase = cd["phase"]
            c.held = {k: float(v) for k, v in cd["held"].items()}
            c.queued_at = cd["queued_at"]
            c.first_queue = cd["first_queue"]
            if c.first_queue is not None:
                c.first_q = acd.queue(c.first_queue)
            c.agent_id = cd["agent_id"]
            c.answered_at = cd["answered_at"]
            acd._calls[c.call_id] = c
            for qname, (seq, entered) in cd["queues"].items():
                q = acd.queue(qname)
                k0, k1 = acd.discipline.key(c, float(entered))
                heapq.heappush(q.heap, (k0, k1, int(seq), c))
                c.queues[qname] = (int(seq), float(entered))
                q.length += 1
        acd._timers = {(k0, k1): float(at) for k0, k1, at in state["timers"]}
        acd._counters = {
            svc: dict.fromkeys(_OUTCOME_COUNTERS, 0) | dict(c)
            for svc, c in state["counters"].items()
        }
        return acd

    # ------------------------------------------------------------------ helpers

    def _count(self, service: str, outcome: str) -> None:
        c = self._counters.get(service)
        if c is None:
            c = self._counters[service] = dict.fromkeys(_OUTCOME_COUNTERS, 0)
        c[outcome] += 1

    def _service_counters(self, service: str) -> dict[str, int]:
        c = self._counters.get(service)
        if c is None:
            c = self._counters[service] = dict.fromkeys(_OUTCOME_COUNTERS, 0)
        return c

    def _start_timer(self, key: TimerKey, at: float, out: list[Command]) -> None:
        self._timers[key] = at
        out.append(_mk_start((key, at)))

    def _cancel_timer(self, key: TimerKey, out: list[Command]) -> None:
        if self._timers.pop(key, None) is not None:
            out.append(_mk_cancel((key,)))

    def _agent_for(self, agent_id: str) -> _Agent:
        a = self._agents.get(agent_id)
        if a is None or a.state is _S.LOGGED_OFF:
            raise ACDError(f"agent {agent_id!r} is not logged on")
        return a

    def _live_call(self, call_id: str) -> _Call:
        c = self._calls.get(call_id)
        if c is None:
            raise ACDError(f"unknown or finished call {call_id!r}")
        return c

    def _transition(
        self, agent: _Agent, outcome: Outcome, out: list[Command], notify: bool = True
    ) -> None:
        """Apply a planned agent transition and keep the indexes in step.

        ``notify=False`` for changes the world already knows (a ``Deliver`` it
        was just given implies RESERVED, a ``CallAnswered`` it sent implies
        BUSY): every other change is reported with ``SetAgentState``.
        """
        state, reason, forced, pending = outcome[0], outcome[1], outcome[2], outcome[3]
        was = agent.state
        changed = (
            state is not was
            or reason != agent.reason
            or forced != agent.forced
            or pending is not agent.pending
        )
        agent.state = state
        agent.reason = reason
        agent.forced = forced
        agent.pending = pending
        agent.pending_reason = outcome[4]
        agent.pending_forced = outcome[5]
        if state is not was:
            aid = agent.agent_id
            if was is _READY:
                for q in agent.queues:
                    del q.idle[aid]
            elif state is _READY:
                agent.idle_since = self.now
                for q in agent.queues:
                    q.idle[aid] = agent
            if state in _WORKING:
                if was not in _WORKING:
                    agent.busy_since = self.now
            elif was in _WORKING:
                agent.busy_time += self.now - agent.busy_since
            if state is _S.LOGGED_OFF:
                for q in agent.queues:
                    q.staffed -= 1
                del self._agents[aid]
        if changed and notify:
            out.append(_mk_state((agent.agent_id, state, reason, forced, pending)))

    # ------------------------------------------------------------------ routing

    def _offer_to_agents(self, call: _Call, queue: _Queue, out: list[Command]) -> bool:
        """Try to hand ``call`` to a READY agent of ``queue``; True if delivered."""
        if not queue.idle:
            return False
        agent = self.agent_selector.select_agent(call, queue.name, iter(queue.idle.values()), self)
        if agent is None:
            return False
        self._deliver(call, self._agents[agent.agent_id], queue, out)
        return True

    def _deliver(self, call: _Call, agent: _Agent, record: _Queue, out: list[Command]) -> None:
        queue = record.name
        now = self.now
        aid = agent.agent_id
        outcome: Outcome | None = None
        if self._fast and agent.state is _READY:
            # READY --deliver--> RESERVED, as the table says; a READY agent has
            # nothing pending, the world is told by the Deliver itself
            for q in agent.queues:
                del q.idle[aid]
            agent.state = _RESERVED
            agent.reason = None
            agent.forced = False
            agent.busy_since = now
        else:
            outcome = plan(agent, Trigger.DELIVER)  # raises before anything changed
        queues = call.queues
        if queues:
            held = {}
            qs = self._queues
            for name, (_, entered) in queues.items():
                qs[name].length -= 1
                held[name] = entered
            queues.clear()  # heap entries become stale
        else:
            held = {queue: now}
        call.held = held
        call.phase = "ringing"
        call.agent_id = aid
        if call.queued_at is None:
            call.queued_at = now
            call.first_queue = queue
            call.first_q = record
        cid = call.call_id
        agent.call_id = cid
        if call.script_waiting:
            call.script_waiting = False
            self._cancel_timer(("script", cid), out)
        out.append(_mk_deliver((cid, aid, queue)))
        if outcome is not None:
            self._transition(agent, outcome, out, notify=False)
        at = now + self._ring_timeout
        if at != _INF:  # an infinite ring timeout means no ring-no-answer at all
            key = ("ring", cid)
            self._timers[key] = at
            out.append(_mk_start((key, at)))

    def _enqueue(self, call: _Call, queue: _Queue, enqueued_at: float, out: list[Command]) -> None:
        self._seq += 1
        k0, k1 = self.discipline.key(call, enqueued_at)
        heapq.heappush(queue.heap, (k0, k1, self._seq, call))
        call.queues[queue.name] = (self._seq, enqueued_at)
        queue.length += 1
        call.phase = "queued"
        if call.queued_at is None:
            call.queued_at = enqueued_at
            call.first_queue = queue.name
            call.first_q = queue
        out.append(_mk_enqueue((call.call_id, queue.name, call.priority)))

    def _serve_agent(self, agent: _Agent, out: list[Command]) -> None:
        """A READY agent looks for a waiting call among its skills' queue heads."""
        candidates: list[Candidate] = []
        for q in agent.queues:
            if q.length:
                head = q.head()
                if head is not None:
                    call = head[3]
                    skill = q.name
                    level = agent.skills[skill]
                    candidates.append(_candidate((skill, call, call.queues[skill][1], level)))
        if not candidates:
            return
        choice = self.call_selector.select_call(agent, candidates, self)
        if choice is not None:
            self._deliver(self._calls[choice.call.call_id], agent, self._queues[choice.queue], out)

    def _finish(self, call: _Call, outcome: CallOutcome) -> None:
        for name in call.queues:
            self._queues[name].length -= 1
        call.queues.clear()
        self._timers.pop(("script", call.call_id), None)
        del self._calls[call.call_id]
        self._count(call.service, outcome.value)

    def _run_script(self, call: _Call, out: list[Command]) -> None:
        """Execute the call's script from its program counter until it waits or ends."""
        steps = call.script
        n = len(steps)
        guard = 0
        while call.pc < n:
            guard += 1
            if guard > 10_000:  # a Goto loop without Wait cannot be allowed to hang the ACD
                raise ACDError(f"routing script loops without waiting for call {call.call_id!r}")
            step = steps[call.pc]
            call.pc += 1
            if isinstance(step, sc.Label):
                continue
            if step.when is not None and not step.when.holds(self, call):
                continue
            if isinstance(step, sc.QueueTo):
                if step.priority is not None and step.priority > call.priority:
                    call.priority = step.priority
                if step.queue in call.queues:
                    continue
                q = self._queues[step.queue]
                if self._offer_to_agents(call, q, out):
                    return
                self._enqueue(call, q, self.now, out)
            elif isinstance(step, sc.Wait):
                call.script_waiting = True
                self._start_timer(("script", call.call_id), self.now + step.seconds, out)
                return
            elif isinstance(step, sc.Announce):
                out.append(Announce(call_id=call.call_id, announcement=step.announcement))
            elif isinstance(step, sc.Goto):
                call.pc = self._label_index(call.script, step.label)
            elif isinstance(step, sc.Overflow):
                out.append(Overflow(call_id=call.call_id, destination=step.destination))
                self._finish(call, CallOutcome.OVERFLOWED)
                return
            elif isinstance(step, sc.OfferCallback):
                out.append(OfferCallback(call_id=call.call_id))
                self._finish(call, CallOutcome.CALLBACK)
                return
            elif isinstance(step, sc.Disconnect):
                out.append(Disconnect(call_id=call.call_id, cause=step.cause))
                self._finish(call, CallOutcome.DISCONNECTED)
                return
            else:  # Stop
                break
        if not call.queues and call.phase in ("routing", "queued"):
            out.append(Disconnect(call_id=call.call_id, cause="no-route"))
            self._finish(call, CallOutcome.DISCONNECTED)

    @staticmethod
    def _label_index(script: sc.Script, label: str) -> int:
        for i, step in enumerate(script):
            if isinstance(step, sc.Label) and step.name == label:
                return i + 1
        raise ACDError(f"no label {label!r}")  # pragma: no cover - validated at config time

    def _script_for(self, ev: CallOffered) -> tuple[str | None, sc.Script]:
        """The routing point (None: straight to the service's queue) and its script."""
        cfg = self.config
        point = ev.routing_point or cfg.service_routing.get(ev.service)
        if point is not None:
            script = cfg.scripts.get(point)
            if script is None:
                raise ACDError(f"call {ev.call_id!r}: unknown routing point {point!r}")
            return point, script
        implicit = self._implicit.get(ev.service)
        if implicit is not None:
            return None, implicit
        raise ACDError(
            f"call {ev.call_id!r}: service {ev.service!r} has no routing point and no queue"
        )

    def _requeue(self, call: _Call, out: list[Command]) -> None:
        """Return a call taken back from an agent to the head of its queues (RONA)."""
        call.priority += self.config.rona_priority_boost
        call.agent_id = None
        held = dict(call.held)
        for name in held:
            if self._offer_to_agents(call, self._queues[name], out):
                return
        for name, entered in held.items():
            # keep the original entry time: with the boost, the call goes to the head
            self._enqueue(call, self._queues[name], entered, out)

    # ------------------------------------------------------------------ call events

    def _on_offered(self, ev: CallOffered, out: list[Command]) -> None:
        cid = ev.call_id
        if cid in self._calls:
            raise ACDError(f"call {cid!r} is already in the ACD")
        service = ev.service
        direct = None if ev.routing_point else self._direct.get(service)
        if direct is None:
            point, script = self._script_for(ev)
            call = _Call(ev, script)
            call.point = point
            self._calls[cid] = call
            self._count(service, "offered")
            self._run_script(call, out)
            return
        # the implicit script (QueueTo(service),) run inline: offer, else queue
        q, script = direct
        call = _Call(ev, script)
        call.pc = 1
        self._calls[cid] = call
        (self._counters.get(service) or self._service_counters(service))["offered"] += 1
        idle = q.idle
        if idle:
            if self._first_idle:  # LongestIdle: the first READY agent in idle order
                self._deliver(call, next(iter(idle.values())), q, out)
                return
            agent = self._agent_selector.select_agent(call, q.name, iter(idle.values()), self)
            if agent is not None:
                self._deliver(call, self._agents[agent.agent_id], q, out)
                return
        self._enqueue(call, q, self.now, out)

    def _on_answered(self, ev: CallAnswered, out: list[Command]) -> None:
        cid = ev.call_id
        call = self._calls.get(cid)
        if call is None:
            raise ACDError(f"unknown or finished call {cid!r}")
        aid = ev.agent_id
        if call.phase != "ringing" or call.agent_id != aid:
            raise ACDError(f"call {cid!r} is not ringing at agent {aid!r} (phase {call.phase})")
        agent = self._agents[aid]
        fast = self._fast and agent.state is _RESERVED
        outcome = None if fast else plan(agent, Trigger.ANSWER)
        key = ("ring", cid)
        if self._timers.pop(key, None) is not None:
            out.append(_mk_cancel((key,)))
        at = ev.at
        call.phase = "talking"
        call.answered_at = at
        agent.misses = 0
        q = call.first_q
        if q is not None:
            q.answered += 1
            if at - (call.queued_at or call.offered_at) <= q.target_seconds:
                q.answered_in_target += 1
        (self._counters.get(call.service) or self._service_counters(call.service))["answered"] += 1
        if outcome is None:
            # RESERVED --answer--> BUSY: both working states, no index changes, and
            # the world knows (it sent the answer); a pending request survives and
            # a working state never has a reason or a forced flag to clear
            agent.state = _BUSY
        else:
            self._transition(agent, outcome, out, notify=False)

    def _release_agent(self, agent: _Agent, call: _Call, out: list[Command]) -> None:
        """The agent's call is over: wrap-up or the next state, then new work."""
        now = self.now
        wrap = self._wrap_up.get(call.service, self._default_wrap)
        talk = now - (call.answered_at if call.answered_at is not None else now)
        q = call.first_q
        if q is not None:
            q.mean_handle_time += _AHT_ALPHA * (talk + wrap - q.mean_handle_time)
        agent.calls_handled += 1
        agent.call_id = None
        if wrap > 0:
            self._transition(agent, plan(agent, Trigger.CALL_END_WRAP), out)
            self._start_timer(("wrap", agent.agent_id), now + wrap, out)
        elif self._fast and agent.state is _BUSY and agent.pending is None:
            # BUSY --call_end--> RESOLVE with nothing pending: READY, as the table
            # says (BUSY has no reason or forced flag, and no pending reason or
            # forced flag without a pending state, so only the state changes)
            aid = agent.agent_id
            agent.state = _READY
            agent.idle_since = now
            agent.busy_time += now - agent.busy_since
            waiting = False
            for q in agent.queues:
                q.idle[aid] = agent
                if q.length:
                    waiting = True
            out.append(agent.ready_cmd)
            if waiting:
                self._serve_agent(agent, out)
        else:
            self._transition(agent, plan(agent, Trigger.CALL_END), out)
            if agent.state is _S.READY:
                self._serve_agent(agent, out)

    def _on_ended(self, ev: CallEnded, out: list[Command]) -> None:
        cid = ev.call_id
        calls = self._calls
        call = calls.get(cid)
        if call is None:
            raise ACDError(f"unknown or finished call {cid!r}")
        if call.phase != "talking":
            raise ACDError(f"call {cid!r} has not been answered (phase {call.phase})")
        aid = call.agent_id
        agent = self._agents.get(aid) if aid is not None else None
        del calls[cid]
        if agent is not None and agent.call_id == cid:
            self._release_agent(agent, call, out)

    def _on_abandoned(self, ev: CallAbandoned, out: list[Command]) -> None:
        self._leave(ev.call_id, CallOutcome.ABANDONED, out)

    def _on_withdrawn(self, ev: CallWithdrawn, out: list[Command]) -> None:
        self._leave(ev.call_id, CallOutcome.WITHDRAWN, out)

    def _leave(self, call_id: str, outcome: CallOutcome, out: list[Command]) -> None:
        """A call not yet answered leaves the ACD (caller hung up, or the world took it)."""
        call = self._live_call(call_id)
        if call.phase == "talking":
            raise ACDError(f"call {call_id!r} was answered; use CallEnded")
        if call.first_queue is not None and outcome is CallOutcome.ABANDONED:
            self._queues[call.first_queue].abandoned += 1
        if call.phase == "ringing" and call.agent_id is not None:
            agent = self._agents[call.agent_id]
            self._cancel_timer(("ring", call.call_id), out)
            agent.call_id = None
            self._finish(call, outcome)
            self._transition(agent, plan(agent, Trigger.RING_CLEARED), out)
            if agent.state is _S.READY:
                self._serve_agent(agent, out)
            return
        if call.script_waiting:
            self._cancel_timer(("script", call.call_id), out)
        self._finish(call, outcome)

    def _take_back(self, call: _Call, agent: _Agent, trigger: Trigger, out: list[Command]) -> None:
        """A ringing call leaves its agent (RONA or failed delivery) and is routed again."""
        outcome = plan(agent, trigger)
        self._cancel_timer(("ring", call.call_id), out)
        agent.call_id = None
        self._requeue(call, out)
        self._transition(agent, outcome, out)
        if agent.state is _S.READY:
            self._serve_agent(agent, out)

    def _on_delivery_failed(self, ev: DeliveryFailed, out: list[Command]) -> None:
        call = self._live_call(ev.call_id)
        if call.phase != "ringing" or call.agent_id != ev.agent_id:
            raise ACDError(f"call {ev.call_id!r} is not ringing at agent {ev.agent_id!r}")
        self._take_back(call, self._agents[ev.agent_id], Trigger.MISS_LIMIT, out)

    # ------------------------------------------------------------------ agent events

    def _on_logged_on(self, ev: AgentLoggedOn, out: list[Command]) -> None:
        existing = self._agents.get(ev.agent_id)
        trigger = Trigger.LOGON_READY if ev.ready else Trigger.LOGON
        if existing is not None:
            plan(existing, trigger)  # raises: already logged on
        unknown = [s for s in ev.skills if s not in self._queues]
        if unknown:
            raise ACDError(f"agent {ev.agent_id!r}: unknown skills {unknown}")
        agent = _Agent(ev.agent_id, ev.skills, ev.at, [self._queues[s] for s in ev.skills])
        outcome = plan(agent, trigger, reason=None if ev.ready else ev.reason)
        self._agents[ev.agent_id] = agent
        for q in agent.queues:
            q.staffed += 1
        self._transition(agent, outcome, out)
        if agent.state is _S.READY:
            self._serve_agent(agent, out)

    def _on_skills_changed(self, ev: AgentSkillsChanged, out: list[Command]) -> None:
        agent = self._agent_for(ev.agent_id)
        unknown = [s for s in ev.skills if s not in self._queues]
        if unknown:
            raise ACDError(f"agent {ev.agent_id!r}: unknown skills {unknown}")
        aid = agent.agent_id
        ready = agent.state is _S.READY
        kept = agent.skills.keys() & ev.skills.keys()
        for q in agent.queues:
            if q.name not in kept:
                q.staffed -= 1
                if ready:
                    del q.idle[aid]
        agent.skills = ev.skills
        agent.queues = [self._queues[s] for s in ev.skills]
        for q in agent.queues:
            if q.name not in kept:
                q.staffed += 1
                if ready:
                    # keep the idle order (longest idle first) a newcomer must respect
                    q.idle[aid] = agent
                    if len(q.idle) > 1:
                        order = sorted(q.idle.values(), key=lambda a: a.idle_since)
                        q.idle.clear()
                        q.idle.update((a.agent_id, a) for a in order)
        if ready:
            self._serve_agent(agent, out)

    def _on_ready(self, ev: AgentReady | ForceReady, out: list[Command]) -> None:
        agent = self._agent_for(ev.agent_id)
        forced = isinstance(ev, ForceReady)
        outcome = plan(agent, Trigger.READY, forced=forced)
        was = agent.state
        if was is _S.WORKING_AFTER_CALL:
            self._cancel_timer(("wrap", agent.agent_id), out)
        self._transition(agent, outcome, out)
        if agent.state is _S.READY and was is not _S.READY:
            self._serve_agent(agent, out)

    def _on_not_ready(self, ev: AgentNotReady | ForceNotReady, out: list[Command]) -> None:
        agent = self._agent_for(ev.agent_id)
        outcome = plan(
            agent, Trigger.NOT_READY, reason=ev.reason, forced=isinstance(ev, ForceNotReady)
        )
        if agent.state is _S.WORKING_AFTER_CALL:
            self._cancel_timer(("wrap", agent.agent_id), out)
        self._transition(agent, outcome, out)

    def _on_logged_off(self, ev: AgentLoggedOff | ForceLogout, out: list[Command]) -> None:
        agent = self._agent_for(ev.agent_id)
        forced = isinstance(ev, ForceLogout)
        outcome = plan(agent, Trigger.LOGOFF, reason="forced" if forced else None, forced=forced)
        if agent.state is _S.WORKING_AFTER_CALL:
            self._cancel_timer(("wrap", agent.agent_id), out)
        self._transition(agent, outcome, out)

    def _on_wrap_ended(self, ev: WrapUpEnded, out: list[Command]) -> None:
        agent = self._agent_for(ev.agent_id)
        outcome = plan(agent, Trigger.WRAP_END)
        self._cancel_timer(("wrap", agent.agent_id), out)
        self._transition(agent, outcome, out)
        if agent.state is _S.READY:
            self._serve_agent(agent, out)

    # ------------------------------------------------------------------ supervisor

    def _busy_call(self, ev: Monitor | BargeIn | Intercept) -> tuple[_Agent, _Call]:
        agent = self._agent_for(ev.agent_id)
        if agent.state is not _S.BUSY or agent.call_id is None:
            raise ACDError(f"agent {ev.agent_id!r} has no call in progress (state {agent.state})")
        return agent, self._calls[agent.call_id]

    def _on_supervise(self, ev: Monitor | BargeIn, out: list[Command]) -> None:
        _, call = self._busy_call(ev)
        mode: Literal["silent", "active"] = "silent" if isinstance(ev, Monitor) else "active"
        out.append(Conference(call_id=call.call_id, supervisor=ev.supervisor, mode=mode))

    def _on_intercept(self, ev: Intercept, out: list[Command]) -> None:
        agent, call = self._busy_call(ev)
        out.append(
            Transfer(call_id=call.call_id, agent_id=agent.agent_id, destination=ev.supervisor)
        )
        call.agent_id = ev.supervisor  # the call goes on with the supervisor
        self._release_agent(agent, call, out)

    # ------------------------------------------------------------------ timers

    def _on_timer(self, ev: TimerFired, out: list[Command]) -> None:
        if self._timers.pop(ev.key, None) is None:
            return  # cancelled or already handled: a race the world may legitimately lose
        kind, ident = ev.key
        if kind == "script":
            call = self._calls.get(ident)
            if call is not None:
                call.script_waiting = False
            if call is not None and call.phase in ("routing", "queued"):
                self._run_script(call, out)
        elif kind == "ring":
            call = self._calls[ident]
            assert call.agent_id is not None
            agent = self._agents[call.agent_id]
            agent.misses += 1
            out.append(Retract(call_id=call.call_id, agent_id=agent.agent_id, reason="rona"))
            limit = agent.misses >= self.config.rona_threshold
            if limit:
                agent.misses = 0
            self._take_back(call, agent, Trigger.MISS_LIMIT if limit else Trigger.MISS, out)
        elif kind == "wrap":
            agent = self._agents[ident]
            self._transition(agent, plan(agent, Trigger.WRAP_END), out)
            if agent.state is _S.READY:
                self._serve_agent(agent, out)
