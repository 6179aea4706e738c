"""Forecasting calls and handle times per interval from a few weeks of history.

The model is multiplicative, fitted on whole days:

    calls(day d, slot s) = level(d) x weekly[dow(d)] x profile[dow(d), s]

* ``level(d) = a + b d`` is a robust linear trend (Theil–Sen slope: the
  median of pairwise slopes, insensitive to a few odd days) on the daily
  totals divided by their day-of-week factor;
* ``weekly`` are day-of-week factors averaging 1 over the week (a closed day
  has 0);
* ``profile[dow, s]`` is the share of that weekday's calls falling in slot
  ``s`` (pooled over all weeks, so it sums to 1; a slot that never has calls
  stays 0, e.g. when the center is closed).

The three are fitted alternately a few times (weekly factors from the
detrended totals, trend from the de-seasonalised totals). Days with no calls
at all on a weekday that normally has calls (an outage, a holiday), and days
missing from the file, are left out of the fit rather than dragging the
factors down; an interval missing within a day counts as 0 calls (many
systems write no row for an empty interval). AHT is forecast as the
call-weighted mean per (weekday, slot), falling back to the weekday's and
then the overall mean where a slot had no calls.

**Dispersion.** Call counts vary more than Poisson: a day's volume itself is
uncertain. ccsim's Poisson–gamma arrivals (``Arrivals.daily_cv``) multiply
each day's expected volume by a gamma factor G with mean 1 and coefficient of
variation c, so a day's total N has ``Var N = μ + c² μ²``. The estimator uses
the in-sample residuals of the daily totals (fitted values μ_d)::

    c² = max(0, (n / (n − k) Σ (N_d − μ_d)² − Σ μ_d) / Σ μ_d²)

over the open days, with k fitted parameters of the daily model (2 for the
trend + the free weekday factors: 8 for a center open every day): the
variance beyond Poisson, scaled to a squared coefficient of variation.
The gamma shape is ``1 / c²`` (infinite when the counts are no more
variable than Poisson).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from ccsim.planning.staffing import ForecastError
from ccsim.scenario import DAY, Arrivals, Scenario

__all__ = [
    "Backtest",
    "Forecast",
    "ForecastModel",
    "HistoryError",
    "SyntheticHistory",
    "backtest",
    "error_metrics",
    "fit_forecast",
    "read_history",
    "synthetic_history",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]
Progress: TypeAlias = Callable[[Iterable[Any]], Iterable[Any]]


class HistoryError(ForecastError):
    """Bad history data, naming the file (``source``), data ``row`` (0-based) and ``column``."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(message, row=row, column=column)
        self.source = source
        if source is not None:
            where = [source]
            if row is not None:
                where.append(f"line {row + 2} (data row {row + 1})")
            if column is not None:
                where.append(f"column {column!r}")
            self.args = (f"{': '.join(where)}: {message}",)


# --------------------------------------------------------------------------- history input


def _clean_history(df: pd.DataFrame, source: str | None) -> pd.DataFrame:
    """Validate and normalise a history frame: ``interval_start``, ``offered``, ``aht``."""
    cols = {str(c).strip().lower(): c for c in df.columns}
    aliases = {"start": "interval_start", "time": "interval_start", "calls": "offered"}
    renamed: dict[object, str] = {}
    for key, col in cols.items():
        name = aliases.get(key, key)
        if name in ("interval_start", "offered", "aht") and name not in renamed.values():
            renamed[col] = name
    df = df.rename(columns=renamed)
    for name in ("interval_start", "offered"):
        if name not in df.columns:
            raise HistoryError(f"missing column {name!r} (have {list(df.columns)})", source=source)
    if df.empty:
        raise HistoryError("no data rows", source=source)
    try:
        stamps = pd.to_datetime(
            df["interval_start"].astype(str).str.strip(), format="ISO8601", errors="coerce"
        )
    except ValueError:  # pandas refuses mixed UTC offsets
        msg = "mixed UTC offsets (a daylight-saving change?); give local times without offsets"
        raise HistoryError(msg, source=source, column="interval_start") from None
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_localize(None)  # local wall-clock time: the profile follows it
    bad = np.flatnonzero(stamps.isna().to_numpy())
    if bad.size:
        i = int(bad[0])
        raise HistoryError(
            f"not an ISO date-time: {df['interval_start'].iloc[i]!r}",
            source=source, row=i, column="interval_start",
        )  # fmt: skip
    offered = pd.to_numeric(df["offered"], errors="coerce").to_numpy(dtype=np.float64)
    for i, v in enumerate(offered):
        if not (math.isfinite(v) and v >= 0):
            raise HistoryError(
                f"must be a number >= 0, got {df['offered'].iloc[i]!r}",
                source=source, row=i, column="offered",
            )  # fmt: skip
    if "aht" in df.columns:
        aht = pd.to_numeric(df["aht"], errors="coerce").to_numpy(dtype=np.float64)
        for i, v in enumerate(aht):
            empty_ok = offered[i] == 0 and (not math.isfinite(v) or v >= 0)
            if not empty_ok and not (math.isfinite(v) and v > 0):
                raise HistoryError(
                    f"must be a number > 0 where calls were offered, got {df['aht'].iloc[i]!r}",
                    source=source, row=i, column="aht",
                )  # fmt: skip
    else:
        aht = np.full(offered.shape, np.nan)
    out = pd.DataFrame({"interval_start": stamps.to_numpy(), "offered": offered, "aht": aht})
    dup = out["interval_start"].duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise HistoryError(
            f"duplicate interval {df['interval_start'].iloc[i]!r}",
            source=source, row=i, column="interval_start",
        )  # fmt: skip
    return out.sort_values("interval_start", kind="stable").reset_index(drop=True)


