"""Erlang A (M/M/N+M): published value, mpmath chain sums, a dense CTMC, extremes, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from planning_reference import ctmc_erlang_a, mp_erlang_a_chain, mp_erlang_a_closed

from ccsim.planning import ServiceLevelDefinition, erlang_a, erlang_c
from ccsim.planning import erlang as erlang_module

PROPS = settings(max_examples=40, deadline=None)

# (arrival rate /s, AHT s, mean patience s, agents): under, near and over capacity
CASES = [
    (3.5 / 60, 180.0, 300.0, 13),
    (0.2, 240.0, 60.0, 40),  # N < A
    (0.2, 240.0, 600.0, 60),
    (0.5, 200.0, 100.0, 80),
    (1.0, 100.0, 1e5, 120),  # nearly Erlang C
    (0.05, 100.0, 50.0, 1),
    (1.0, 100.0, 30.0, 3),  # A = 100 on 3 agents
    (2.0, 100.0, 10.0, 150),  # very impatient, overstaffed
    (0.06, 100.0, 1e5, 10),  # patient callers, light load: P(a, x) underflows
]


def test_published_mean_wait_9_91_s_is_the_mean_over_all_callers() -> None:
    # 3.5 calls/min, AHT 3 min, mean patience 5 min, 13 agents -> mean wait 9.91 s
    # (the 4CallCenters / Garnett-Mandelbaum-Reiman style example). Both the
    # independent chain sum and ccsim agree that 9.91 s is E[W] over *all*
    # callers (abandoning ones included); served callers wait 9.18 s on average.
    r = erlang_a(arrival_rate=3.5 / 60, aht=180.0, patience=300.0, servers=13)
    ref = mp_erlang_a_chain(3.5 / 60, 180.0, 300.0, 13)
    assert ref.mean_wait == pytest.approx(9.91, abs=5e-3)
    assert float(r.mean_wait) == pytest.approx(9.91, abs=5e-3)
    assert float(r.mean_wait_served) == pytest.approx(9.18, abs=5e-3)
    assert ref.mean_wait_served != pytest.approx(9.91, abs=5e-2)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_matches_high_precision_chain_sum(case: tuple[float, float, float, int]) -> None:
    ref = mp_erlang_a_chain(*case)
    rate, aht, patience, n = case
    r = erlang_a(arrival_rate=rate, aht=aht, patience=patience, servers=n)
    for name in ("p_wait", "p_abandon", "mean_wait", "mean_wait_served", "mean_queue_length"):
        assert float(getattr(r, name)) == pytest.approx(getattr(ref, name), rel=1e-11), name


@pytest.mark.parametrize("case", CASES[:4] + CASES[5:7] + CASES[8:], ids=str)
def test_matches_dense_ctmc_including_waiting_time_law(
    case: tuple[float, float, float, int],
) -> None:
    ref = ctmc_erlang_a(*case)
    rate, aht, patience, n = case
    r = erlang_a(arrival_rate=rate, aht=aht, patience=patience, servers=n)
    for name in ("p_wait", "p_abandon", "mean_wait", "mean_wait_served"):
        assert float(getattr(r, name)) == pytest.approx(getattr(ref, name), rel=1e-9), name
    for t in (0.0, 5.0, 20.0, 60.0, 300.0):
        answered, abandoned, waiting = ref.timed(t)
        assert float(r.answered_within(t)) == pytest.approx(answered, rel=1e-9, abs=1e-12)
        assert float(r.abandoned_within(t)) == pytest.approx(abandoned, rel=1e-9, abs=1e-12)
        assert float(r.queue_time_within(t)) == pytest.approx(1 - waiting, rel=1e-9, abs=1e-12)
        sl = r.service_level
        assert float(sl(t, "answered")) == pytest.approx(answered / (1 - ref.p_abandon), abs=1e-11)
        excl = answered / (answered + waiting)
        assert float(sl(t, "offered_minus_short_abandons")) == pytest.approx(excl, abs=1e-11)


@pytest.mark.parametrize(
    ("rate", "patience", "n"),
    [(9900 / 240, 240.0, 10_000), (8500 / 240, 2400.0, 10_000), (1e5 / 240, 60.0, 100_000),
     (1.2e5 / 240, 300.0, 100_000), (99_000 / 240, 1e6, 100_000), (0.5, 50.0, 37.5)],
)  # fmt: skip
def test_large_and_fractional_n_match_mpmath_closed_forms(
    rate: float, patience: float, n: float
) -> None:
    # Mandelbaum-Zeltyn's formulas evaluated by mpmath's own 1F1 and incomplete gamma
    ref = mp_erlang_a_closed(rate, 240.0, patience, n)
    r = erlang_a(arrival_rate=rate, aht=240.0, patience=patience, servers=n)
    for name in ("p_wait", "p_abandon", "mean_wait", "mean_queue_length"):
        assert float(getattr(r, name)) == pytest.approx(getattr(ref, name), rel=1e-9), name


def test_strided_sums_agree_with_consecutive_sums(monkeypatch: pytest.MonkeyPatch) -> None:
    # Queue-length windows longer than _GRID_POINTS are sampled with a stride and
    # an Euler-Maclaurin end correction; compare with plain consecutive sums.
    # Production grid size; laws far wider than it: geometric, near-critical,
    # far overloaded (peak away from 0), and both at once.
    a = np.array([4.1667e8, 1e6, 2e5, 1e6, 3e5])  # N mu / theta
    x = np.array([4.125e8, 1e6 + 500, 3e5, 0.995e6, 2.9e5])  # lambda / theta
    theta = 1 / np.array([1e6, 3000.0, 3000.0, 1000.0, 400.0])
    calls = []
    strided = erlang_module._moments_strided

    def spy(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return strided(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(erlang_module, "_moments_strided", spy)
    with np.errstate(all="ignore"):
        m_s, g_s = erlang_module._queue_moments(a, x, theta)
        assert calls, "the strided path was not exercised"
        monkeypatch.setattr(erlang_module, "_GRID_POINTS", 1 << 22)
        m_c, g_c = erlang_module._queue_moments(a, x, theta)
    assert np.allclose(m_s, m_c, rtol=1e-10)
    assert np.allclose(g_s, g_c, rtol=1e-10)


def test_tends_to_erlang_c_as_patience_grows() -> None:
    c = erlang_c(arrival_rate=0.2, aht=240.0, servers=52)
    gaps = []
    for patience in (1e3, 1e5, 1e7, 1e9):
        a = erlang_a(arrival_rate=0.2, aht=240.0, patience=patience, servers=52)
        gaps.append(abs(float(a.mean_wait) / float(c.asa) - 1))
        assert float(a.p_wait) <= float(c.p_wait)
    assert gaps == sorted(gaps, reverse=True)
    assert gaps[-1] < 1e-5  # the O(1/patience) physics, not numerical noise
    inf = erlang_a(arrival_rate=0.2, aht=240.0, patience=math.inf, servers=52)
    assert float(inf.p_wait) == float(c.p_wait) and float(inf.p_abandon) == 0.0
    assert float(inf.service_level(20.0)) == pytest.approx(float(c.service_level(20.0)), rel=1e-15)


def test_infinite_patience_overload_is_unstable() -> None:
    r = erlang_a(arrival_rate=1.0, aht=100.0, patience=math.inf, servers=50)
    assert float(r.p_wait) == 1.0 and math.isinf(float(r.mean_wait))
    assert float(r.service_level(20.0)) == 0.0


def test_extreme_overload_stays_finite() -> None:
    # A >> N: the queue is held by abandonment; almost everyone abandons
    r = erlang_a(arrival_rate=1e4, aht=100.0, patience=60.0, servers=10)
    assert float(r.p_wait) == pytest.approx(1.0, abs=1e-12)
    assert float(r.p_abandon) == pytest.approx(1 - 10 / 1e6, rel=1e-6)
    assert float(r.mean_wait) == pytest.approx(60.0 * float(r.p_abandon), rel=1e-9)
    assert float(r.occupancy) == pytest.approx(1.0, abs=1e-9)


def test_no_agents_everyone_waits_then_abandons() -> None:
    r = erlang_a(arrival_rate=0.1, aht=100.0, patience=45.0, servers=0)
    assert float(r.p_wait) == 1.0 and float(r.p_abandon) == 1.0
    assert float(r.mean_wait) == pytest.approx(45.0, rel=1e-12)
    assert math.isnan(float(r.mean_wait_served)) and math.isnan(float(r.occupancy))
    assert float(r.answered_within(1e6)) == 0.0
    assert float(r.abandoned_within(45.0)) == pytest.approx(1 - math.exp(-1), rel=1e-12)


def test_no_traffic() -> None:
    r = erlang_a(arrival_rate=0.0, aht=100.0, patience=45.0, servers=[0, 3])
    assert (r.p_wait == 0).all() and (r.p_abandon == 0).all() and (r.mean_wait == 0).all()
    assert (r.service_level(10.0) == 1).all()


def test_single_agent() -> None:
    ref = mp_erlang_a_chain(0.01, 60.0, 30.0, 1)
    r = erlang_a(arrival_rate=0.01, aht=60.0, patience=30.0, servers=1)
    assert float(r.p_abandon) == pytest.approx(ref.p_abandon, rel=1e-12)


def test_fractional_servers_lie_between_neighbours() -> None:
    r = erlang_a(arrival_rate=0.2, aht=240.0, patience=120.0, servers=[45.0, 45.5, 46.0])
    assert r.p_abandon[0] > r.p_abandon[1] > r.p_abandon[2]
    sl = r.service_level(20.0)
    assert sl[0] < sl[1] < sl[2]


def test_service_level_definitions_are_ordered() -> None:
    r = erlang_a(arrival_rate=0.2, aht=240.0, patience=90.0, servers=46)
    offered = float(r.service_level(20.0, ServiceLevelDefinition.OFFERED))
    short = float(r.service_level(20.0, ServiceLevelDefinition.OFFERED_MINUS_SHORT_ABANDONS))
    answered = float(r.service_level(20.0, ServiceLevelDefinition.ANSWERED))
    assert offered < short < answered
    assert float(r.service_level(20.0)) == offered  # the documented default


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"patience": 0.0}, "patience"),
        ({"patience": -5.0}, "patience"),
        ({"patience": math.nan}, "patience"),
        ({"servers": -1}, "servers"),
        ({"arrival_rate": math.inf}, "arrival_rate"),
    ],
)
def test_invalid_input_names_the_argument(kwargs: dict[str, float], name: str) -> None:
    args: dict[str, float] = {"arrival_rate": 0.1, "aht": 100.0, "patience": 60.0, "servers": 10}
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        erlang_a(**args)


rates = st.floats(min_value=1e-3, max_value=20.0)
ahts = st.floats(min_value=10.0, max_value=600.0)
patiences = st.floats(min_value=1.0, max_value=1e4)
agents = st.integers(min_value=0, max_value=3000)


@PROPS
@given(rate=rates, aht=ahts, patience=patiences, n=agents, t=st.floats(0.0, 600.0))
def test_outputs_are_valid(rate: float, aht: float, patience: float, n: int, t: float) -> None:
    r = erlang_a(arrival_rate=rate, aht=aht, patience=patience, servers=n)
    for p in (r.p_wait, r.p_abandon, r.answered_within(t), r.abandoned_within(t)):
        assert 0.0 <= float(p) <= 1.0
    for d in ServiceLevelDefinition:
        assert 0.0 <= float(r.service_level(t, d)) <= 1.0
    assert float(r.p_abandon) <= float(r.p_wait) + 1e-15
    assert 0.0 <= float(r.mean_wait) <= patience * (1 + 1e-12)
    assert float(r.answered_within(t)) + float(r.abandoned_within(t)) <= 1 + 1e-12
    if n > 0:
        assert float(r.mean_wait_served) >= 0.0
        assert 0.0 <= float(r.occupancy) <= 1.0


@PROPS
@given(rate=rates, aht=ahts, patience=patiences, n=agents, dn=st.integers(1, 50))
def test_monotone_in_agents(rate: float, aht: float, patience: float, n: int, dn: int) -> None:
    lo = erlang_a(arrival_rate=rate, aht=aht, patience=patience, servers=n)
    hi = erlang_a(arrival_rate=rate, aht=aht, patience=patience, servers=n + dn)
    tol = 1e-12
    assert float(hi.p_wait) <= float(lo.p_wait) + tol
    assert float(hi.p_abandon) <= float(lo.p_abandon) + tol
    assert float(hi.mean_wait) <= float(lo.mean_wait) * (1 + 1e-10) + tol
    assert float(hi.service_level(20.0)) >= float(lo.service_level(20.0)) - tol


@PROPS
@given(rate=rates, aht=ahts, patience=patiences, n=agents, dr=st.floats(1e-3, 5.0))
def test_monotone_in_load(rate: float, aht: float, patience: float, n: int, dr: float) -> None:
    lo = erlang_a(arrival_rate=rate, aht=aht, patience=patience, servers=n)
    hi = erlang_a(arrival_rate=rate + dr, aht=aht, patience=patience, servers=n)
    tol = 1e-12
    assert float(hi.p_wait) >= float(lo.p_wait) - tol
    assert float(hi.p_abandon) >= float(lo.p_abandon) - tol
    assert float(hi.service_level(20.0)) <= float(lo.service_level(20.0)) + tol


@PROPS
@given(rate=rates, aht=ahts, extra=st.integers(0, 3000))
def test_approaches_erlang_c_as_patience_grows(rate: float, aht: float, extra: int) -> None:
    n = math.floor(rate * aht * 1.02) + 1 + extra  # Erlang C must be stable to be a limit
    assume(n <= 100_000)
    c = erlang_c(arrival_rate=rate, aht=aht, servers=n)
    a = erlang_a(arrival_rate=rate, aht=aht, patience=aht * 1e8, servers=n)
    assert float(a.p_wait) == pytest.approx(float(c.p_wait), rel=1e-5, abs=1e-12)
    assert float(a.mean_wait) == pytest.approx(float(c.asa), rel=1e-5, abs=1e-9)
    assert float(a.service_level(20.0)) == pytest.approx(float(c.service_level(20.0)), abs=1e-6)
