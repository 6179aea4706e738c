"""Minimum staffing for service targets, per interval, with Erlang C or Erlang A.

The search is vectorised across intervals: every step is one model call for
all intervals still undecided. It starts at the square-root estimate (usually
within an agent or two), gallops with doubling steps until the answer is
bracketed, then bisects to the smallest integer N. Every target KPI is
monotone in N, so the result is exact: N meets every target, N - 1 misses at
least one. Fractional requirements come from regula falsi (Illinois) on each
target's slack over the continuous extension of the same model, between N - 1
and N.

The square-root (Halfin–Whitt) column is the classic QED rule
``N = R + β √R`` with β solved from the Halfin–Whitt approximation of the
same service-level / ASA / occupancy targets (Halfin & Whitt 1981; Borst,
Mandelbaum & Reiman 2004). It ignores abandonment and serves as a sanity
check next to the exact answer.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

from ccsim.planning.erlang import (
    DEFAULT_SERVICE_LEVEL_DEFINITION,
    FloatArray,
    ServiceLevelDefinition,
    _arg,
    erlang_a,
    erlang_c,
)

__all__ = [
    "AbandonmentTarget",
    "AsaTarget",
    "ForecastError",
    "OccupancyTarget",
    "QueueModel",
    "ServiceLevelTarget",
    "Target",
    "achieved_kpis",
    "daily_summary",
    "parse_service_level",
    "parse_starts",
    "required_agents",
    "required_agents_fractional",
    "scheduled_agents",
    "square_root_staffing",
    "staff_intervals",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class QueueModel(enum.StrEnum):
    """Which queue the requirement is computed for."""

    #: M/M/N: nobody abandons. Conservative; overstaffs when callers do hang up.
    ERLANG_C = "c"
    #: M/M/N+M: exponential patience with a given mean.
    ERLANG_A = "a"


# --------------------------------------------------------------------------- targets


def _check_fraction(name: str, value: float, *, allow_one: bool) -> None:
    ok = 0.0 < value < 1.0 or (allow_one and value == 1.0)
    if not ok:
        bound = "(0, 1]" if allow_one else "(0, 1)"
        raise ValueError(f"{name} must be in {bound}, got {value!r}")


@dataclass(frozen=True, slots=True)
class ServiceLevelTarget:
    """At least ``fraction`` of calls answered within ``within`` seconds.

    ``definition`` names the denominator (see ``ServiceLevelDefinition``);
    the default counts abandoned calls as failures.
    """

    fraction: float
    within: float
    definition: ServiceLevelDefinition = DEFAULT_SERVICE_LEVEL_DEFINITION

    def __post_init__(self) -> None:
        _check_fraction("ServiceLevelTarget.fraction", self.fraction, allow_one=False)
        if not (math.isfinite(self.within) and self.within >= 0):
            raise ValueError(f"ServiceLevelTarget.within must be >= 0 seconds, got {self.within!r}")
        object.__setattr__(self, "definition", ServiceLevelDefinition(self.definition))


@dataclass(frozen=True, slots=True)
class AsaTarget:
    """Average speed of answer (mean wait of answered calls) at most ``seconds``."""

    seconds: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.seconds) and self.seconds > 0):
            raise ValueError(f"AsaTarget.seconds must be > 0, got {self.seconds!r}")


@dataclass(frozen=True, slots=True)
class AbandonmentTarget:
    """At most ``fraction`` of offered calls abandon (Erlang A only)."""

    fraction: float

    def __post_init__(self) -> None:
        _check_fraction("AbandonmentTarget.fraction", self.fraction, allow_one=True)


@dataclass(frozen=True, slots=True)
class OccupancyTarget:
    """Agent occupancy (busy time / logged-in time) at most ``fraction``."""

    fraction: float

    def __post_init__(self) -> None:
        _check_fraction("OccupancyTarget.fraction", self.fraction, allow_one=True)


Target = ServiceLevelTarget | AsaTarget | AbandonmentTarget | OccupancyTarget


def _targets(targets: Target | Iterable[Target]) -> tuple[Target, ...]:
    if isinstance(targets, ServiceLevelTarget | AsaTarget | AbandonmentTarget | OccupancyTarget):
        out: tuple[Target, ...] = (targets,)
    else:
        out = tuple(targets)
    if not out:
        raise ValueError("targets must contain at least one target")
    for t in out:
        if not isinstance(t, ServiceLevelTarget | AsaTarget | AbandonmentTarget | OccupancyTarget):
            raise ValueError(f"targets: not a target: {t!r}")
    return out


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True, slots=True)
class _Problem:
    """Flat per-interval inputs of one staffing question."""

    model: QueueModel
    rate: FloatArray
    aht: FloatArray
    patience: FloatArray
    targets: tuple[Target, ...]

    def slacks(
        self, rows: IntArray, servers: FloatArray, only: int | None = None
    ) -> list[FloatArray]:
        """Per-target slack, clipped to [-1, 1]: >= 0 exactly when that target is met.

        Each slack has the sign of its comparison (``sl - fraction``,
        ``(max_asa - asa) / max_asa``, ...), so ``slack >= 0`` is the exact
        test. Slacks are continuous and increasing in N (through the load for
        Erlang C too: SL -> 0, ASA -> inf, occupancy -> 1 as N falls to A), which
        the fractional root search relies on. ``only`` picks one target.
        """
        lam, h, pat = self.rate[rows], self.aht[rows], self.patience[rows]
        targets = self.targets if only is None else (self.targets[only],)
        out: list[FloatArray] = []
        if self.model is QueueModel.ERLANG_C:
            c = erlang_c(arrival_rate=lam, aht=h, servers=servers)
            for t in targets:
                if isinstance(t, ServiceLevelTarget):
                    out.append(c.service_level(t.within) - t.fraction)
                elif isinstance(t, AsaTarget):
                    out.append((t.seconds - c.asa) / t.seconds)
                elif isinstance(t, OccupancyTarget):
                    out.append(t.fraction - c.occupancy)
        else:
            a = erlang_a(arrival_rate=lam, aht=h, patience=pat, servers=servers)
            for t in targets:
                if isinstance(t, ServiceLevelTarget):
                    out.append(a.service_level(t.within, t.definition) - t.fraction)
                elif isinstance(t, AsaTarget):
                    out.append((t.seconds - a.mean_wait_served) / t.seconds)
                elif isinstance(t, AbandonmentTarget):
                    out.append(t.fraction - a.p_abandon)
                else:
                    out.append(t.fraction - a.occupancy)
        return [np.asarray(np.minimum(np.fmax(v, -1.0), 1.0), dtype=np.float64) for v in out]

    def meets(self, rows: IntArray, servers: FloatArray) -> BoolArray:
        """Whether ``servers`` agents meet every target for the given rows.

        Erlang C also needs N > A: below that there is no steady state.
        """
        ok = np.min(self.slacks(rows, servers), axis=0) >= 0  # NaN slack was clipped to -1
        if self.model is QueueModel.ERLANG_C:
            ok &= servers > self.rate[rows] * self.aht[rows]
        return np.asarray(ok, dtype=np.bool_)


def _problem(
    arrival_rate: npt.ArrayLike,
    aht: npt.ArrayLike,
    targets: Target | Iterable[Target],
    model: QueueModel | str,
    patience: npt.ArrayLike | None,
) -> tuple[tuple[int, ...], _Problem]:
    m = QueueModel(model)
    ts = _targets(targets)
    lam = _arg("arrival_rate", arrival_rate)
    h = _arg("aht", aht, positive=True)
    if m is QueueModel.ERLANG_A:
        if patience is None:
            raise ValueError("patience is required for the Erlang A model")
        pat = _arg("patience", patience, positive=True, finite=False)
    else:
        if any(isinstance(t, AbandonmentTarget) for t in ts):
            raise ValueError("an abandonment target needs the Erlang A model (Erlang C has none)")
        pat = np.asarray(np.inf)
    shape = np.broadcast_shapes(lam.shape, h.shape, pat.shape)
    flat = [np.broadcast_to(v, shape).ravel().astype(np.float64) for v in (lam, h, pat)]
    return shape, _Problem(m, flat[0], flat[1], flat[2], ts)


def _search(p: _Problem, guess: IntArray | None = None) -> IntArray:
    """Smallest integer N meeting every target, per row (see module docstring).

    Starts at ``guess`` (the square-root estimate, usually within an agent or
    two), gallops away from it with doubling steps until the answer is
    bracketed by a failing ``lo`` and a passing ``hi``, then bisects.
    """
    load = p.rate * p.aht
    result = np.zeros(load.size, dtype=np.int64)
    rows = np.flatnonzero(load > 0)  # no traffic: nobody needed
    if rows.size == 0:
        return result
    r = load[rows]
    # floor: always fails. Erlang C is unstable at N <= A; Erlang A counts from "-1"
    floor = np.floor(r) if p.model is QueueModel.ERLANG_C else np.full(r.shape, -1.0)
    start = np.ceil(r + np.sqrt(r)) if guess is None else guess[rows].astype(np.float64)
    start = np.maximum(start, floor + 1)
    cap = r + 100 * np.sqrt(r) + 1000
    ok = p.meets(rows, start)
    lo = np.where(ok, floor, start)
    hi = np.where(ok, start, np.inf)
    step = np.ones(r.shape)
    # passing rows: probe below until one fails (or the floor is reached)
    down = np.flatnonzero(ok & (hi - 1 > lo))
    while down.size:
        probe = np.maximum(hi[down] - step[down], lo[down])
        at_floor = probe <= lo[down]
        test = down[~at_floor]
        res = p.meets(rows[test], probe[~at_floor])
        hi[test[res]] = probe[~at_floor][res]
        lo[test[~res]] = probe[~at_floor][~res]
        step[test] *= 2
        down = test[res]
        down = down[hi[down] - 1 > lo[down]]
    # failing rows: probe above until one passes
    up = np.flatnonzero(~ok)
    while up.size:
        probe = lo[up] + step[up]
        if (probe > cap[up]).any():
            raise ValueError("targets cannot be met with a finite number of agents")
        res = p.meets(rows[up], probe)
        hi[up[res]] = probe[res]
        lo[up[~res]] = probe[~res]
        step[up] *= 2
        up = up[~res]
    gap = np.flatnonzero(hi - lo > 1)
    while gap.size:  # bisect: lo fails, hi meets
        mid = np.floor((lo[gap] + hi[gap]) / 2)
        res = p.meets(rows[gap], mid)
        hi[gap[res]] = mid[res]
        lo[gap[~res]] = mid[~res]
        gap = gap[hi[gap] - lo[gap] > 1]
    result[rows] = hi.astype(np.int64)
    return result


def _guess(p: _Problem) -> IntArray:
    return square_root_staffing(arrival_rate=p.rate, aht=p.aht, targets=p.targets)


def _illinois(
    p: _Problem,
    rows: IntArray,
    target: int,
    bracket: tuple[FloatArray, FloatArray],
    values: tuple[FloatArray, FloatArray],
    tol: float,
) -> FloatArray:
    """Root of one target's slack in [lo, hi] (slack < 0 at lo, >= 0 at hi), to ``tol``.

    Regula falsi with the Illinois modification: superlinear on these smooth
    curves, so a handful of model evaluations instead of ~20 bisections.
    """
    lo, hi = bracket[0].copy(), bracket[1].copy()
    f_lo, f_hi = values  # true slacks, for the stopping test
    g_lo, g_hi = f_lo.copy(), f_hi.copy()  # Illinois-weighted copies, for the steps
    side = np.zeros(rows.size)  # +1 / -1: which end moved last

    def open_rows(idx: IntArray) -> IntArray:
        # done when the bracket is narrow, or the secant from hi moves it by < tol
        width = hi[idx] - lo[idx]
        step = f_hi[idx] * width / (f_hi[idx] - f_lo[idx])
        return idx[(width > tol) & ~(step < tol)]

    active = open_rows(np.arange(rows.size))
    for _ in range(200):
        if active.size == 0:
            break
        a_lo, a_hi, ga, gb = lo[active], hi[active], g_lo[active], g_hi[active]
        x = a_hi - gb * (a_hi - a_lo) / (gb - ga)
        x = np.where((x > a_lo) & (x < a_hi), x, 0.5 * (a_lo + a_hi))
        gx = p.slacks(rows[active], x, target)[0]
        ok = gx >= 0
        up, dn = active[ok], active[~ok]
        hi[up], g_hi[up], f_hi[up] = x[ok], gx[ok], gx[ok]
        g_lo[up[side[up] > 0]] *= 0.5  # same end moved twice: halve the other's value
        side[up] = 1.0
        lo[dn], g_lo[dn], f_lo[dn] = x[~ok], gx[~ok], gx[~ok]
        g_hi[dn[side[dn] < 0]] *= 0.5
        side[dn] = -1.0
        active = open_rows(active)
    return hi


def _search_fractional(p: _Problem, whole: IntArray, tol: float) -> FloatArray:
    """Smallest real N (within ``tol``) in (whole - 1, whole] meeting every target.

    Every target's slack is increasing in N, so the answer is the largest of
    the per-target roots (each found on its own smooth curve, not on their
    kinked minimum), and for Erlang C also just above the load.
    """
    out = whole.astype(np.float64)
    rows = np.flatnonzero(whole > 0)
    if rows.size == 0:
        return out
    hi = out[rows]
    lo = hi - 1.0
    need = lo.copy()
    if p.model is QueueModel.ERLANG_C:
        need = np.maximum(need, np.nextafter(p.rate[rows] * p.aht[rows], np.inf))
    at_lo = p.slacks(rows, lo)
    at_hi = p.slacks(rows, hi)
    for k, slack in enumerate(at_lo):
        sel = np.flatnonzero(slack < 0)  # met already at whole - 1: its root is lower
        if sel.size:
            ends = (lo[sel], hi[sel])
            root = _illinois(p, rows[sel], k, ends, (slack[sel], at_hi[k][sel].copy()), tol)
            need[sel] = np.maximum(need[sel], root)
    out[rows] = np.minimum(need, hi)
    return out


def required_agents(
    *,
    arrival_rate: npt.ArrayLike,
    aht: npt.ArrayLike,
    targets: Target | Iterable[Target],
    model: QueueModel | str = QueueModel.ERLANG_C,
    patience: npt.ArrayLike | None = None,
) -> IntArray:
    """Smallest number of agents on the phones meeting every target (vectorised).

    ``arrival_rate`` in calls/s, ``aht`` and ``patience`` (mean, Erlang A only)
    in seconds.

    >>> int(required_agents(arrival_rate=100 / 1800, aht=180.0,
    ...                     targets=ServiceLevelTarget(fraction=0.8, within=20.0)))
    14
    """
    shape, p = _problem(arrival_rate, aht, targets, model, patience)
    return _search(p, _guess(p)).reshape(shape)


def required_agents_fractional(
    *,
    arrival_rate: npt.ArrayLike,
    aht: npt.ArrayLike,
    targets: Target | Iterable[Target],
    model: QueueModel | str = QueueModel.ERLANG_C,
    patience: npt.ArrayLike | None = None,
    tol: float = 1e-7,
) -> FloatArray:
    """Like ``required_agents`` but over real N (continuous Erlang extension).

    Useful for smooth plots and for summing requirements across queues
    before rounding.
    """
    shape, p = _problem(arrival_rate, aht, targets, model, patience)
    return _search_fractional(p, _search(p, _guess(p)), tol).reshape(shape)


def scheduled_agents(on_phones: npt.ArrayLike, shrinkage: float) -> FloatArray:
    """Agents to schedule so that ``on_phones`` remain after ``shrinkage`` (0 <= s < 1).

    Real-valued; ``staff_intervals`` rounds it up with a guard against float
    noise, so 14 on the phones at 30% shrinkage is 20 scheduled, not the 21
    that ``ceil(14 / 0.7) = ceil(20.000000000000004)`` would give.
    """
    if not (0.0 <= shrinkage < 1.0):
        raise ValueError(f"shrinkage must be in [0, 1), got {shrinkage!r}")
    n = np.asarray(on_phones, dtype=np.float64)
    return np.asarray(n / (1.0 - shrinkage), dtype=np.float64)


def _ceil_guarded(x: FloatArray) -> IntArray:
    return np.ceil(x - 1e-9).astype(np.int64)


# --------------------------------------------------------------------------- square-root staffing


def _hw_delay(beta: FloatArray) -> FloatArray:
    """Halfin–Whitt P(wait) ≈ 1 / (1 + β Φ(β) / φ(β)) for N = R + β√R."""
    with np.errstate(over="ignore"):
        ratio = beta * np.exp(
            special.log_ndtr(beta) + 0.5 * beta * beta + 0.5 * math.log(2 * math.pi)
        )
    return np.asarray(1.0 / (1.0 + ratio), dtype=np.float64)


def square_root_staffing(
    *,
    arrival_rate: npt.ArrayLike,
    aht: npt.ArrayLike,
    targets: Target | Iterable[Target],
) -> IntArray:
    """Square-root staffing ``ceil(R + β √R)``, β from the Halfin–Whitt approximation.

    Service-level targets use ``1 - α(β) e^{-β √R t / AHT}``, ASA targets
    ``α(β) AHT / (β √R)``, occupancy ``R / (R + β √R)``; abandonment targets
    are ignored (the approximation has no abandonment).
    """
    ts = _targets(targets)
    lam = _arg("arrival_rate", arrival_rate)
    h0 = _arg("aht", aht, positive=True)
    r = np.asarray(lam * h0, dtype=np.float64)
    h = np.broadcast_to(h0, r.shape)
    sq = np.sqrt(r)
    beta = np.zeros(r.shape)
    for t in ts:
        if isinstance(t, OccupancyTarget):
            beta = np.maximum(beta, sq * (1.0 / t.fraction - 1.0))
            continue
        if isinstance(t, AbandonmentTarget):
            continue
        lo, hi = np.zeros(r.shape), np.full(r.shape, 40.0)
        for _ in range(36):  # β to 40 / 2^36 ~ 6e-10, i.e. < 1e-7 agents at R = 10^4
            mid = (lo + hi) / 2
            alpha = _hw_delay(mid)
            with np.errstate(divide="ignore", invalid="ignore"):
                if isinstance(t, ServiceLevelTarget):
                    ok = 1.0 - alpha * np.exp(-mid * sq * t.within / h) >= t.fraction
                else:
                    ok = alpha * h / (mid * sq) <= t.seconds
            hi = np.where(ok, mid, hi)
            lo = np.where(ok, lo, mid)
        beta = np.maximum(beta, hi)
    n = np.where(r > 0, np.ceil(r + beta * sq - 1e-9), 0.0)
    return n.astype(np.int64)


# --------------------------------------------------------------------------- KPIs and tables


def achieved_kpis(
    *,
    arrival_rate: npt.ArrayLike,
    aht: npt.ArrayLike,
    servers: npt.ArrayLike,
    targets: Target | Iterable[Target],
    model: QueueModel | str = QueueModel.ERLANG_C,
    patience: npt.ArrayLike | None = None,
) -> dict[str, FloatArray]:
    """KPIs at a given staffing: service level (of the first SL target), ASA, P(wait),
    abandonment (Erlang A) and occupancy."""
    ts = _targets(targets)
    sl_target = next((t for t in ts if isinstance(t, ServiceLevelTarget)), None)
    out: dict[str, FloatArray] = {}
    if QueueModel(model) is QueueModel.ERLANG_C:
        c = erlang_c(arrival_rate=arrival_rate, aht=aht, servers=servers)
        if sl_target is not None:
            out["service_level"] = c.service_level(sl_target.within, sl_target.definition)
        out["asa"] = c.asa
        out["p_wait"] = c.p_wait
        out["occupancy"] = c.occupancy
        return out
    if patience is None:
        raise ValueError("patience is required for the Erlang A model")
    a = erlang_a(arrival_rate=arrival_rate, aht=aht, patience=patience, servers=servers)
    if sl_target is not None:
        out["service_level"] = a.service_level(sl_target.within, sl_target.definition)
    out["asa"] = a.mean_wait_served
    out["p_wait"] = a.p_wait
    out["abandon"] = a.p_abandon
    out["occupancy"] = a.occupancy
    return out


class ForecastError(ValueError):
    """Bad forecast data; ``row`` (0-based position) and ``column`` say where."""

    def __init__(self, message: str, *, row: int | None = None, column: str | None = None) -> None:
        where = []
        if row is not None:
            where.append(f"row {row + 1}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.row = row
        self.column = column
        self.detail = message


#: Columns of a forecast: (name, required, strictly positive).
FORECAST_COLUMNS: tuple[tuple[str, bool, bool], ...] = (
    ("offered", True, False),
    ("aht", True, True),
    ("patience", False, True),
)


def _numeric_column(df: pd.DataFrame, name: str, positive: bool) -> FloatArray:
    values = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=np.float64)
    for i, v in enumerate(values):
        if not math.isfinite(v):
            raise ForecastError(f"not a finite number: {df[name].iloc[i]!r}", row=i, column=name)
        if v < 0 or (positive and v == 0):
            need = "> 0" if positive else ">= 0"
            raise ForecastError(f"must be {need}, got {df[name].iloc[i]!r}", row=i, column=name)
    return values


def parse_starts(starts: pd.Series) -> pd.Series | None:
    """Interval starts as datetimes, or None when they are not times.

    Accepts datetimes, ISO 8601 text ("2024-05-06 08:30") and clock times
    ("08:30", "08:30:00"); anything else (labels such as "mon-1") is left
    alone rather than guessed at.
    """
    if pd.api.types.is_datetime64_any_dtype(starts):
        return starts
    text = starts.astype(str).str.strip()
    for fmt in ("ISO8601", "%H:%M", "%H:%M:%S"):
        try:
            return pd.to_datetime(text, format=fmt)
        except (ValueError, TypeError):
            continue
    return None


def _infer_interval(starts: pd.Series) -> float | None:
    """Interval length (s) from evenly spaced start times, or None if not inferable."""
    stamps = parse_starts(starts)
    if stamps is None or len(stamps) < 2:
        return None
    diffs = np.diff(stamps.to_numpy().astype("datetime64[ns]").astype(np.int64)) / 1e9
    if (diffs > 0).all() and np.allclose(diffs, diffs[0]):
        return float(diffs[0])
    return None


def staff_intervals(
    forecast: pd.DataFrame,
    targets: Target | Iterable[Target],
    *,
    model: QueueModel | str = QueueModel.ERLANG_C,
    shrinkage: float = 0.0,
    patience: float | None = None,
    interval: float | None = None,
) -> pd.DataFrame:
    """Per-interval staffing for a forecast.

    ``forecast`` has columns ``offered`` (calls in the interval) and ``aht``
    (s), optionally ``interval_start`` and ``patience`` (mean, s; used by
    Erlang A, overridden by the ``patience`` argument). ``interval`` is the
    interval length in seconds, inferred from evenly spaced
    ``interval_start`` values when omitted.

    Returns one row per interval: ``load`` (erlangs), ``agents`` (integer,
    on the phones), ``agents_fractional``, ``scheduled`` (after shrinkage),
    ``scheduled_fractional``, ``sqrt_agents`` (Halfin–Whitt comparison) and
    the KPIs achieved with ``agents``.
    """
    m = QueueModel(model)
    ts = _targets(targets)
    if not (0.0 <= shrinkage < 1.0):
        raise ValueError(f"shrinkage must be in [0, 1), got {shrinkage!r}")
    for name, required, _ in FORECAST_COLUMNS:
        if required and name not in forecast.columns:
            raise ForecastError(f"missing column {name!r} (have {list(forecast.columns)})")
    if interval is None:
        if "interval_start" in forecast.columns:
            interval = _infer_interval(forecast["interval_start"])
        if interval is None:
            raise ForecastError(
                "interval length unknown: give evenly spaced 'interval_start' values "
                "or the interval length in seconds"
            )
    if not (math.isfinite(interval) and interval > 0):
        raise ValueError(f"interval must be > 0 seconds, got {interval!r}")
    offered = _numeric_column(forecast, "offered", positive=False)
    aht = _numeric_column(forecast, "aht", positive=True)
    pat: FloatArray | None = None
    if m is QueueModel.ERLANG_A:
        if patience is not None:
            pat = np.full(offered.shape, float(patience))
        elif "patience" in forecast.columns:
            pat = _numeric_column(forecast, "patience", positive=True)
        else:
            raise ForecastError("the Erlang A model needs a 'patience' column or a patience value")
    rate = offered / interval
    _, p = _problem(rate, aht, ts, m, pat)
    sqrt_agents = _guess(p)
    whole = _search(p, sqrt_agents)
    frac = _search_fractional(p, whole, 1e-7)
    kpis = achieved_kpis(
        arrival_rate=rate,
        aht=aht,
        servers=whole.astype(np.float64),
        targets=ts,
        model=m,
        patience=pat,
    )
    columns: dict[str, object] = {}
    if "interval_start" in forecast.columns:
        columns["interval_start"] = forecast["interval_start"].to_numpy()
    columns["offered"] = offered
    columns["aht"] = aht
    if pat is not None:
        columns["patience"] = pat
    columns["load"] = rate * aht
    columns["agents"] = whole
    columns["agents_fractional"] = frac
    columns["scheduled"] = _ceil_guarded(scheduled_agents(whole, shrinkage))
    columns["scheduled_fractional"] = scheduled_agents(frac, shrinkage)
    columns["sqrt_agents"] = sqrt_agents
    columns.update(kpis)
    out = pd.DataFrame(columns, index=forecast.index)
    out.attrs.update(interval=interval, model=m.value, shrinkage=shrinkage)
    return out


def daily_summary(table: pd.DataFrame, *, interval: float | None = None) -> dict[str, float]:
    """Totals and call-weighted averages of a ``staff_intervals`` table.

    Service level and abandonment are weighted by offered calls, ASA by
    answered calls, occupancy is total workload over total agent time.
    """
    iv = float(interval if interval is not None else table.attrs["interval"])
    offered = table["offered"].to_numpy(dtype=np.float64)
    total = float(offered.sum())
    ab = (
        table["abandon"].to_numpy(dtype=np.float64)
        if "abandon" in table
        else np.zeros_like(offered)
    )
    answered = offered * (1.0 - ab)
    agents = table["agents"].to_numpy(dtype=np.float64)
    staffed = agents > 0
    out: dict[str, float] = {
        "offered": total,
        "peak_agents": float(agents.max(initial=0.0)),
        "peak_scheduled": float(table["scheduled"].max()),
        "agent_hours": float(agents.sum() * iv / 3600),
        "scheduled_hours": float(table["scheduled"].sum() * iv / 3600),
    }
    if "service_level" in table and total > 0:
        out["service_level"] = float((table["service_level"].to_numpy() * offered).sum() / total)
    asa = table["asa"].to_numpy(dtype=np.float64)
    if answered.sum() > 0:
        out["asa"] = float((np.where(answered > 0, asa, 0.0) * answered).sum() / answered.sum())
    if "abandon" in table and total > 0:
        out["abandon"] = float((ab * offered).sum() / total)
    busy = (table["load"].to_numpy(dtype=np.float64) * (1.0 - ab))[staffed].sum()
    if agents.sum() > 0:
        out["occupancy"] = float(busy / agents.sum())
    return out


def parse_service_level(text: str) -> tuple[float, float]:
    """Parse ``"80/20"`` (percent / seconds) into ``(0.8, 20.0)``."""
    parts = text.split("/")
    if len(parts) != 2:
        raise ValueError(
            f"service-level target must look like 80/20 (percent/seconds), got {text!r}"
        )
    try:
        pct, secs = float(parts[0].rstrip("%")), float(parts[1].rstrip("s"))
    except ValueError:
        raise ValueError(
            f"service-level target must look like 80/20 (percent/seconds), got {text!r}"
        ) from None
    if not 0 < pct < 100:
        raise ValueError(f"service-level percentage must be in (0, 100), got {parts[0]!r}")
    return pct / 100.0, secs
