"""Erlang B: published value, two independent references, extremes, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from planning_reference import mp_erlang_b_gamma, mp_erlang_b_integral, mp_erlang_b_sum
from scipy.optimize import brentq

from ccsim.planning import erlang_b

PROPS = settings(max_examples=60, deadline=None)


def test_published_15_lines_at_1_percent_carry_8_108_erlangs() -> None:
    # Classic Erlang B table value (e.g. Koole, Call Center Optimization, §5; any
    # teletraffic table): 15 trunks at 1% blocking take 8.108 erlangs.
    load = brentq(lambda a: float(erlang_b(load=a, servers=15)) - 0.01, 1.0, 15.0, xtol=1e-12)
    assert load == pytest.approx(8.108, abs=5e-4)


@pytest.mark.parametrize("n", [1, 2, 5, 15, 50, 170, 171, 500, 2000])
@pytest.mark.parametrize("ratio", [0.01, 0.5, 0.9, 1.0, 1.1, 2.0, 10.0])
def test_matches_direct_sum_at_high_precision(n: int, ratio: float) -> None:
    load = ratio * n
    expected = float(mp_erlang_b_sum(n, load))
    assert float(erlang_b(load=load, servers=n)) == pytest.approx(expected, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize(
    ("x", "load"), [(0.5, 2.0), (2.7, 1.3), (14.25, 8.108), (40.5, 39.0), (7.3, 30.0), (99.9, 80.0)]
)
def test_fractional_servers_match_the_integral_extension(x: float, load: float) -> None:
    expected = float(mp_erlang_b_integral(x, load))
    assert float(erlang_b(load=load, servers=x)) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("load", [5e4, 9e4, 9.9e4, 1e5, 1.005e5, 1.05e5, 2e5, 1e7])
def test_n_100000_matches_mpmath_incomplete_gamma(load: float) -> None:
    n = 100_000
    expected = float(mp_erlang_b_gamma(n, load))
    assert float(erlang_b(load=load, servers=n)) == pytest.approx(expected, rel=1e-11, abs=1e-300)


def test_fractional_agrees_with_integer_at_integers() -> None:
    n = np.arange(0, 40)
    b = erlang_b(load=17.5, servers=n)
    b_eps = erlang_b(load=17.5, servers=n + 1e-9)
    assert np.allclose(b, b_eps, rtol=1e-7)


def test_extremes() -> None:
    assert float(erlang_b(load=0.0, servers=0)) == 1.0
    assert float(erlang_b(load=0.0, servers=3)) == 0.0
    assert float(erlang_b(load=5.0, servers=0)) == 1.0
    assert float(erlang_b(load=3.0, servers=1)) == pytest.approx(3.0 / 4.0, rel=1e-15)
    # A >> N: B -> 1 - N/A (carried load -> N)
    big = float(erlang_b(load=1e9, servers=100))
    assert big == pytest.approx(1 - 100 / 1e9, rel=1e-12)
    # far below capacity: underflows cleanly to 0, never NaN
    assert float(erlang_b(load=10.0, servers=100_000)) == 0.0


def test_broadcasts_over_arrays() -> None:
    b = erlang_b(load=np.array([[1.0], [10.0]]), servers=np.array([1, 5, 10]))
    assert b.shape == (2, 3)
    assert float(b[1, 2]) == pytest.approx(float(mp_erlang_b_sum(10, 10.0)), rel=1e-12)
    assert erlang_b(load=2.0, servers=3).shape == ()


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"load": -1.0, "servers": 2}, "load"),
        ({"load": 1.0, "servers": -2}, "servers"),
        ({"load": math.nan, "servers": 2}, "load"),
        ({"load": 1.0, "servers": [1, math.nan]}, "servers"),
        ({"load": math.inf, "servers": 2}, "load"),
        ({"load": "lots", "servers": 2}, "load"),
    ],
)
def test_invalid_input_names_the_argument(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        erlang_b(**kwargs)  # type: ignore[arg-type]


loads = st.floats(min_value=0.0, max_value=5e4, allow_nan=False)
servers = st.floats(min_value=0.0, max_value=5e4, allow_nan=False)


@PROPS
@given(load=loads, n=servers)
def test_probability_in_unit_interval(load: float, n: float) -> None:
    b = float(erlang_b(load=load, servers=n))
    assert 0.0 <= b <= 1.0


@PROPS
@given(load=st.floats(min_value=1e-3, max_value=5e4), n=servers, dn=st.floats(0.01, 50.0))
def test_decreasing_in_servers(load: float, n: float, dn: float) -> None:
    # monotone up to rounding (a few ulps)
    assert (
        float(erlang_b(load=load, servers=n + dn)) <= float(erlang_b(load=load, servers=n)) + 1e-15
    )


@PROPS
@given(load=loads, n=servers, da=st.floats(0.01, 500.0))
def test_increasing_in_load(load: float, n: float, da: float) -> None:
    assert (
        float(erlang_b(load=load + da, servers=n)) >= float(erlang_b(load=load, servers=n)) - 1e-15
    )
