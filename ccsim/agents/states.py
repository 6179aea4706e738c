"""The agent state machine, as data.

Everything that decides an agent's next state lives in ``TRANSITIONS`` (the
h11 ``_state.py`` rule): a table from (state, trigger) to a target. Code
elsewhere never compares states to decide a transition; it fires a trigger and
the table answers, so the docs' state diagram (``docs/make_state_diagram.py``)
is generated from the very table the ACD runs.

Two symbolic targets keep the table small:

* ``PEND`` — the request is remembered as the *pending* state and applies when
  the current call is over (not ready or logoff asked while ringing or busy);
* ``RESOLVE`` — the call is over: go to the pending state if one is set, else
  READY.

Supervisor requests fire the same triggers with ``forced=True``; the agent's
``forced`` flag then reports the state as supervisor-imposed until the agent's
next own change.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final, TypeAlias

from ccsim.errors import IllegalTransitionError
from ccsim.events import AgentState

__all__ = [
    "PEND",
    "RESOLVE",
    "TRANSITIONS",
    "AgentCore",
    "AgentTransitionError",
    "Outcome",
    "Target",
    "Trigger",
    "apply",
    "plan",
]

S = AgentState


class Trigger(StrEnum):
    """What can happen to an agent."""

    LOGON = "logon"  # log on, start NOT_READY
    LOGON_READY = "logon_ready"  # log on straight into READY (auto-in)
    READY = "ready"
    NOT_READY = "not_ready"
    LOGOFF = "logoff"
    DELIVER = "deliver"  # the ACD rings the agent with a call
    ANSWER = "answer"
    MISS = "miss"  # ring-no-answer, below the RONA threshold
    MISS_LIMIT = "miss_limit"  # ring-no-answer reaching the RONA threshold
    RING_CLEARED = "ring_cleared"  # caller abandoned (or delivery failed) while ringing
    CALL_END = "call_end"  # call over, no wrap-up
    CALL_END_WRAP = "call_end_wrap"  # call over, wrap-up follows
    WRAP_END = "wrap_end"


class _Symbol(StrEnum):
    PEND = "pend"
    RESOLVE = "resolve"


PEND: Final = _Symbol.PEND
RESOLVE: Final = _Symbol.RESOLVE
Target = AgentState | _Symbol

_LOGGED_ON_IDLE = (S.READY, S.NOT_READY, S.WORKING_AFTER_CALL)
_ON_CALL = (S.RESERVED, S.BUSY)

_table: dict[tuple[AgentState, Trigger], Target] = {
    (S.LOGGED_OFF, Trigger.LOGON): S.NOT_READY,
    (S.LOGGED_OFF, Trigger.LOGON_READY): S.READY,
    (S.READY, Trigger.DELIVER): S.RESERVED,
    (S.RESERVED, Trigger.ANSWER): S.BUSY,
    (S.RESERVED, Trigger.MISS): RESOLVE,
    (S.RESERVED, Trigger.MISS_LIMIT): S.NOT_READY,
    (S.RESERVED, Trigger.RING_CLEARED): RESOLVE,
    (S.BUSY, Trigger.CALL_END): RESOLVE,
    (S.BUSY, Trigger.CALL_END_WRAP): S.WORKING_AFTER_CALL,
    (S.WORKING_AFTER_CALL, Trigger.WRAP_END): RESOLVE,
}
for _s in _LOGGED_ON_IDLE:
    _table[(_s, Trigger.READY)] = S.READY
    _table[(_s, Trigger.NOT_READY)] = S.NOT_READY
    _table[(_s, Trigger.LOGOFF)] = S.LOGGED_OFF
for _s in _ON_CALL:
    _table[(_s, Trigger.READY)] = PEND  # clears a pending not-ready/logoff
    _table[(_s, Trigger.NOT_READY)] = PEND
    _table[(_s, Trigger.LOGOFF)] = PEND

#: (state, trigger) -> target. A pair not in the table is an illegal transition.
TRANSITIONS: Mapping[tuple[AgentState, Trigger], Target] = MappingProxyType(_table)


class AgentTransitionError(IllegalTransitionError):
    """A trigger that the table does not allow in the agent's current state.

    Raised before anything changes, so the caller's state is intact.
    """

    def __init__(self, agent_id: str, state: AgentState, trigger: Trigger) -> None:
        super().__init__(
            f"agent {agent_id!r}: {trigger.value!r} is not allowed in state {state.value!r}"
        )
        self.agent_id = agent_id
        self.state = state
        self.trigger = trigger


class AgentCore:
    """The state part of an agent record: state, reason, forced flag and pending request.

    The ACD's agent record subclasses this; ``plan``/``apply`` touch only these
    fields.
    """

    __slots__ = (
        "agent_id",
        "forced",
        "pending",
        "pending_forced",
        "pending_reason",
        "reason",
        "state",
    )

    def __init__(self, agent_id: str) -> None:
        self.agent_id = agent_id
        self.state: AgentState = S.LOGGED_OFF
        self.reason: str | None = None
        self.forced = False
        self.pending: AgentState | None = None
        self.pending_reason: str | None = None
        self.pending_forced = False


#: The result of a transition: (state, reason, forced, pending, pending_reason,
#: pending_forced). A plain tuple because it is built on every agent event in the
#: simulation's hot loop; ``apply`` writes it into the agent.
Outcome: TypeAlias = tuple[AgentState, str | None, bool, AgentState | None, str | None, bool]


_RONA = "rona"


def plan(
    agent: AgentCore, trigger: Trigger, *, reason: str | None = None, forced: bool = False
) -> Outcome:
    """Compute the outcome of ``trigger`` without changing anything.

    Raises ``IllegalTransition`` when the table has no entry.
    """
    target = TRANSITIONS.get((agent.state, trigger))
    if target is None:
        raise AgentTransitionError(agent.agent_id, agent.state, trigger)
    if target is PEND:
        if trigger is Trigger.READY:  # ready while on a call cancels what was pending
            return (agent.state, agent.reason, agent.forced, None, None, False)
        pending = S.NOT_READY if trigger is Trigger.NOT_READY else S.LOGGED_OFF
        if agent.pending is S.LOGGED_OFF and pending is S.NOT_READY:
            pending = S.LOGGED_OFF  # a pending logoff is not downgraded by a not-ready
        return (agent.state, agent.reason, agent.forced, pending, reason, forced)
    if target is RESOLVE:
        if agent.pending is not None:
            return (agent.pending, agent.pending_reason, agent.pending_forced, None, None, False)
        return (S.READY, None, False, None, None, False)
    assert isinstance(target, AgentState)
    if trigger is Trigger.MISS_LIMIT:
        if agent.pending is S.LOGGED_OFF:
            return (S.LOGGED_OFF, agent.pending_reason, agent.pending_forced, None, None, False)
        return (S.NOT_READY, _RONA, False, None, None, False)
    if target in (S.READY, S.NOT_READY, S.LOGGED_OFF):
        new_reason = reason if target is S.NOT_READY or target is S.LOGGED_OFF else None
        return (target, new_reason, forced, None, None, False)
    # DELIVER / ANSWER / CALL_END_WRAP: the agent is working; a pending request survives.
    return (target, None, False, agent.pending, agent.pending_reason, agent.pending_forced)


def apply(agent: AgentCore, outcome: Outcome) -> None:
    """Write a planned outcome into the agent."""
    (
        agent.state,
        agent.reason,
        agent.forced,
        agent.pending,
        agent.pending_reason,
        agent.pending_forced,
    ) = outcome