def read_history(path: str | Path) -> pd.DataFrame:
    """Read a history CSV (``interval_start``, ``offered``, ``aht``); errors name the file."""
    source = str(path)
    try:
        df = pd.read_csv(path, skipinitialspace=True)
    except FileNotFoundError:
        raise HistoryError("no such file", source=source) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise HistoryError(f"not a readable CSV file ({exc})", source=source) from None
    return _clean_history(df, source)


def _infer_interval(stamps: pd.Series) -> float:
    ns = stamps.to_numpy().astype("datetime64[ns]").astype(np.int64)
    diffs = np.diff(ns) / 1e9
    diffs = diffs[diffs > 0]
    if diffs.size == 0:
        raise HistoryError("cannot tell the interval length from one interval")
    iv = float(diffs.min())
    if abs(DAY / iv - round(DAY / iv)) > 1e-9:
        raise HistoryError(f"the interval ({iv:g} s) must divide a day evenly")
    return iv


def _to_grid(
    hist: pd.DataFrame, interval: float
) -> tuple[pd.DatetimeIndex, FloatArray, FloatArray]:
    """Days (dates), calls and AHT as (days x slots) arrays; missing intervals are NaN."""
    slots = round(DAY / interval)
    t = hist["interval_start"]
    dates = t.dt.normalize()
    first, last = dates.min(), dates.max()
    days = pd.date_range(first, last, freq="D")
    d_idx = ((dates - first).dt.days).to_numpy()
    sec = (t - dates).dt.total_seconds().to_numpy()
    s_pos = sec / interval
    if (np.abs(s_pos - np.round(s_pos)) > 1e-6).any():
        i = int(np.flatnonzero(np.abs(s_pos - np.round(s_pos)) > 1e-6)[0])
        raise HistoryError(
            f"not on the {interval:g}-s interval grid", row=i, column="interval_start"
        )
    s_idx = np.round(s_pos).astype(np.int64)
    calls = np.full((len(days), slots), np.nan)
    aht = np.full((len(days), slots), np.nan)
    calls[d_idx, s_idx] = hist["offered"].to_numpy()
    aht[d_idx, s_idx] = hist["aht"].to_numpy()
    return days, calls, aht


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class ForecastModel:
    """A fitted forecast model (see the module docstring for the form).

    ``weekly[dow]`` (Monday = 0) average 1 over the week; ``profile[dow]``
    sums to 1 over the day's slots (all zero for a closed weekday);
    ``level(d) = intercept + slope * d`` with ``d`` days after ``origin``.
    """

    interval: float
    origin: pd.Timestamp
    end: pd.Timestamp  # first day after the history
    intercept: float
    slope: float
    weekly: FloatArray
    profile: FloatArray
    aht_profile: FloatArray
    daily_cv: float
    dispersion_index: float
    days_used: int
    days_excluded: tuple[str, ...]

    @property
    def slots(self) -> int:
        return round(DAY / self.interval)

    @property
    def gamma_shape(self) -> float:
        """Shape k of the daily gamma factor (``1 / cv²``; infinite for Poisson counts)."""
        return math.inf if self.daily_cv == 0 else 1.0 / self.daily_cv**2

    @property
    def trend_per_week(self) -> float:
        """Change of the daily level per week, relative to the level at the end of the history."""
        at_end = self.level(self.end)
        return 7 * self.slope / at_end if at_end > 0 else math.nan

    def level(self, day: pd.Timestamp) -> float:
        d = (pd.Timestamp(day).normalize() - self.origin).days
        return max(0.0, self.intercept + self.slope * d)

    def daily(self, day: pd.Timestamp) -> float:
        """Expected calls on ``day``."""
        return self.level(day) * float(self.weekly[pd.Timestamp(day).weekday()])

    def predict(self, days: int = 7, start: str | pd.Timestamp | None = None) -> Forecast:
        """Forecast ``days`` whole days from ``start`` (default: the day after the history)."""
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise ValueError(f"days must be an int >= 1, got {days!r}")
        first = self.end if start is None else pd.Timestamp(start).normalize()
        dates = pd.date_range(first, periods=days, freq="D")
        calls = np.stack([self.daily(d) * self.profile[d.weekday()] for d in dates])
        aht = np.stack([self.aht_profile[d.weekday()] for d in dates])
        starts = pd.DatetimeIndex(
            [d + pd.Timedelta(seconds=s * self.interval) for d in dates for s in range(self.slots)]
        )
        frame = pd.DataFrame(
            {"interval_start": starts, "offered": calls.ravel(), "aht": aht.ravel()}
        )
        return Forecast(frame=frame, model=self)


