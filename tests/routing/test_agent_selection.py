"""Agent selectors on tiny hand-made inputs with exact expected choices.

Candidates are always listed longest idle first, as the ACD offers them.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccsim.routing import (
    FewestCalls,
    HighestSkill,
    LeastOccupied,
    LeastTalkTime,
    LongestIdle,
    RoundRobin,
    TopDown,
    WeightedRandom,
)
from ccsim.testing import FakeAgent, FakeCall, FakeContext

CALL = FakeCall(call_id="c1", service="billing")
CTX = FakeContext(now=1000.0)

# X idle longest, busiest, most calls; Y fewest calls, lowest occupancy;
# Z least busy time (but logged on late, so more occupied than Y), best level.
X = FakeAgent(
    agent_id="X", skills={"billing": 2}, idle_since=100.0, calls_handled=10, busy_time=800.0
)
Y = FakeAgent(
    agent_id="Y", skills={"billing": 3}, idle_since=150.0, calls_handled=4, busy_time=300.0
)
Z = FakeAgent(
    agent_id="Z",
    skills={"billing": 1},
    idle_since=180.0,
    logged_on_at=600.0,
    calls_handled=6,
    busy_time=150.0,
)
XYZ = [X, Y, Z]


def pick(policy: object, agents: list[FakeAgent], queue: str = "billing", ctx: FakeContext = CTX):
    chosen = policy.select_agent(CALL, queue, iter(agents), ctx)  # type: ignore[attr-defined]
    return None if chosen is None else chosen.agent_id


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (LongestIdle(), "X"),  # idle since 100
        (LeastOccupied(), "Y"),  # X 0.8, Y 0.3, Z 150/400 = 0.375
        (FewestCalls(), "Y"),  # 10, 4, 6
        (LeastTalkTime(), "Z"),  # 800, 300, 150
        (HighestSkill(), "Z"),  # levels 2, 3, 1
        (HighestSkill(levels_first=False), "X"),  # idle times differ: longest idle
        (TopDown(order=["Y", "Z"]), "Y"),
        (RoundRobin(), "X"),  # first turn: smallest id
    ],
)
def test_each_selector_on_three_agents(policy, expected):
    assert pick(policy, XYZ) == expected


def test_longest_idle_takes_first_without_consuming_the_rest():
    def offered():
        yield X
        raise AssertionError("LongestIdle must not look past the first candidate")

    assert LongestIdle().select_agent(CALL, "billing", offered(), CTX) is X


def test_least_occupied_ties_go_to_longest_idle_and_new_logons_count_as_idle():
    a = FakeAgent(agent_id="a", idle_since=10.0, busy_time=100.0)
    b = FakeAgent(agent_id="b", idle_since=20.0, busy_time=100.0)
    fresh = FakeAgent(agent_id="fresh", idle_since=1000.0, logged_on_at=1000.0)
    assert pick(LeastOccupied(), [a, b]) == "a"
    assert pick(LeastOccupied(), [a, b, fresh]) == "fresh"  # 0 s logged on -> 0 %


def test_fewest_calls_ties_go_to_longest_idle():
    a = FakeAgent(agent_id="a", idle_since=1.0, calls_handled=0)
    b = FakeAgent(agent_id="b", idle_since=2.0, calls_handled=0)
    c = FakeAgent(agent_id="c", idle_since=3.0, calls_handled=3)
    d = FakeAgent(agent_id="d", idle_since=4.0, calls_handled=3)
    assert pick(FewestCalls(), [a, b, c]) == "a"
    assert pick(FewestCalls(), [c, d]) == "c"


def test_highest_skill_levels_first_ties_and_missing_skill():
    a = FakeAgent(agent_id="a", skills={"billing": 2}, idle_since=1.0)
    b = FakeAgent(agent_id="b", skills={"billing": 2}, idle_since=2.0)
    none = FakeAgent(agent_id="none", skills={"general": 1}, idle_since=0.0)
    assert pick(HighestSkill(), [a, b]) == "a"
    assert pick(HighestSkill(), [none, b]) == "b"
    assert pick(HighestSkill(), [none]) == "none"  # a caller bug, but no crash


def test_highest_skill_idle_first_breaks_exact_idle_ties_by_level():
    # a whole shift turned READY at t=0; "late" became READY later and is not a tie
    a = FakeAgent(agent_id="a", skills={"billing": 3}, idle_since=0.0)
    b = FakeAgent(agent_id="b", skills={"billing": 2}, idle_since=0.0)
    c = FakeAgent(agent_id="c", skills={"billing": 2}, idle_since=0.0)
    late = FakeAgent(agent_id="late", skills={"billing": 1}, idle_since=5.0)
    assert pick(HighestSkill(levels_first=False), [a, b, c, late]) == "b"
    assert pick(HighestSkill(levels_first=True), [a, b, c, late]) == "late"


def test_round_robin_rotates_per_queue_and_skips_busy_agents():
    a, b, c = (FakeAgent(agent_id=i, skills={"billing": 1, "general": 1}) for i in "abc")
    rr = RoundRobin()
    assert [pick(rr, [a, b, c]) for _ in range(4)] == ["a", "b", "c", "a"]
    assert pick(rr, [a, c]) == "c"  # b is busy: the next after a is c
    assert pick(rr, [a, b, c], queue="general") == "a"  # its own cursor
    assert pick(rr, [b]) == "b"  # wraps around
    rr.set_params(order=())  # resets the cursors
    assert pick(rr, [a, b, c]) == "a"


def test_round_robin_follows_the_given_order_then_unlisted_by_id():
    a, b, c, d = (FakeAgent(agent_id=i) for i in "abcd")
    rr = RoundRobin(order=["c", "a"])
    assert [pick(rr, [a, b, c, d]) for _ in range(5)] == ["c", "a", "b", "d", "c"]


def test_top_down_order_unlisted_and_levels():
    a = FakeAgent(agent_id="a", skills={"billing": 1}, idle_since=1.0)
    b = FakeAgent(agent_id="b", skills={"billing": 1}, idle_since=2.0)
    c = FakeAgent(agent_id="c", skills={"billing": 2}, idle_since=3.0)
    d = FakeAgent(agent_id="d", skills={"billing": 1}, idle_since=4.0)
    td = TopDown(order=["c", "b"])
    assert pick(td, [a, b, c, d]) == "c"
    assert pick(td, [a, b, d]) == "b"
    assert pick(td, [a, d]) == "a"  # unlisted: longest idle
    assert pick(TopDown(order=["c", "b"], levels_first=True), [a, b, c, d]) == "b"
    assert pick(TopDown(), [d, a]) == "d"  # no order: plain longest idle


def test_weighted_random_is_reproducible_and_follows_weights():
    agents = [FakeAgent(agent_id="a"), FakeAgent(agent_id="b")]
    one = WeightedRandom(weights={"a": 3.0}, random_state=7)
    two = WeightedRandom(weights={"a": 3.0}, random_state=7)
    seq = [pick(one, agents) for _ in range(4000)]
    assert seq == [pick(two, agents) for _ in range(4000)]
    share = Counter(seq)["a"] / len(seq)
    assert 0.75 - 0.035 < share < 0.75 + 0.035  # 5 binomial standard deviations


def test_weighted_random_by_level_and_zero_weights():
    l1 = FakeAgent(agent_id="l1", skills={"billing": 1})
    l2 = FakeAgent(agent_id="l2", skills={"billing": 2})
    wr = WeightedRandom(level_exponent=1.0, random_state=1)
    share = Counter(pick(wr, [l2, l1]) for _ in range(3000))["l1"] / 3000
    assert 2 / 3 - 0.05 < share < 2 / 3 + 0.05
    assert pick(WeightedRandom(weights={"l1": 0.0}, random_state=1), [l1, l2]) == "l2"
    zero = WeightedRandom(default_weight=0.0, random_state=1)
    assert pick(zero, [l2, l1]) == "l2"  # nobody weighted: longest idle, never left idle


def test_weighted_random_single_candidate_draws_nothing():
    wr = WeightedRandom(random_state=3)
    assert pick(wr, [X]) == "X"
    assert wr._rng is None


def test_weighted_random_set_params_restarts_the_sequence():
    agents = [FakeAgent(agent_id=i) for i in "abcde"]
    wr = WeightedRandom(random_state=11)
    first = [pick(wr, agents) for _ in range(10)]
    wr.set_params(random_state=11)
    assert [pick(wr, agents) for _ in range(10)] == first


# --------------------------------------------------------------- single pass == sorting


@st.composite
def ready_agents(draw):
    n = draw(st.integers(0, 8))
    idle = sorted(draw(st.lists(st.sampled_from([0.0, 5.0, 10.0, 50.0]), min_size=n, max_size=n)))
    return [
        FakeAgent(
            agent_id=f"a{i}",
            skills={"billing": draw(st.integers(1, 4))},
            idle_since=idle[i],
            logged_on_at=draw(st.sampled_from([0.0, 100.0, 1000.0])),
            calls_handled=draw(st.integers(0, 3)),
            busy_time=draw(st.sampled_from([0.0, 60.0, 120.0])),
        )
        for i in range(n)
    ]


def _occ(a):
    span = 1000.0 - a.logged_on_at
    return a.busy_time / span if span > 0 else 0.0


REFERENCE_KEYS = [
    (LongestIdle(), lambda a: 0),
    (LeastOccupied(), _occ),
    (FewestCalls(), lambda a: a.calls_handled),
    (LeastTalkTime(), lambda a: a.busy_time),
    (HighestSkill(), lambda a: a.skills["billing"]),
    (HighestSkill(levels_first=False), lambda a: (a.idle_since, a.skills["billing"])),
    (TopDown(order=["a3", "a1"]), lambda a: {"a3": 0, "a1": 1}.get(a.agent_id, 2)),
    (
        TopDown(order=["a3", "a1"], levels_first=True),
        lambda a: (a.skills["billing"], {"a3": 0, "a1": 1}.get(a.agent_id, 2)),
    ),
]


@settings(max_examples=100, deadline=None)
@given(agents=ready_agents())
def test_single_pass_matches_sorting(agents):
    # ties go to the earliest offered (longest idle): a stable sort on the key
    for policy, key in REFERENCE_KEYS:
        expected = sorted(agents, key=key)[0].agent_id if agents else None
        assert pick(policy, agents) == expected, policy


@settings(max_examples=60, deadline=None)
@given(agents=ready_agents(), turns=st.integers(1, 6))
def test_round_robin_matches_rotation_over_sorted_ids(agents, turns):
    rr = RoundRobin()
    ids = sorted(a.agent_id for a in agents)
    last = None
    for _ in range(turns):
        after = [i for i in ids if last is not None and i > last]
        expected = (after or ids or [None])[0]
        assert pick(rr, agents) == expected
        last = expected
