"""Random event sequences into the ACD, checking invariants after every step.

A small independent model is kept from the *commands* the ACD emits (not from
its internals): which agent is ringing or talking with which call, each
agent's last reported state, and each call's outcome. The invariants are the
ones DESIGN.md and the issue name.
"""

from __future__ import annotations

from typing import Any

from acdhelp import two_skill_config
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ccsim.acd import ACD, ACDConfig, ACDError
from ccsim.events import (
    AgentLoggedOff,
    AgentLoggedOn,
    AgentNotReady,
    AgentReady,
    AgentSkillsChanged,
    AgentState,
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallOffered,
    CallWithdrawn,
    CancelTimer,
    Command,
    Deliver,
    Disconnect,
    Enqueue,
    Event,
    ForceLogout,
    ForceNotReady,
    ForceReady,
    Intercept,
    OfferCallback,
    Overflow,
    Retract,
    SetAgentState,
    StartTimer,
    TimerFired,
    WrapUpEnded,
)

AGENTS = ["a1", "a2", "a3", "a4"]
SKILLS = {"a1": {"gen": 1}, "a2": {"gen": 2, "vip": 1}, "a3": {"vip": 1}, "a4": {"gen": 1}}


def config() -> ACDConfig:
    return two_skill_config(overflow_above=6)


class ACDMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.acd = ACD(config())
        self.now = 0.0
        self.n = 0
        self.timers: dict[tuple[str, str], float] = {}
        self.state: dict[str, AgentState] = {}
        self.forced: dict[str, bool] = {}
        self.ringing: dict[str, str] = {}  # call -> agent
        self.talking: dict[str, str] = {}  # call -> agent
        self.agent_call: dict[str, str] = {}  # agent -> call (ringing or talking)
        self.waiting: dict[str, dict[str, tuple[int, float, int]]] = {"gen": {}, "vip": {}}
        self.outcome: dict[str, str] = {}
        self.offered: list[str] = []
        self.order = 0
        #: each agent's skills now (changed at run time by ``change_skills``)
        self.skills: dict[str, dict[str, int]] = {a: dict(s) for a, s in SKILLS.items()}

    # ---------------------------------------------------------------- plumbing

    def advance(self, dt: float) -> None:
        nxt = min(self.timers.values(), default=float("inf"))
        self.now = min(self.now + dt, max(self.now, nxt))

    def send(self, ev: Event, accepted: Any = None) -> list[Command] | None:
        """Send ``ev``; if the ACD accepts it, run ``accepted`` then replay the commands."""
        try:
            out = self.acd.handle(ev)
        except ACDError:
            return None
        if accepted is not None:
            accepted()
        for cmd in out:
            self.apply(cmd)
        return out

    def set_outcome(self, call: str, outcome: str) -> None:
        assert call not in self.outcome, f"{call} had {self.outcome[call]}, now {outcome}"
        self.outcome[call] = outcome
        for q in self.waiting.values():
            q.pop(call, None)

    def apply(self, cmd: Command) -> None:
        if isinstance(cmd, Deliver):
            agent = cmd.agent_id
            assert self.state.get(agent) is AgentState.READY, "delivered to an agent not READY"
            assert agent not in self.agent_call, "agent would hold two calls"
            assert cmd.queue in self.skills[agent], "delivered from a queue the agent lacks"
            assert cmd.call_id not in self.outcome
            if cmd.queue in self.waiting and cmd.call_id in self.waiting[cmd.queue]:
                # priority first, then FIFO within the queue the call was taken from
                q = self.waiting[cmd.queue]
                best = min(q.items(), key=lambda kv: (-kv[1][0], kv[1][1], kv[1][2]))
                assert q[cmd.call_id][:2] == best[1][:2], "queue order violated"
            for q in self.waiting.values():
                q.pop(cmd.call_id, None)
            self.ringing[cmd.call_id] = agent
            self.agent_call[agent] = cmd.call_id
            self.state[agent] = AgentState.RESERVED  # implied by Deliver
            self.forced[agent] = False
        elif isinstance(cmd, Enqueue):
            self.order += 1
            entered = self.now
            self.waiting[cmd.queue][cmd.call_id] = (cmd.priority, entered, self.order)
        elif isinstance(cmd, Retract):
            assert self.ringing.pop(cmd.call_id) == cmd.agent_id
            del self.agent_call[cmd.agent_id]
        elif isinstance(cmd, SetAgentState):
            self.state[cmd.agent_id] = cmd.state
            self.forced[cmd.agent_id] = cmd.forced
            if cmd.state is AgentState.LOGGED_OFF:
                assert cmd.agent_id not in self.agent_call
        elif isinstance(cmd, StartTimer):
            assert cmd.at >= self.now
            self.timers[cmd.key] = cmd.at
        elif isinstance(cmd, CancelTimer):
            self.timers.pop(cmd.key, None)
        elif isinstance(cmd, Overflow):
            self.set_outcome(cmd.call_id, "overflowed")
        elif isinstance(cmd, Disconnect):
            self.set_outcome(cmd.call_id, "disconnected")
        elif isinstance(cmd, OfferCallback):
            self.set_outcome(cmd.call_id, "callback")

    # ---------------------------------------------------------------- rules

    @rule(service=st.sampled_from(["general", "gold"]), dt=st.floats(0, 10))
    def offer(self, service: str, dt: float) -> None:
        self.advance(dt)
        self.n += 1
        cid = f"c{self.n}"
        self.offered.append(cid)
        self.send(CallOffered(at=self.now, call_id=cid, service=service))

    @precondition(lambda self: bool(self.ringing))
    @rule(i=st.integers(0, 50), dt=st.floats(0, 3))
    def answer(self, i: int, dt: float) -> None:
        self.advance(dt)
        call = sorted(self.ringing)[i % len(self.ringing)]
        agent = self.ringing[call]

        def accepted() -> None:
            del self.ringing[call]
            self.talking[call] = agent
            self.state[agent] = AgentState.BUSY  # implied by the accepted answer
            self.set_outcome(call, "answered")

        self.send(CallAnswered(at=self.now, call_id=call, agent_id=agent), accepted)

    @precondition(lambda self: bool(self.talking))
    @rule(i=st.integers(0, 50), dt=st.floats(0, 60))
    def end(self, i: int, dt: float) -> None:
        self.advance(dt)
        call = sorted(self.talking)[i % len(self.talking)]
        agent = self.talking.pop(call)

        def accepted() -> None:
            if self.agent_call.get(agent) == call:
                del self.agent_call[agent]

        assert self.send(CallEnded(at=self.now, call_id=call), accepted) is not None

    @rule(i=st.integers(0, 200), dt=st.floats(0, 30), withdrawn=st.booleans())
    def leave(self, i: int, dt: float, withdrawn: bool) -> None:
        """The caller hangs up, or the switch takes the call back (default routing)."""
        self.advance(dt)
        live = [c for c in self.offered if c not in self.outcome]
        if not live:
            return
        call = live[i % len(live)]

        def accepted() -> None:
            self.set_outcome(call, "withdrawn" if withdrawn else "abandoned")
            agent = self.ringing.pop(call, None)
            if agent is not None:
                del self.agent_call[agent]

        ev = (CallWithdrawn if withdrawn else CallAbandoned)(at=self.now, call_id=call)
        self.send(ev, accepted)

    @rule(
        agent=st.sampled_from(AGENTS),
        skills=st.dictionaries(
            st.sampled_from(["gen", "vip"]), st.integers(1, 16), min_size=1, max_size=2
        ),
    )
    def change_skills(self, agent: str, skills: dict[str, int]) -> None:
        def accepted() -> None:
            self.skills[agent] = dict(skills)

        out = self.send(AgentSkillsChanged(at=self.now, agent_id=agent, skills=skills), accepted)
        logged_on = self.state.get(agent, AgentState.LOGGED_OFF) is not AgentState.LOGGED_OFF
        assert (out is not None) == logged_on, "skills change accepted iff logged on"

    @rule(
        agent=st.sampled_from(AGENTS),
        kind=st.sampled_from(
            [
                "logon",
                "logon_ready",
                "ready",
                "not_ready",
                "logoff",
                "wrap_end",
                "f_ready",
                "f_nr",
                "f_out",
            ]
        ),
        dt=st.floats(0, 5),
    )
    def agent_event(self, agent: str, kind: str, dt: float) -> None:
        self.advance(dt)
        at = self.now
        ev: Event = {
            "logon": AgentLoggedOn(at=at, agent_id=agent, skills=self.skills[agent]),
            "logon_ready": AgentLoggedOn(
                at=at, agent_id=agent, skills=self.skills[agent], ready=True
            ),
            "ready": AgentReady(at=at, agent_id=agent),
            "not_ready": AgentNotReady(at=at, agent_id=agent, reason="break"),
            "logoff": AgentLoggedOff(at=at, agent_id=agent),
            "wrap_end": WrapUpEnded(at=at, agent_id=agent),
            "f_ready": ForceReady(at=at, agent_id=agent),
            "f_nr": ForceNotReady(at=at, agent_id=agent, reason="qc"),
            "f_out": ForceLogout(at=at, agent_id=agent),
        }[kind]
        before = self.state.get(agent)
        out = self.send(ev)
        if (
            out is not None
            and kind in ("f_ready", "f_nr")
            and before
            in (
                AgentState.READY,
                AgentState.NOT_READY,
                AgentState.WORKING_AFTER_CALL,
            )
        ):
            first = next(
                (c for c in out if isinstance(c, SetAgentState) and c.agent_id == agent), None
            )
            # no command means nothing changed: the agent was already in that forced state
            forced = self.forced[agent] if first is None else first.forced
            assert forced is True, "forced state not reported as forced"

    @precondition(lambda self: bool(self.talking))
    @rule(i=st.integers(0, 50))
    def intercept(self, i: int) -> None:
        call = sorted(self.talking)[i % len(self.talking)]
        agent = self.talking[call]

        def accepted() -> None:
            self.talking[call] = "sup"
            del self.agent_call[agent]

        self.send(Intercept(at=self.now, agent_id=agent, supervisor="sup"), accepted)

    @precondition(lambda self: bool(self.timers))
    @rule()
    def fire_next_timer(self) -> None:
        key, at = min(self.timers.items(), key=lambda kv: kv[1])
        del self.timers[key]
        self.now = max(self.now, at)
        out = self.send(TimerFired(at=self.now, key=key))
        assert out is not None
        if key[0] == "ring" and key[1] in self.ringing:
            assert any(isinstance(c, Retract) for c in out)

    # ---------------------------------------------------------------- invariants

    @invariant()
    def acd_agrees_with_model(self) -> None:
        snap: dict[str, Any] = self.acd.snapshot()
        for agent, info in snap["agents"].items():
            assert info["state"] == self.state[agent].value
            assert info["call_id"] == self.agent_call.get(agent)
        for agent, state in self.state.items():
            if state is AgentState.LOGGED_OFF:
                assert agent not in snap["agents"]
        for name, q in snap["queues"].items():
            assert q["length"] == len(self.waiting[name])
            assert q["available"] == sum(
                1 for a, s in self.state.items() if s is AgentState.READY and name in self.skills[a]
            )

    @invariant()
    def every_call_has_at_most_one_outcome_and_live_calls_have_none(self) -> None:
        live = set(self.acd.snapshot()["calls"])
        for call in self.offered:
            finished = call in self.outcome and self.outcome[call] != "answered"
            if finished:
                assert call not in live
            elif call not in self.outcome:
                assert call in live, f"{call} vanished without an outcome"
        totals = dict.fromkeys(
            ("answered", "abandoned", "overflowed", "disconnected", "callback", "withdrawn"), 0
        )
        for o in self.outcome.values():
            totals[o] += 1
        for k, v in totals.items():
            got = sum(self.acd.counters(s).__getattribute__(k) for s in ("general", "gold"))
            assert got == v, k


ACDMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestACDStateful = ACDMachine.TestCase