def _theil_sen(x: FloatArray, y: FloatArray) -> tuple[float, float]:
    if x.size < 2:
        return float(y.mean()) if y.size else 0.0, 0.0
    slope, intercept, _, _ = stats.theilslopes(y, x)
    return float(intercept), float(slope)


def fit_forecast(
    history: pd.DataFrame, *, interval: float | None = None, iterations: int = 4
) -> ForecastModel:
    """Fit the day-of-week x intra-day x trend model to a history frame (see module doc).

    ``history`` has ``interval_start`` (datetimes or ISO text), ``offered``
    and optionally ``aht`` (without it the forecast AHT is NaN); at least
    two weeks are needed to separate trend from weekday.
    """
    hist = _clean_history(history, None) if not _is_clean(history) else history
    iv = _infer_interval(hist["interval_start"]) if interval is None else float(interval)
    days, calls, aht = _to_grid(hist, iv)
    if len(days) < 14:
        raise HistoryError(f"need at least two weeks of history, got {len(days)} days")
    dow = np.array([d.weekday() for d in days])
    # many systems write no row for an interval without calls: within a day that has
    # rows, a missing interval is 0 calls; a day without any row was not observed
    observed = np.asarray(~np.isnan(calls).all(axis=1), dtype=np.bool_)
    calls = np.where(observed[:, None] & np.isnan(calls), 0.0, calls)
    present = ~np.isnan(calls)
    totals = np.where(observed, np.nansum(calls, axis=1), np.nan)
    # a weekday that normally has calls but shows none: an outage, not a closed day
    median_by_dow = np.array(
        [
            np.nanmedian(totals[dow == w]) if np.isfinite(totals[dow == w]).any() else 0.0
            for w in range(7)
        ]
    )
    use = np.isfinite(totals) & ~((totals == 0) & (median_by_dow[dow] > 0))
    excluded = tuple(str(days[int(i)].date()) for i in np.flatnonzero(~use))
    if use.sum() < 14:
        raise HistoryError(f"need at least two weeks of observed days, got {int(use.sum())}")
    x = np.arange(len(days), dtype=np.float64)
    weekly = np.ones(7)
    intercept, slope = _theil_sen(x[use], totals[use])
    for _ in range(iterations):
        level = np.maximum(intercept + slope * x, 1e-9)
        ratio = totals / level
        weekly = np.array(
            [
                np.mean(ratio[use & (dow == w)]) if (use & (dow == w)).any() else 0.0
                for w in range(7)
            ]
        )
        if weekly.sum() <= 0:
            raise HistoryError("the history has no calls")
        weekly = weekly * 7.0 / weekly.sum()
        open_ = use & (weekly[dow] > 0)
        intercept, slope = _theil_sen(x[open_], totals[open_] / weekly[dow[open_]])
    slots = calls.shape[1]
    profile = np.zeros((7, slots))
    aht_prof = np.zeros((7, slots))
    w_all = np.where(present & use[:, None], np.nan_to_num(calls), 0.0)
    h_all = np.where(present & use[:, None] & np.isfinite(aht), aht, 0.0)
    overall_aht = (
        float((w_all * h_all).sum() / w_all.sum()) if (w_all * (h_all > 0)).sum() > 0 else math.nan
    )
    for w in range(7):
        sel = use & (dow == w)
        c = w_all[sel].sum(axis=0)
        if c.sum() > 0:
            profile[w] = c / c.sum()
        wh = (w_all[sel] * (h_all[sel] > 0)).sum(axis=0)
        num = (w_all[sel] * h_all[sel]).sum(axis=0)
        day_aht = float(num.sum() / wh.sum()) if wh.sum() > 0 else overall_aht
        aht_prof[w] = np.where(wh > 0, num / np.where(wh > 0, wh, 1.0), day_aht)
    fitted = np.maximum(intercept + slope * x, 0.0) * weekly[dow]
    fit_days = use & (fitted > 0)  # closed days carry no information on dispersion
    r = totals[fit_days] - fitted[fit_days]
    n = int(fit_days.sum())
    mu = fitted[fit_days]
    k = 2 + int((weekly > 0).sum()) - 1  # trend + free weekday factors (8 when open daily)
    excess = (n / max(n - k, 1)) * float((r * r).sum()) - float(mu.sum())
    cv2 = max(0.0, excess / float((mu * mu).sum())) if (mu * mu).sum() > 0 else 0.0
    exp_i = fitted[:, None] * profile[dow]
    ok = use[:, None] & present & (exp_i > 0)
    chi = float((((np.nan_to_num(calls) - exp_i) ** 2) / np.where(ok, exp_i, 1.0))[ok].sum())
    dof = max(int(ok.sum()) - k - int((profile > 0).sum()), 1)
    return ForecastModel(
        interval=iv,
        origin=days[0],
        end=days[-1] + pd.Timedelta(days=1),
        intercept=intercept,
        slope=slope,
        weekly=weekly,
        profile=profile,
        aht_profile=aht_prof,  # NaN throughout when the history has no AHT
        daily_cv=math.sqrt(cv2),
        dispersion_index=chi / dof,
        days_used=int(use.sum()),
        days_excluded=excluded,
    )


