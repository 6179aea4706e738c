"""Call selectors on tiny hand-made inputs with exact expected choices."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccsim.routing import (
    Candidate,
    Fifo,
    GreatestNeed,
    LongestWeightedWait,
    PriorityAging,
    SkillLevelFirst,
)
from ccsim.testing import FakeAgent, FakeCall, FakeContext, FakeQueue

AGENT = FakeAgent(agent_id="a1", skills={"billing": 1, "general": 2, "vip": 3})
QUEUES = {
    # billing 60 % in target vs 80 % goal: need 0.2; general 95 % vs 80 %: need -0.15;
    # vip no answers yet: need from its head's wait (0.9 * wait / 100 s)
    "billing": FakeQueue(name="billing", answered=10, answered_in_target=6),
    "general": FakeQueue(name="general", answered=20, answered_in_target=19),
    "vip": FakeQueue(name="vip", target_fraction=0.9, target_seconds=100.0),
}
CTX = FakeContext(now=200.0, queues=QUEUES)

BILLING = Candidate(
    queue="billing", call=FakeCall(call_id="b", priority=0), enqueued_at=100.0, level=1
)
GENERAL = Candidate(
    queue="general", call=FakeCall(call_id="g", priority=0), enqueued_at=80.0, level=2
)
VIP = Candidate(queue="vip", call=FakeCall(call_id="v", priority=2), enqueued_at=150.0, level=3)
HEADS = [BILLING, GENERAL, VIP]


def pick(policy, cands, ctx=CTX):
    chosen = policy.select_call(AGENT, cands, ctx)
    return None if chosen is None else chosen.queue


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (Fifo(), "general"),  # enqueued 100, 80, 150
        # scores: billing 0 + 100, general 0 + 120, vip 2 * 60 + 50 = 170
        (PriorityAging(seconds_per_level=60.0), "vip"),
        # vip 2 * 10 + 50 = 70 < general's 120
        (PriorityAging(seconds_per_level=10.0), "general"),
        (LongestWeightedWait(), "general"),  # waits 100, 120, 50
        (LongestWeightedWait(weights={"billing": 1.5}), "billing"),  # 150 beats 120
        (GreatestNeed(), "vip"),  # 0.2, -0.15, 0.9 * 50 / 100 = 0.45
        (SkillLevelFirst(), "billing"),  # levels 1, 2, 3
    ],
)
def test_each_selector_on_three_queue_heads(policy, expected):
    assert pick(policy, HEADS) == expected
    assert pick(policy, HEADS[::-1]) == expected  # the listing order never matters


def test_greatest_need_head_wait_rule_and_min_answered():
    young_vip = Candidate(queue="vip", call=VIP.call, enqueued_at=190.0, level=3)
    # vip need 0.9 * 10 / 100 = 0.09 < billing's 0.2
    assert pick(GreatestNeed(), [BILLING, GENERAL, young_vip]) == "billing"
    # with 15 answers required, billing (10) is judged by its head: 100 s of 20 s -> 0.8
    assert pick(GreatestNeed(min_answered=15), [BILLING, VIP]) == "billing"
    late_vip = Candidate(queue="vip", call=VIP.call, enqueued_at=0.0, level=3)
    assert pick(GreatestNeed(min_answered=15), [BILLING, late_vip]) == "vip"  # 0.9 > 0.8


def test_greatest_need_zero_threshold_counts_every_call_as_late():
    ctx = FakeContext(
        now=200.0, queues={"vip": FakeQueue(name="vip", target_seconds=0.0, target_fraction=0.5)}
    )
    assert GreatestNeed().select_call(AGENT, [VIP], ctx) is VIP


def test_ties_are_fifo_then_priority_then_queue_name():
    call0, call1 = FakeCall(call_id="x", priority=0), FakeCall(call_id="y", priority=1)
    a = Candidate(queue="b_queue", call=call0, enqueued_at=10.0, level=1)
    b = Candidate(queue="a_queue", call=call0, enqueued_at=10.0, level=1)
    c = Candidate(queue="c_queue", call=call1, enqueued_at=10.0, level=1)
    older = Candidate(queue="z_queue", call=call0, enqueued_at=9.0, level=1)
    for policy in (Fifo(), LongestWeightedWait(), SkillLevelFirst(), PriorityAging()):
        assert pick(policy, [a, b]) == "a_queue"
        assert pick(policy, [older, a, b]) == "z_queue"
    assert pick(Fifo(), [a, b, c]) == "c_queue"  # same instant: higher priority


def test_empty_candidates_give_none():
    for policy in (Fifo(), PriorityAging(), LongestWeightedWait(), GreatestNeed()):
        assert policy.select_call(AGENT, [], CTX) is None


# --------------------------------------------------------------- single pass == sorting


@st.composite
def heads(draw):
    names = draw(st.lists(st.sampled_from(["billing", "general", "vip"]), unique=True))
    return [
        Candidate(
            queue=name,
            call=FakeCall(call_id=name, priority=draw(st.integers(0, 3))),
            enqueued_at=draw(st.sampled_from([0.0, 60.0, 120.0, 180.0])),
            level=draw(st.integers(1, 3)),
        )
        for name in names
    ]


def fifo_key(c):
    return (c.enqueued_at, -c.call.priority, c.queue)


def need(c):
    q = QUEUES[c.queue]
    if q.answered:
        return q.target_fraction - q.answered_in_target / q.answered
    return q.target_fraction * min((200.0 - c.enqueued_at) / q.target_seconds, 1.0)


REFERENCE = [
    (Fifo(), fifo_key),
    (
        PriorityAging(seconds_per_level=30.0),
        lambda c: (-(c.call.priority * 30.0 + 200.0 - c.enqueued_at), *fifo_key(c)),
    ),
    (
        LongestWeightedWait(weights={"vip": 3.0}),
        lambda c: (-(200.0 - c.enqueued_at) * (3.0 if c.queue == "vip" else 1.0), *fifo_key(c)),
    ),
    (GreatestNeed(), lambda c: (-need(c), *fifo_key(c))),
    (SkillLevelFirst(), lambda c: (c.level, *fifo_key(c))),
]


@settings(max_examples=100, deadline=None)
@given(cands=heads())
def test_single_pass_matches_sorting(cands):
    for policy, key in REFERENCE:
        expected = min(cands, key=key).queue if cands else None
        assert pick(policy, cands) == expected, policy
