"""The wallboard's KPI tracker on hand-built event sequences (expected numbers worked by hand).

The events are fed with the commands a real ACD answered with (the tracker reads
``SetAgentState`` / ``Overflow`` from them), so the sequences are realistic; the
expected figures are computed in the comments from the event times alone.
"""

from __future__ import annotations

import pytest

from ccsim import events as ev
from ccsim.acd import ACD, ACDConfig
from ccsim.live.kpis import DAY, KpiTracker


def feed(kpis: KpiTracker, acd: ACD, *events: ev.Event) -> None:
    for e in events:
        kpis.record(e, acd.handle(e))


def one_queue(wrap: float = 0.0) -> ACD:
    cfg = ACDConfig.single_queue("sales")
    if wrap:
        import dataclasses  # noqa: PLC0415

        cfg = dataclasses.replace(cfg, default_wrap_up=wrap)
    return ACD(cfg)


def test_today_counts_waits_and_service_level() -> None:
    acd = one_queue()
    k = KpiTracker({"sales": (0.8, 20.0)})
    feed(
        k,
        acd,
        ev.AgentLoggedOn(at=0.0, agent_id="a", skills={"sales": 1}, ready=True),
        ev.CallOffered(at=100.0, call_id="c1", service="sales"),  # rings a at once
        ev.CallAnswered(at=105.0, call_id="c1", agent_id="a"),  # wait 5 (in target)
        ev.CallOffered(at=110.0, call_id="c2", service="sales"),  # queued
        ev.CallOffered(at=120.0, call_id="c3", service="sales"),  # queued
        ev.CallAbandoned(at=130.0, call_id="c3"),  # abandoned after 10
        ev.CallEnded(at=165.0, call_id="c1"),  # talk 60, no wrap: a ready, c2 rings
        ev.CallAnswered(at=170.0, call_id="c2", agent_id="a"),  # wait 60 (miss)
        ev.CallOffered(at=175.0, call_id="c4", service="sales"),
        ev.CallWithdrawn(at=180.0, call_id="c4"),  # the switch took it: no ACD outcome
        ev.CallOffered(at=190.0, call_id="c5", service="sales"),  # still waiting
    )
    t = k.today("sales", at=200.0)
    assert (t.offered, t.answered, t.abandoned, t.withdrawn) == (5, 2, 1, 1)
    # SL: 1 in target / (2 answered + 1 abandoned) ; over answered: 1/2
    assert t.answered_in_target == 1
    assert t.service_level == pytest.approx(1 / 3)
    assert t.service_level_answered == pytest.approx(0.5)
    assert t.asa == pytest.approx((5 + 60) / 2)
    assert t.aht == pytest.approx(60.0)  # only c1 has ended
    assert (t.target_fraction, t.target_seconds) == (0.8, 20.0)
    assert k.longest_wait("sales", at=200.0) == pytest.approx(10.0)  # c5 since 190
    # the agent's count agrees with the ACD's own counters
    c = acd.counters("sales")
    assert (c.offered, c.answered, c.abandoned, c.withdrawn) == (5, 2, 1, 1)


def test_handle_time_includes_after_call_work() -> None:
    acd = one_queue(wrap=30.0)
    k = KpiTracker()
    feed(
        k,
        acd,
        ev.AgentLoggedOn(at=0.0, agent_id="a", skills={"sales": 1}, ready=True),
        ev.CallOffered(at=10.0, call_id="c1", service="sales"),
        ev.CallAnswered(at=12.0, call_id="c1", agent_id="a"),
        ev.CallEnded(at=112.0, call_id="c1"),  # talk 100, then wrap-up
        ev.WrapUpEnded(at=127.0, agent_id="a"),  # the agent ends it after 15
    )
    assert k.today("sales").aht == pytest.approx(115.0)
    feed(
        k,
        acd,
        ev.CallOffered(at=200.0, call_id="c2", service="sales"),
        ev.CallAnswered(at=201.0, call_id="c2", agent_id="a"),
        ev.CallEnded(at=241.0, call_id="c2"),  # talk 40
        ev.TimerFired(at=271.0, key=("wrap", "a")),  # the ACD's 30 s wrap-up timer
    )
    # (100 + 15 + 40 + 30) / 2
    assert k.today("sales").aht == pytest.approx(92.5)


def test_window_slides_and_day_restarts() -> None:
    acd = one_queue()
    k = KpiTracker(window=900.0, bucket=10.0)
    feed(k, acd, ev.AgentLoggedOn(at=0.0, agent_id="a", skills={"sales": 1}, ready=False))
    # three abandoned calls at 1000, 1500, 1905
    for n, t in enumerate((1000.0, 1500.0, 1905.0)):
        feed(
            k,
            acd,
            ev.CallOffered(at=t, call_id=f"c{n}", service="sales"),
            ev.CallAbandoned(at=t + 1, call_id=f"c{n}"),
        )
    # the window at 1905 covers the buckets 101..190 = [1010, 1910): the call of
    # 1000 (bucket 100) has left it, 1500 and 1905 are in
    last = k.last("sales", at=1905.0)
    assert (last.offered, last.abandoned) == (2, 2)
    assert k.today("sales", at=1905.0).offered == 3
    # at 2405 the window is [1510, 2410): only the call of 1905 is left
    assert k.last("sales", at=2405.0).offered == 1
    # 20 minutes of silence: nothing in the window, today unchanged
    assert k.last("sales", at=3200.0).offered == 0
    assert k.today("sales", at=3200.0).offered == 3
    # a new day: today starts again from zero
    feed(k, acd, ev.CallOffered(at=DAY + 5.0, call_id="d1", service="sales"))
    assert k.today("sales").offered == 1
    assert k.today("sales").service_level is None  # nothing finished yet today
    assert k.longest_wait("sales", at=DAY + 35.0) == pytest.approx(30.0)


def test_overflow_and_disconnect_are_outcomes() -> None:
    """Outcomes the ACD decides come as commands; unknown calls are ignored."""
    k = KpiTracker({"sales": (0.9, 10.0)})
    k.record(ev.CallOffered(at=0.0, call_id="c1", service="sales"), [])
    k.record(ev.CallOffered(at=1.0, call_id="c2", service="sales"), [])
    k.record(
        ev.TimerFired(at=30.0, key=("script", "c1")),
        [ev.Overflow(call_id="c1", destination="backup")],
    )
    k.record(
        ev.TimerFired(at=31.0, key=("script", "c2")), [ev.Disconnect(call_id="c2", cause="closed")]
    )
    k.record(ev.CallAbandoned(at=32.0, call_id="nobody"), [])
    t = k.today("sales")
    assert (t.offered, t.overflowed, t.disconnected, t.abandoned) == (2, 1, 1, 0)
    assert t.service_level == 0.0  # two outcomes, none answered in target
    assert k.longest_wait("sales") == 0.0


def test_bad_parameters() -> None:
    with pytest.raises(ValueError, match="bucket"):
        KpiTracker(bucket=0)
    with pytest.raises(ValueError, match="window"):
        KpiTracker(window=5, bucket=10)