def _is_clean(df: pd.DataFrame) -> bool:
    return list(df.columns) == [
        "interval_start",
        "offered",
        "aht",
    ] and pd.api.types.is_datetime64_any_dtype(df["interval_start"])


# --------------------------------------------------------------------------- forecast output


@dataclass(frozen=True)
class Forecast:
    """Forecast intervals (``interval_start``, ``offered``, ``aht``) and the model behind them.

    ``frame`` is what ``ccsim staff`` reads (``to_csv``); ``to_arrivals``
    turns one day into a scenario's arrival profile with the model's
    over-dispersion as ``daily_cv``.
    """

    frame: pd.DataFrame
    model: ForecastModel

    def daily(self) -> pd.DataFrame:
        """Calls and call-weighted AHT per day."""
        f = self.frame.assign(date=self.frame["interval_start"].dt.normalize())
        f = f.assign(work=f["offered"] * f["aht"])
        g = f.groupby("date").agg(offered=("offered", "sum"), work=("work", "sum"))
        g["aht"] = g["work"] / g["offered"].where(g["offered"] > 0)
        g.insert(0, "weekday", [d.strftime("%a") for d in g.index])
        return g.drop(columns="work")

    def to_csv(self, path: str | Path) -> None:
        """Write ``interval_start`` (ISO), ``offered`` and ``aht``: input for ``ccsim staff``."""
        out = self.frame.copy()
        out["interval_start"] = out["interval_start"].dt.strftime("%Y-%m-%dT%H:%M:%S")
        out["offered"] = out["offered"].round(3)
        out["aht"] = out["aht"].round(2)
        out.to_csv(path, index=False)

    def to_arrivals(self, day: int | str | pd.Timestamp = 0) -> Arrivals:
        """One forecast day (index or date) as ``Arrivals``: calls per interval and ``daily_cv``."""
        dates = self.frame["interval_start"].dt.normalize()
        first = dates.iloc[0]
        when = (
            first + pd.Timedelta(days=day)
            if isinstance(day, int)
            else pd.Timestamp(day).normalize()
        )
        sel = (dates == when).to_numpy()
        if not sel.any():
            raise ValueError(
                f"day {day!r} is not in the forecast ({first.date()} to {dates.iloc[-1].date()})"
            )
        calls = tuple(float(v) for v in self.frame.loc[sel, "offered"].round(6))
        return Arrivals(
            calls=calls, interval=self.model.interval, start=0.0, daily_cv=self.model.daily_cv
        )

    def to_scenario(
        self, scenario: Scenario, service: str, day: int | str | pd.Timestamp = 0
    ) -> Scenario:
        """A copy of ``scenario`` whose ``service`` arrives as forecast on ``day``."""
        try:
            svc = scenario.service(service)
        except KeyError:
            names = ", ".join(s.name for s in scenario.services)
            raise ValueError(f"no service {service!r} (have {names})") from None
        new = svc.model_copy(update={"arrivals": self.to_arrivals(day)})
        services = tuple(new if s.name == service else s for s in scenario.services)
        return scenario.model_copy(update={"services": services})


