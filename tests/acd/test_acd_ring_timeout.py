"""An infinite ring timeout turns ring-no-answer off: no ring timer at all."""

from __future__ import annotations

import math

from ccsim.acd import ACD, ACDConfig
from ccsim.events import (
    AgentLoggedOn,
    AgentState,
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallOffered,
    Deliver,
    SetAgentState,
)


def test_infinite_ring_timeout_starts_and_cancels_no_timer() -> None:
    acd = ACD(ACDConfig.single_queue("q", ring_timeout=math.inf))
    acd.handle(AgentLoggedOn(at=0.0, agent_id="a", skills={"q": 1}, ready=True))
    assert acd.handle(CallOffered(at=1.0, call_id="c1", service="q")) == [
        Deliver(call_id="c1", agent_id="a", queue="q")
    ]
    assert acd.handle(CallAnswered(at=500.0, call_id="c1", agent_id="a")) == []
    assert acd.handle(CallEnded(at=600.0, call_id="c1")) == [
        SetAgentState(agent_id="a", state=AgentState.READY)
    ]
    # a call abandoned while ringing cancels nothing either
    acd.handle(CallOffered(at=700.0, call_id="c2", service="q"))
    assert acd.handle(CallAbandoned(at=10_000.0, call_id="c2")) == [
        SetAgentState(agent_id="a", state=AgentState.READY)
    ]
    assert acd.snapshot()["timers"] == {}


def test_finite_ring_timeout_still_times_the_ring() -> None:
    acd = ACD(ACDConfig.single_queue("q", ring_timeout=1e9))
    acd.handle(AgentLoggedOn(at=0.0, agent_id="a", skills={"q": 1}, ready=True))
    out = acd.handle(CallOffered(at=1.0, call_id="c1", service="q"))
    assert [type(c).__name__ for c in out] == ["Deliver", "StartTimer"]
    assert acd.snapshot()["timers"] == {"ring:c1": 1.0 + 1e9}
