"""Every built-in policy drives the real ACD (its own views, not the fakes) under load."""

from __future__ import annotations

import heapq
import itertools
import random

import pytest

from ccsim.acd import ACD, ACDConfig, QueueConfig
from ccsim.events import (
    AgentLoggedOn,
    CallAnswered,
    CallEnded,
    CallOffered,
    Deliver,
    StartTimer,
    TimerFired,
)
from ccsim.routing import BUILTIN_POLICIES, make_policy, policy_kinds

QUEUES = ("billing", "general", "vip")
ACD_ARGUMENT = {
    "agent_selector": "agent_selector",
    "call_selector": "call_selector",
    "queue_discipline": "discipline",
    "ewt": "ewt",
}


def run_loaded_center(acd: ACD, calls: int = 150) -> tuple[int, int]:
    """Four agents, load near 1 so queues build; returns (answered, most waiting at once)."""
    rng = random.Random(0)
    seq = itertools.count()
    events: list[tuple[float, int, object]] = []
    for i in range(4):
        skills = {"billing": 1 + i % 3, "general": 2, "vip": 1 + i % 2}
        logon = AgentLoggedOn(at=0.0, agent_id=f"a{i}", skills=skills, ready=True)
        heapq.heappush(events, (0.0, next(seq), logon))
    t = 0.0
    for c in range(calls):
        t += rng.expovariate(1 / 12)
        offer = CallOffered(
            at=t, call_id=f"c{c}", service=rng.choice(QUEUES), priority=rng.randint(0, 3)
        )
        heapq.heappush(events, (t, next(seq), offer))
    answered = most_waiting = 0
    while events:
        t, _, event = heapq.heappop(events)
        for cmd in acd.handle(event):  # type: ignore[arg-type]
            if isinstance(cmd, Deliver):
                answered += 1
                heapq.heappush(
                    events,
                    (
                        t + 2,
                        next(seq),
                        CallAnswered(at=t + 2, call_id=cmd.call_id, agent_id=cmd.agent_id),
                    ),
                )
                end = t + 2 + rng.expovariate(1 / 40)
                heapq.heappush(events, (end, next(seq), CallEnded(at=end, call_id=cmd.call_id)))
            elif isinstance(cmd, StartTimer) and cmd.key[0] == "wrap":
                heapq.heappush(events, (cmd.at, next(seq), TimerFired(at=cmd.at, key=cmd.key)))
        most_waiting = max(most_waiting, sum(acd.queue(q).length for q in QUEUES))
        assert all(acd.expected_wait(q) >= 0.0 for q in QUEUES)
    return answered, most_waiting


@pytest.mark.parametrize("name", sorted(BUILTIN_POLICIES))
def test_builtin_policy_runs_inside_the_acd(name):
    (kind,) = policy_kinds(BUILTIN_POLICIES[name])
    params = {"random_state": 1} if name == "weighted_random" else None
    config = ACDConfig(queues={q: QueueConfig(name=q) for q in QUEUES}, default_wrap_up=5.0)
    acd = ACD(config, **{ACD_ARGUMENT[kind]: make_policy(name, params)})
    answered, most_waiting = run_loaded_center(acd)
    assert answered == 150  # nobody abandons here, so every call is served
    assert most_waiting > 3  # queues did build, so call selection and disciplines ran