# --------------------------------------------------------------------------- backtest


@dataclass(frozen=True)
class Backtest:
    """Hold-out errors: ``per_day`` (WAPE, MAPE, bias by day) and ``overall``.

    WAPE = Σ|F − A| / Σ A over the day's intervals; MAPE = mean |F − A| / A
    over intervals with calls; bias = Σ(F − A) / Σ A (positive: over-forecast).
    """

    per_day: pd.DataFrame
    overall: dict[str, float]
    forecast: Forecast


def error_metrics(actual: npt.ArrayLike, forecast: npt.ArrayLike) -> dict[str, float]:
    """WAPE, MAPE and bias of ``forecast`` against ``actual`` (see ``Backtest``)."""
    a = np.asarray(actual, dtype=np.float64)
    f = np.asarray(forecast, dtype=np.float64)
    total = a.sum()
    pos = a > 0
    return {
        "actual": float(total),
        "forecast": float(f.sum()),
        "wape": float(np.abs(f - a).sum() / total) if total > 0 else math.nan,
        "mape": float((np.abs(f - a)[pos] / a[pos]).mean()) if pos.any() else math.nan,
        "bias": float((f - a).sum() / total) if total > 0 else math.nan,
    }


def backtest(history: pd.DataFrame, *, weeks: int = 1, interval: float | None = None) -> Backtest:
    """Fit on all but the last ``weeks`` weeks, forecast them, and measure the errors."""
    if isinstance(weeks, bool) or not isinstance(weeks, int) or weeks < 1:
        raise ValueError(f"weeks must be an int >= 1, got {weeks!r}")
    hist = history if _is_clean(history) else _clean_history(history, None)
    last = hist["interval_start"].dt.normalize().max()
    cut = last + pd.Timedelta(days=1) - pd.Timedelta(days=7 * weeks)
    train = hist[hist["interval_start"] < cut]
    test = hist[hist["interval_start"] >= cut]
    model = fit_forecast(train, interval=interval)
    fc = model.predict(days=7 * weeks, start=cut)
    merged = test.merge(fc.frame, on="interval_start", how="left", suffixes=("", "_fc"))
    merged["date"] = merged["interval_start"].dt.normalize()
    rows = []
    for date, g in merged.groupby("date"):
        m = error_metrics(g["offered"], g["offered_fc"].fillna(0.0))
        rows.append(
            {"date": pd.Timestamp(date).date(), "weekday": pd.Timestamp(date).strftime("%a"), **m}
        )
    per_day = pd.DataFrame(rows)
    overall = error_metrics(merged["offered"], merged["offered_fc"].fillna(0.0))
    return Backtest(per_day=per_day, overall=overall, forecast=fc)


# --------------------------------------------------------------------------- synthetic history


@dataclass(frozen=True)
class SyntheticHistory:
    """A generated history and the truth behind it (for tests and notebooks)."""

    frame: pd.DataFrame
    weekly: FloatArray
    profile: FloatArray  # (7, slots); each open day's row sums to 1
    intercept: float  # expected daily level on the first day
    slope: float  # change of the level per day
    daily_cv: float
    aht_profile: FloatArray  # (slots,)

    def expected(self) -> FloatArray:
        """Expected calls per interval, (days x slots)."""
        days = len(self.frame) // self.profile.shape[1]
        first = self.frame["interval_start"].iloc[0]
        dow = np.array([(first + pd.Timedelta(days=d)).weekday() for d in range(days)])
        level = self.intercept + self.slope * np.arange(days)
        out: FloatArray = (level * self.weekly[dow])[:, None] * self.profile[dow]
        return out


