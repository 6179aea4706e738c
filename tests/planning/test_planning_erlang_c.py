"""Erlang C: published values, high-precision sums, instability, extremes, properties."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from planning_reference import mp_erlang_b_gamma, mp_erlang_c_sum

from ccsim.planning import ServiceLevelDefinition, erlang_c, rate_per_second

PROPS = settings(max_examples=60, deadline=None)


def test_published_100_calls_per_half_hour_14_agents() -> None:
    # 100 calls / 30 min, AHT 3 min, 14 agents: P(wait) 0.174, SL(20 s) 0.888,
    # occupancy 0.714 (the worked example in e.g. Koole, Call Center Optimization).
    r = erlang_c(arrival_rate=rate_per_second(calls=100, interval=1800), aht=180.0, servers=14)
    assert float(r.p_wait) == pytest.approx(0.174, abs=5e-4)
    assert float(r.service_level(20.0)) == pytest.approx(0.888, abs=5e-4)
    assert float(r.occupancy) == pytest.approx(0.714, abs=5e-4)


def test_published_0_2_calls_per_second_55_agents() -> None:
    r = erlang_c(arrival_rate=0.2, aht=240.0, servers=55)
    assert float(r.p_wait) == pytest.approx(0.2387, abs=5e-5)
    assert float(r.asa) == pytest.approx(8.184, abs=5e-4)
    assert float(r.service_level(15.0)) == pytest.approx(0.8459, abs=5e-5)


@pytest.mark.parametrize(
    ("n", "rate", "aht"),
    [(1, 0.001, 100.0), (2, 0.01, 100.0), (14, 100 / 1800, 180.0), (55, 0.2, 240.0),
     (200, 0.8, 240.0), (1000, 4.1, 240.0), (2000, 8.3, 240.0)],
)  # fmt: skip
def test_matches_direct_sum_at_high_precision(n: int, rate: float, aht: float) -> None:
    ref = mp_erlang_c_sum(n, rate, aht)
    r = erlang_c(arrival_rate=rate, aht=aht, servers=n)
    assert float(r.p_wait) == pytest.approx(float(ref["p_wait"]), rel=1e-12)
    assert float(r.asa) == pytest.approx(float(ref["asa"]), rel=1e-11)
    for t in (0.0, 5.0, 20.0, 120.0):
        expected = 1 - ref["p_wait"] * mp.exp(-ref["drain"] * t)
        assert float(r.service_level(t)) == pytest.approx(float(expected), rel=1e-12)
    load = rate * aht
    lq = ref["p_wait"] * load / (n - load)
    assert float(r.mean_queue_length) == pytest.approx(float(lq), rel=1e-11)


@pytest.mark.parametrize("load", [9.9e4, 9.99e4, 99_999.0])
def test_n_100000_near_critical_matches_mpmath(load: float) -> None:
    n = 100_000
    b = mp_erlang_b_gamma(n, load)
    rho = mp.mpf(load) / n
    expected = b / (1 - rho * (1 - b))
    r = erlang_c(arrival_rate=load / 240.0, aht=240.0, servers=n)
    assert float(r.p_wait) == pytest.approx(float(expected), rel=1e-10)
    assert bool(r.stable)


@pytest.mark.parametrize(("n", "load"), [(10, 10.0), (10, 10.5), (47.5, 48.0), (1, 1e6), (0, 3.0)])
def test_overload_is_reported_as_unstable_never_as_nonsense(n: float, load: float) -> None:
    r = erlang_c(arrival_rate=load / 100.0, aht=100.0, servers=n)
    assert not bool(r.stable)
    assert float(r.p_wait) == 1.0
    assert math.isinf(float(r.asa)) and float(r.asa) > 0
    assert math.isinf(float(r.mean_queue_length))
    assert float(r.service_level(20.0)) == 0.0


def test_no_traffic_is_stable_and_idle() -> None:
    r = erlang_c(arrival_rate=0.0, aht=200.0, servers=[0, 1, 10])
    assert r.stable.all()
    assert (r.p_wait == 0).all() and (r.asa == 0).all()
    assert np.isnan(r.occupancy[0]) and (r.occupancy[1:] == 0).all()
    assert (r.service_level(0.0) == 1).all()


def test_single_agent_is_mm1() -> None:
    # M/M/1: P(wait) = rho, ASA = rho/(mu - lambda)
    r = erlang_c(arrival_rate=0.004, aht=200.0, servers=1)
    assert float(r.p_wait) == pytest.approx(0.8, rel=1e-14)
    assert float(r.asa) == pytest.approx(0.8 / (1 / 200.0 - 0.004), rel=1e-12)


def test_fractional_servers_interpolate_between_integers() -> None:
    n = np.array([55.0, 55.25, 55.5, 55.75, 56.0])
    r = erlang_c(arrival_rate=0.2, aht=240.0, servers=n)
    assert (np.diff(r.p_wait) < 0).all()
    assert (np.diff(r.service_level(20.0)) > 0).all()


def test_all_service_level_definitions_coincide_without_abandonment() -> None:
    r = erlang_c(arrival_rate=0.2, aht=240.0, servers=52)
    values = {float(r.service_level(20.0, d)) for d in ServiceLevelDefinition}
    assert len(values) == 1


def test_broadcasting_and_shapes() -> None:
    r = erlang_c(arrival_rate=np.array([[0.1], [0.2]]), aht=240.0, servers=np.arange(50, 60))
    assert r.p_wait.shape == (2, 10)
    assert r.service_level(np.array([10.0, 20.0])[:, None]).shape == (2, 10)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"arrival_rate": -0.1, "aht": 100.0, "servers": 2}, "arrival_rate"),
        ({"arrival_rate": 0.1, "aht": 0.0, "servers": 2}, "aht"),
        ({"arrival_rate": 0.1, "aht": math.nan, "servers": 2}, "aht"),
        ({"arrival_rate": 0.1, "aht": 100.0, "servers": -1}, "servers"),
    ],
)
def test_invalid_input_names_the_argument(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        erlang_c(**kwargs)


def test_invalid_threshold_and_definition() -> None:
    r = erlang_c(arrival_rate=0.1, aht=100.0, servers=12)
    with pytest.raises(ValueError, match="within"):
        r.service_level(-1.0)
    with pytest.raises(ValueError):
        r.service_level(20.0, "answered-ish")


rates = st.floats(min_value=0.0, max_value=50.0, allow_nan=False)
ahts = st.floats(min_value=1.0, max_value=1000.0)
agents = st.floats(min_value=0.0, max_value=20_000.0)


@PROPS
@given(rate=rates, aht=ahts, n=agents, t=st.floats(0.0, 600.0))
def test_outputs_are_valid_probabilities_and_waits(
    rate: float, aht: float, n: float, t: float
) -> None:
    r = erlang_c(arrival_rate=rate, aht=aht, servers=n)
    assert 0.0 <= float(r.p_wait) <= 1.0
    assert 0.0 <= float(r.service_level(t)) <= 1.0
    assert float(r.asa) >= 0.0 and float(r.mean_queue_length) >= 0.0
    assert bool(r.stable) == (n > rate * aht or rate == 0)


@PROPS
@given(rate=st.floats(1e-3, 50.0), aht=ahts, n=agents, dn=st.floats(0.01, 100.0))
def test_monotone_in_agents(rate: float, aht: float, n: float, dn: float) -> None:
    lo = erlang_c(arrival_rate=rate, aht=aht, servers=n)
    hi = erlang_c(arrival_rate=rate, aht=aht, servers=n + dn)
    assert float(hi.p_wait) <= float(lo.p_wait)
    assert float(hi.asa) <= float(lo.asa)
    assert float(hi.service_level(20.0)) >= float(lo.service_level(20.0))


@PROPS
@given(rate=rates, aht=ahts, n=agents, dr=st.floats(1e-4, 5.0))
def test_monotone_in_load(rate: float, aht: float, n: float, dr: float) -> None:
    lo = erlang_c(arrival_rate=rate, aht=aht, servers=n)
    hi = erlang_c(arrival_rate=rate + dr, aht=aht, servers=n)
    assert float(hi.p_wait) >= float(lo.p_wait)
    assert float(hi.asa) >= float(lo.asa)
    assert float(hi.service_level(20.0)) <= float(lo.service_level(20.0))
