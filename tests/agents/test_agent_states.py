"""Every (state, trigger) pair of the agent state machine, legal and illegal.

The expected table below is written out by hand from DESIGN.md §3 and the
seed's agent functions; it is *not* derived from ``TRANSITIONS``.
"""

from __future__ import annotations

import itertools

import pytest

from ccsim.agents import AgentCore, AgentTransitionError, Trigger, apply, plan
from ccsim.errors import ACDError, IllegalTransitionError
from ccsim.events import AgentState as S

T = Trigger
OFF, NR, RDY, RES, BUSY, WAC = (
    S.LOGGED_OFF,
    S.NOT_READY,
    S.READY,
    S.RESERVED,
    S.BUSY,
    S.WORKING_AFTER_CALL,
)

# (state, trigger) -> resulting state for an agent with nothing pending.
# "same" means the state is unchanged (the request becomes pending or is a no-op).
EXPECTED: dict[tuple[S, Trigger], S] = {
    (OFF, T.LOGON): NR,
    (OFF, T.LOGON_READY): RDY,
    (NR, T.READY): RDY,
    (NR, T.NOT_READY): NR,
    (NR, T.LOGOFF): OFF,
    (RDY, T.READY): RDY,
    (RDY, T.NOT_READY): NR,
    (RDY, T.LOGOFF): OFF,
    (RDY, T.DELIVER): RES,
    (RES, T.READY): RES,
    (RES, T.NOT_READY): RES,
    (RES, T.LOGOFF): RES,
    (RES, T.ANSWER): BUSY,
    (RES, T.MISS): RDY,
    (RES, T.MISS_LIMIT): NR,
    (RES, T.RING_CLEARED): RDY,
    (BUSY, T.READY): BUSY,
    (BUSY, T.NOT_READY): BUSY,
    (BUSY, T.LOGOFF): BUSY,
    (BUSY, T.CALL_END): RDY,
    (BUSY, T.CALL_END_WRAP): WAC,
    (WAC, T.READY): RDY,
    (WAC, T.NOT_READY): NR,
    (WAC, T.LOGOFF): OFF,
    (WAC, T.WRAP_END): RDY,
}


def agent_in(state: S) -> AgentCore:
    a = AgentCore("a1")
    a.state = state
    return a


ALL_PAIRS = list(itertools.product(list(S), list(Trigger)))


@pytest.mark.parametrize(("state", "trigger"), ALL_PAIRS, ids=str)
def test_every_pair(state: S, trigger: Trigger) -> None:
    agent = agent_in(state)
    if (state, trigger) in EXPECTED:
        out = plan(agent, trigger, reason="lunch")
        assert out[0] is EXPECTED[(state, trigger)]
    else:
        with pytest.raises(IllegalTransitionError) as exc:
            plan(agent, trigger)
        assert state.value in str(exc.value) and trigger.value in str(exc.value)
        assert agent.state is state  # nothing changed


def test_error_family() -> None:
    assert issubclass(AgentTransitionError, IllegalTransitionError)
    assert issubclass(IllegalTransitionError, ACDError)
    assert issubclass(ACDError, ValueError)


@pytest.mark.parametrize("on_call", [RES, BUSY])
def test_not_ready_while_on_call_is_pending_then_applies(on_call: S) -> None:
    a = agent_in(on_call)
    apply(a, plan(a, T.NOT_READY, reason="lunch"))
    assert (a.state, a.pending, a.pending_reason) == (on_call, NR, "lunch")
    if on_call is RES:
        apply(a, plan(a, T.ANSWER))
        assert a.pending is NR  # survives answering
    apply(a, plan(a, T.CALL_END_WRAP))
    assert a.state is WAC and a.pending is NR
    apply(a, plan(a, T.WRAP_END))
    assert (a.state, a.reason, a.pending) == (NR, "lunch", None)


def test_logoff_pending_is_not_downgraded_by_not_ready() -> None:
    a = agent_in(BUSY)
    apply(a, plan(a, T.LOGOFF))
    apply(a, plan(a, T.NOT_READY, reason="break"))
    assert a.pending is OFF
    apply(a, plan(a, T.CALL_END))
    assert a.state is OFF


def test_ready_while_busy_cancels_pending() -> None:
    a = agent_in(BUSY)
    apply(a, plan(a, T.NOT_READY, reason="break"))
    apply(a, plan(a, T.READY))
    assert a.pending is None
    apply(a, plan(a, T.CALL_END))
    assert a.state is RDY


def test_forced_flag_reported_and_cleared_by_own_change() -> None:
    a = agent_in(RDY)
    apply(a, plan(a, T.NOT_READY, reason="qc", forced=True))
    assert (a.state, a.reason, a.forced) == (NR, "qc", True)
    apply(a, plan(a, T.READY))
    assert (a.state, a.forced) == (RDY, False)


def test_forced_pending_keeps_forced_when_applied() -> None:
    a = agent_in(BUSY)
    apply(a, plan(a, T.NOT_READY, reason="forced", forced=True))
    assert a.forced is False  # the current state is not forced
    apply(a, plan(a, T.CALL_END))
    assert (a.state, a.forced) == (NR, True)


def test_rona_limit_goes_not_ready_with_reason_rona() -> None:
    a = agent_in(RES)
    apply(a, plan(a, T.MISS_LIMIT))
    assert (a.state, a.reason) == (NR, "rona")


def test_rona_limit_with_pending_logoff_logs_off() -> None:
    a = agent_in(RES)
    apply(a, plan(a, T.LOGOFF, forced=True))
    apply(a, plan(a, T.MISS_LIMIT))
    assert (a.state, a.forced) == (OFF, True)


def test_working_states_do_not_keep_forced_flag() -> None:
    a = agent_in(OFF)
    apply(a, plan(a, T.LOGON_READY, forced=True))
    assert a.forced is True
    apply(a, plan(a, T.DELIVER))
    assert (a.state, a.forced) == (RES, False)