def _default_profile(slots: int) -> FloatArray:
    hours = (np.arange(slots) + 0.5) * 24.0 / slots
    shape = (
        0.02
        + np.exp(-0.5 * ((hours - 10.5) / 1.6) ** 2)
        + 0.7 * np.exp(-0.5 * ((hours - 15.0) / 2.0) ** 2)
        + 0.5 * np.exp(-0.5 * ((hours - 20.5) / 1.3) ** 2)
    )
    shape[(hours < 6) | (hours > 23)] = 0.0  # closed at night
    return np.asarray(shape / shape.sum(), dtype=np.float64)


def synthetic_history(
    weeks: int = 8,
    seed: int = 0,
    *,
    interval: float = 1800.0,
    start: str = "2026-01-05",
    daily_volume: float = 5000.0,
    weekly: Sequence[float] = (1.15, 1.1, 1.05, 1.05, 1.0, 0.65, 0.0),
    trend_per_week: float = 0.02,
    daily_cv: float = 0.08,
    aht: float = 240.0,
    aht_cv: float = 1.0,
) -> SyntheticHistory:
    """Interval history with a known profile, trend and dispersion.

    A day's calls are Poisson around ``level(d) x weekly[dow] x profile``,
    the whole day scaled by a gamma factor (mean 1, cv ``daily_cv``): the
    same Poisson–gamma mechanism as ``Arrivals.daily_cv``. The level starts
    at ``daily_volume`` and grows by ``trend_per_week`` of it each week.
    ``weekly`` is normalised to average 1 (the default has Sunday closed);
    weekend days get a flatter intra-day profile. Each interval's AHT is the
    mean of its calls' handle times (gamma, cv ``aht_cv``) around an
    intra-day AHT curve averaging ``aht``; empty intervals have AHT 0.
    """
    if isinstance(weeks, bool) or not isinstance(weeks, int) or weeks < 1:
        raise ValueError(f"weeks must be an int >= 1, got {weeks!r}")
    rng = np.random.default_rng(seed)
    slots = round(DAY / interval)
    w = np.asarray(weekly, dtype=np.float64)
    if w.shape != (7,) or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"weekly must be 7 factors >= 0, got {weekly!r}")
    w = w * 7.0 / w.sum()
    base = _default_profile(slots)
    flat = np.where(base > 0, base + base[base > 0].mean(), 0.0)
    flat /= flat.sum()
    profile = np.stack([base if d < 5 else flat for d in range(7)])
    profile[w == 0] = 0.0
    hours = (np.arange(slots) + 0.5) * 24.0 / slots
    aht_curve = aht * (1.0 + 0.1 * np.cos(2 * np.pi * (hours - 3.0) / 24.0))
    slope = daily_volume * trend_per_week / 7.0
    first = pd.Timestamp(start).normalize()
    days = 7 * weeks
    calls = np.zeros((days, slots))
    ahts = np.zeros((days, slots))
    k = math.inf if daily_cv == 0 else 1.0 / daily_cv**2
    for d in range(days):
        dow = (first + pd.Timedelta(days=d)).weekday()
        g = 1.0 if math.isinf(k) else rng.gamma(k, 1.0 / k)
        mean = (daily_volume + slope * d) * w[dow] * g * profile[dow]
        n = rng.poisson(mean)
        calls[d] = n
        shape = 1.0 / aht_cv**2
        total = rng.gamma(
            np.maximum(n, 1) * shape, aht_curve / shape
        )  # sum of n gamma handle times
        ahts[d] = np.where(n > 0, total / np.maximum(n, 1), 0.0)
    starts = pd.DatetimeIndex(
        [
            first + pd.Timedelta(days=d, seconds=s * interval)
            for d in range(days)
            for s in range(slots)
        ]
    )
    frame = pd.DataFrame(
        {"interval_start": starts, "offered": calls.ravel(), "aht": ahts.ravel().round(2)}
    )
    return SyntheticHistory(
        frame=frame,
        weekly=w,
        profile=profile,
        intercept=daily_volume,
        slope=slope,
        daily_cv=daily_cv,
        aht_profile=aht_curve,
    )
