"""EWT estimators against hand-computed values."""

from __future__ import annotations

import math

import pytest
from scipy.special import gammaincinv

from ccsim.routing import PositionEwt, QuantileEwt
from ccsim.testing import FakeQueue


def q(staffed, available=0, aht=200.0):
    return FakeQueue(name="q", staffed=staffed, available=available, mean_handle_time=aht)


@pytest.mark.parametrize(
    ("queue", "position", "expected"),
    [
        (q(0), 0, math.inf),  # nobody staffed: never answered
        (q(0, aht=0.0), 5, math.inf),
        (q(10), 0, 200.0 / 10),  # one agent must free up: AHT / N
        (q(10), 3, 4 * 200.0 / 10),  # four must free up: 80 s
        (q(10, available=2), 0, 0.0),  # a READY agent takes it now
        (q(10, available=2), 1, 0.0),
        (q(10, available=2), 2, 200.0 / 10),  # both READY agents taken by the calls ahead
        (q(3, aht=0.0), 0, 180.0 / 3),  # no handle time yet: fallback 180 s
    ],
)
def test_position_ewt(queue, position, expected):
    assert PositionEwt().estimate(queue, position) == pytest.approx(expected)


def test_position_ewt_fallback_parameter():
    assert PositionEwt(fallback_handle_time=60.0).estimate(q(2, aht=0.0), 1) == 60.0


def test_quantile_ewt_exact_for_one_departure():
    # exponential with mean 20 s: 90th percentile 20 * ln 10
    assert QuantileEwt().estimate(q(10), 0) == pytest.approx(20.0 * math.log(10.0))
    assert QuantileEwt(quantile=0.5).estimate(q(10), 0) == pytest.approx(20.0 * math.log(2.0))
    assert QuantileEwt().estimate(q(0), 0) == math.inf
    assert QuantileEwt().estimate(q(4, available=1), 0) == 0.0


@pytest.mark.parametrize("quantile", [0.5, 0.8, 0.9, 0.95, 0.99])
@pytest.mark.parametrize("position", [1, 2, 5, 20, 200])
def test_quantile_ewt_close_to_exact_erlang_quantile(quantile, position):
    exact = gammaincinv(position + 1, quantile) * 200.0 / 10
    assert QuantileEwt(quantile=quantile).estimate(q(10), position) == pytest.approx(
        exact, rel=0.005
    )


def test_quantile_ewt_rejects_bad_quantile():
    with pytest.raises(ValueError, match="quantile"):
        QuantileEwt(quantile=1.0).estimate(q(10), 3)
    with pytest.raises(ValueError, match="quantile"):
        QuantileEwt(quantile=0.0).estimate(q(10), 0)
