"""Distributions, arrival profiles and clock times: the numbers the simulation draws from.

Sampled means are compared with the analytic mean within 4 standard errors
(fixed seed, 100,000 draws), per DESIGN.md §5: no hand-picked tolerances.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter

from ccsim.scenario import (
    Arrivals,
    Deterministic,
    Distribution,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
    NoPatience,
    Patience,
    Service,
    Uniform,
    parse_clock,
)

N = 100_000

DISTRIBUTIONS = [
    pytest.param(Exponential(mean=180), id="exponential"),
    pytest.param(Lognormal(mean=240, sd=150), id="lognormal"),
    pytest.param(Gamma(mean=200, cv=0.5), id="gamma-cv"),
    pytest.param(Gamma(mean=200, shape=0.7), id="gamma-shape"),
    pytest.param(Uniform(low=40, high=90), id="uniform"),
    pytest.param(Empirical(values=(30, 60, 600)), id="empirical"),
    pytest.param(Empirical(values=(30, 60, 600), weights=(5, 4, 1)), id="empirical-weighted"),
]


@pytest.mark.parametrize("dist", DISTRIBUTIONS)
def test_sample_mean_matches_declared_mean(dist: Distribution) -> None:
    x = dist.sample(np.random.default_rng(20240601), size=N)
    assert x.shape == (N,)
    assert x.dtype == np.float64
    assert (x >= 0).all()
    standard_error = dist.std / math.sqrt(N)
    assert abs(float(x.mean()) - dist.mean) < 4 * standard_error


@pytest.mark.parametrize("dist", DISTRIBUTIONS)
def test_sample_std_matches_declared_std(dist: Distribution) -> None:
    # The standard error of a sample variance is sqrt((m4 - s^4) / n); m4 is estimated.
    x = dist.sample(np.random.default_rng(7), size=N)
    m4 = float(((x - x.mean()) ** 4).mean())
    se_var = math.sqrt((m4 - float(x.var()) ** 2) / N)
    assert abs(float(x.var()) - dist.std**2) < 4 * se_var


def test_lognormal_is_given_by_the_mean_and_sd_of_the_durations() -> None:
    d = Lognormal(mean=240, sd=150)
    mu, sigma = d.log_params
    assert math.exp(mu + sigma**2 / 2) == pytest.approx(240)
    assert math.sqrt((math.exp(sigma**2) - 1) * math.exp(2 * mu + sigma**2)) == pytest.approx(150)
    logs = np.log(d.sample(np.random.default_rng(3), size=N))
    assert abs(float(logs.mean()) - mu) < 4 * sigma / math.sqrt(N)


def test_gamma_by_cv_equals_gamma_by_shape() -> None:
    assert Gamma(mean=100, cv=0.5).k == Gamma(mean=100, shape=4).k == pytest.approx(4)
    assert Gamma(mean=100, cv=0.5).std == pytest.approx(50)


@pytest.mark.parametrize("dist", DISTRIBUTIONS)
def test_scalar_draw_is_a_float_and_reproducible(dist: Distribution) -> None:
    a = dist.sample(np.random.default_rng(11))
    b = dist.sample(np.random.default_rng(11))
    assert type(a) is float
    assert a == b


def test_sizes_and_shapes() -> None:
    rng = np.random.default_rng(0)
    assert Exponential(mean=1).sample(rng, size=(2, 3)).shape == (2, 3)
    assert Deterministic(value=5).sample(rng, size=4).tolist() == [5.0] * 4
    assert Deterministic(value=5).sample(rng) == 5.0
    assert Deterministic(value=5).mean == 5.0


def test_no_patience_never_abandons() -> None:
    p = NoPatience()
    assert p.mean == math.inf
    assert p.sample(np.random.default_rng(0)) == math.inf
    assert np.isinf(p.sample(np.random.default_rng(0), size=3)).all()


def test_shorthands() -> None:
    dist: TypeAdapter[Distribution] = TypeAdapter(Distribution)
    patience: TypeAdapter[Patience] = TypeAdapter(Patience)
    assert dist.validate_python(15) == Deterministic(value=15)
    assert patience.validate_python("none") == NoPatience()
    assert patience.validate_python("infinite") == NoPatience()
    assert patience.validate_python({"kind": "infinite"}).mean == math.inf
    assert patience.validate_python({"kind": "exponential", "mean": 60}) == Exponential(mean=60)


def test_distributions_are_frozen() -> None:
    d = Exponential(mean=3)
    with pytest.raises(ValueError, match="frozen"):
        d.mean = 4  # type: ignore[misc]


# ----------------------------------------------------------------------------- arrivals


def test_constant_rate() -> None:
    a = Arrivals(rate_per_hour=360)
    assert a.rate_at(0) == a.rate_at(50_000) == pytest.approx(0.1)
    assert a.daily_volume == 360 * 24


def test_interval_profile_repeats_daily_and_is_zero_outside() -> None:
    a = Arrivals(start=parse_clock("08:00"), interval=1800, calls=(90, 180))
    assert a.rate_at(7.9 * 3600) == 0.0
    assert a.rate_at(8 * 3600) == pytest.approx(0.05)
    assert a.rate_at(8.5 * 3600) == pytest.approx(0.1)
    assert a.rate_at(9 * 3600) == 0.0
    assert a.rate_at(86_400 + 8.5 * 3600) == pytest.approx(0.1)
    assert a.daily_volume == 270


def test_daily_factor_has_mean_one_and_the_given_cv() -> None:
    rng = np.random.default_rng(5)
    assert Arrivals(rate_per_hour=1).daily_factor(rng) == 1.0
    a = Arrivals(rate_per_hour=1, daily_cv=0.1)
    f = np.array([a.daily_factor(rng) for _ in range(20_000)])
    assert abs(float(f.mean()) - 1.0) < 4 * 0.1 / math.sqrt(len(f))


def test_sample_attributes_follow_their_probabilities() -> None:
    svc = Service.model_validate(
        {
            "name": "s",
            "aht": 60,
            "attributes": {"tier": {"gold": 0.2, "standard": 0.8}, "language": "zh"},
        }
    )
    rng = np.random.default_rng(9)
    draws = [svc.sample_attributes(rng) for _ in range(20_000)]
    assert all(d["language"] == "zh" for d in draws)
    gold = sum(d["tier"] == "gold" for d in draws) / len(draws)
    assert abs(gold - 0.2) < 4 * math.sqrt(0.2 * 0.8 / len(draws))


# ----------------------------------------------------------------------------- clock times


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("00:00", 0.0),
        ("08:30", 30_600.0),
        ("8:30", 30_600.0),
        ("23:59:30", 86_370.0),
        ("24:00", 86_400.0),
        ("30:00", 108_000.0),
        (3600, 3600.0),
        (90.5, 90.5),
    ],
)
def test_parse_clock(text: str | float, seconds: float) -> None:
    assert parse_clock(text) == seconds


@pytest.mark.parametrize("text", ["48:00", "08:60", "8h30", "", "08:00:75", True])
def test_parse_clock_rejects(text: object) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        parse_clock(text)
