"""Forecasting: recovery of a synthetic history's profile, trend and dispersion; errors; backtest.

Tolerances come from the generator's parameters (sampling standard errors
of the quantity estimated), never from the forecaster's own output.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccsim import example
from ccsim.planning.forecast import (
    ForecastModel,
    HistoryError,
    SyntheticHistory,
    backtest,
    error_metrics,
    fit_forecast,
    read_history,
    synthetic_history,
)
from ccsim.planning.staffing import ServiceLevelTarget, staff_intervals

WEEKS = 12
Truth = tuple[SyntheticHistory, ForecastModel]


@pytest.fixture(scope="module")
def truth() -> Truth:
    sh = synthetic_history(weeks=WEEKS, seed=7)
    return sh, fit_forecast(sh.frame)


def _weekdays(sh: SyntheticHistory) -> np.ndarray:
    first = sh.frame["interval_start"].iloc[0]
    return np.array([(first + pd.Timedelta(days=d)).weekday() for d in range(7 * WEEKS)])


def test_intraday_profile_within_multinomial_error(truth: Truth) -> None:
    sh, m = truth
    exp, dow = sh.expected(), _weekdays(sh)
    for w in range(7):
        p = sh.profile[w]
        calls = exp[dow == w].sum()
        if calls == 0:  # closed weekday: nothing to estimate, the profile must be empty
            assert (m.profile[w] == 0).all()
            continue
        # given a day's total, slot counts are multinomial: sd of a share = sqrt(p(1-p)/N)
        sd = np.sqrt(p * (1 - p) / calls)
        z = np.abs(m.profile[w] - p)[p > 0] / sd[p > 0]
        assert z.max() < 4.5, (w, z.max())
        assert (m.profile[w][p == 0] == 0).all()  # closed hours stay closed


def test_weekday_factors_trend_and_level(truth: Truth) -> None:
    sh, m = truth
    exp, dow = sh.expected(), _weekdays(sh)
    mu_day = exp.sum(axis=1)
    cv = sh.daily_cv
    for w in range(7):
        if sh.weekly[w] == 0:
            assert m.weekly[w] == 0
            continue
        mu = mu_day[dow == w].mean()
        rel = math.sqrt(cv**2 + 1 / mu) / math.sqrt(WEEKS)  # sd of a mean of WEEKS day ratios
        assert abs(m.weekly[w] - sh.weekly[w]) < 4.5 * rel * sh.weekly[w], w
    x = np.arange(7 * WEEKS)[dow != 6]
    level = sh.intercept + sh.slope * x
    sd_level = math.sqrt(cv**2 * level.mean() ** 2 + level.mean())
    se_slope = sd_level / math.sqrt(((x - x.mean()) ** 2).sum())  # least-squares standard error
    assert abs(m.slope - sh.slope) < 5 * se_slope
    assert m.trend_per_week > 0


def test_dispersion_recovers_the_gamma_cv(truth: Truth) -> None:
    sh, m = truth
    exp, dow = sh.expected(), _weekdays(sh)
    mu = exp.sum(axis=1)[dow != 6]
    # sd of a variance estimate from n normal-ish residuals: sqrt(2/n) * variance
    se = math.sqrt(2 / mu.size) * (sh.daily_cv**2 + mu.sum() / (mu**2).sum())
    assert abs(m.daily_cv**2 - sh.daily_cv**2) < 4 * se
    assert m.gamma_shape == pytest.approx(1 / m.daily_cv**2)


def test_poisson_history_gives_little_or_no_dispersion() -> None:
    sh = synthetic_history(weeks=8, seed=3, daily_cv=0.0, trend_per_week=0.0)
    m = fit_forecast(sh.frame)
    mu = sh.expected().sum(axis=1)
    mu = mu[mu > 0]
    se = math.sqrt(2 / mu.size) * (mu.sum() / (mu**2).sum())
    assert m.daily_cv**2 < 4 * se
    # Poisson counts: the interval dispersion index (chi-square / dof) is near 1
    assert 0.9 < m.dispersion_index < 1.15


def test_aht_profile_within_sampling_error(truth: Truth) -> None:
    sh, m = truth
    exp, dow = sh.expected(), _weekdays(sh)
    for w in range(6):
        n = exp[dow == w].sum(axis=0)
        ok = n > 0
        sd = sh.aht_profile[ok] * 1.0 / np.sqrt(n[ok])  # aht_cv = 1: sd of a mean of n calls
        z = np.abs(m.aht_profile[w][ok] - sh.aht_profile[ok]) / sd
        assert z.max() < 4.5, (w, z.max())
    assert (m.aht_profile > 0).all()  # closed slots get a fallback AHT (staffing needs > 0)


def test_error_metrics_by_hand() -> None:
    m = error_metrics([10, 20, 0], [12, 15, 1])
    assert m["wape"] == pytest.approx(8 / 30)
    assert m["mape"] == pytest.approx((0.2 + 0.25) / 2)
    assert m["bias"] == pytest.approx(-2 / 30)


def test_backtest_close_to_the_oracle() -> None:
    sh = synthetic_history(weeks=8, seed=11)
    bt = backtest(sh.frame, weeks=1)
    assert len(bt.per_day) == 7
    actual = sh.frame["offered"].to_numpy()[-7 * 48 :]
    oracle = error_metrics(actual, sh.expected()[-7:].ravel())  # the true means
    assert bt.overall["actual"] == actual.sum()
    assert bt.overall["wape"] < 1.3 * oracle["wape"]  # no worse than noise allows
    assert abs(bt.overall["bias"]) < 0.1


def test_outage_day_is_left_out() -> None:
    sh = synthetic_history(weeks=6, seed=5)
    frame = sh.frame.copy()
    day = frame["interval_start"].dt.normalize() == pd.Timestamp("2026-01-19")  # a Monday
    frame.loc[day, "offered"] = 0
    frame.loc[day, "aht"] = 0
    m = fit_forecast(frame)
    assert m.days_excluded == ("2026-01-19",)
    assert m.weekly[0] > 1.0  # Monday stays the busiest weekday


def test_predict_and_to_arrivals() -> None:
    sh = synthetic_history(weeks=4, seed=2)
    m = fit_forecast(sh.frame)
    fc = m.predict(days=7)
    assert len(fc.frame) == 7 * 48
    assert fc.frame["interval_start"].iloc[0] == pd.Timestamp("2026-02-02")
    monday = fc.frame["offered"].to_numpy()[:48]
    assert monday.sum() == pytest.approx(m.level(pd.Timestamp("2026-02-02")) * m.weekly[0])
    arr = fc.to_arrivals(0)
    assert arr.calls is not None and sum(arr.calls) == pytest.approx(monday.sum(), rel=1e-6)
    assert arr.daily_cv == m.daily_cv and arr.interval == 1800
    sc = fc.to_scenario(example("single_skill"), "general", day=0)
    assert sc.service("general").arrivals == arr
    with pytest.raises(ValueError, match="no service 'nope'"):
        fc.to_scenario(example("single_skill"), "nope")
    # the forecast is a staffing input as it is
    table = staff_intervals(fc.frame, ServiceLevelTarget(0.8, 20))
    assert len(table) == 7 * 48


@pytest.mark.parametrize(
    ("text", "line", "column", "value"),
    [
        ("interval_start,offered,aht\n2026-01-05T00:00,3,200\n2026-01-05T00:30,x,200\n",
         3, "offered", "'x'"),
        ("interval_start,offered,aht\nyesterday,3,200\n", 2, "interval_start", "'yesterday'"),
        ("interval_start,offered,aht\n2026-01-05T00:00,3,-1\n", 2, "aht", "-1"),
        ("interval_start,offered,aht\n2026-01-05T00:00,-2,100\n", 2, "offered", "-2"),
    ],
)  # fmt: skip
def test_bad_history_names_file_row_column_value(
    tmp_path: Path, text: str, line: int, column: str, value: str
) -> None:
    path = tmp_path / "历史.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(HistoryError) as info:
        read_history(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: line {line} ")
    assert f"column {column!r}" in msg and value in msg


def test_short_or_incomplete_history_is_refused(tmp_path: Path) -> None:
    sh = synthetic_history(weeks=1, seed=0)
    with pytest.raises(HistoryError, match="two weeks"):
        fit_forecast(sh.frame)
    path = tmp_path / "h.csv"
    path.write_text("when,offered\n2026-01-05T00:00,3\n", encoding="utf-8")
    with pytest.raises(HistoryError, match="missing column 'interval_start'"):
        read_history(path)


def test_missing_rows_are_empty_intervals_and_missing_days_are_skipped() -> None:
    sh = synthetic_history(weeks=6, seed=5)
    frame = sh.frame[sh.frame["offered"] > 0]  # no rows for empty intervals (nights, Sundays)
    day = frame["interval_start"].dt.normalize() == pd.Timestamp("2026-01-21")  # a Wednesday
    frame = frame[~day]
    m = fit_forecast(frame)
    full = fit_forecast(sh.frame)
    assert "2026-01-21" in m.days_excluded and "2026-01-21" not in full.days_excluded
    # Sundays have no rows at all, so they are not observed; the profile is unchanged elsewhere
    np.testing.assert_allclose(m.profile[:6].sum(axis=1), 1.0)
    assert np.abs(m.profile[1] - full.profile[1]).max() < 0.002
    assert m.weekly[6] == 0.0


def test_utc_offsets_keep_local_time_and_mixed_offsets_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "tz.csv"
    path.write_text(
        "interval_start,offered,aht\n2026-01-05T08:00+08:00,3,200\n2026-01-05T08:30+08:00,4,210\n"
    )
    hist = read_history(path)
    assert hist["interval_start"].tolist() == [
        pd.Timestamp("2026-01-05 08:00"),
        pd.Timestamp("2026-01-05 08:30"),
    ]
    path.write_text(
        "interval_start,offered,aht\n2026-01-05T08:00+08:00,3,200\n2026-01-05T08:30+09:00,4,210\n"
    )
    with pytest.raises(HistoryError, match=r"tz\.csv: column 'interval_start': mixed UTC offsets"):
        read_history(path)
