"""Queue disciplines: the order their static keys give inside one queue."""

from __future__ import annotations

import heapq
from itertools import count

import pytest

from ccsim.routing import LinearAging, PriorityFifo, StrictFifo
from ccsim.testing import FakeCall


def served_order(discipline, arrivals):
    """Pop order of a heap on (key, arrival counter), as a queue keeps it."""
    seq = count()
    heap = [
        (discipline.key(FakeCall(call_id=cid, priority=p), t), next(seq), cid)
        for cid, p, t in arrivals
    ]
    heapq.heapify(heap)
    return [heapq.heappop(heap)[2] for _ in range(len(heap))]


ARRIVALS = [("a", 0, 0.0), ("b", 1, 5.0), ("c", 0, 10.0), ("d", 1, 15.0), ("e", 5, 400.0)]


def test_priority_fifo_is_priority_then_arrival():
    assert PriorityFifo().key(FakeCall(call_id="x", priority=3), 7.0) == (-3.0, 7.0)
    assert served_order(PriorityFifo(), ARRIVALS) == ["e", "b", "d", "a", "c"]


def test_strict_fifo_ignores_priority():
    assert StrictFifo().key(FakeCall(call_id="x", priority=3), 7.0) == (7.0, 0.0)
    assert served_order(StrictFifo(), ARRIVALS) == ["a", "b", "c", "d", "e"]


def test_linear_aging_key():
    assert LinearAging(seconds_per_level=30.0).key(FakeCall(call_id="x", priority=2), 100.0) == (
        40.0,
        -2.0,
    )
    # 60 s per level: d (priority 1) passes a, 15 s older; e (priority 5, 300 s) passes nobody
    # keys: a 0, b -55, c 10, d -45, e 100
    assert served_order(LinearAging(), ARRIVALS) == ["b", "d", "a", "c", "e"]


@pytest.mark.parametrize(
    ("young_at", "first"),
    [(59.9, "young"), (60.0, "young"), (60.1, "old")],
)
def test_aging_overtakes_exactly_after_seconds_per_level_times_priority_gap(young_at, first):
    # priority gap 2 at 30 s per level: the old call overtakes once it is > 60 s older
    arrivals = [("old", 0, 0.0), ("young", 2, young_at)]
    assert served_order(LinearAging(seconds_per_level=30.0), arrivals)[0] == first
    assert served_order(PriorityFifo(), arrivals)[0] == "young"  # no aging: never


def test_rona_boost_puts_a_returned_call_at_the_head():
    arrivals = [("waiting", 0, 0.0), ("returned", 1000, 300.0)]
    for discipline in (PriorityFifo(), LinearAging()):
        assert served_order(discipline, arrivals)[0] == "returned"
