"""Shift scheduling: how many agents work each shift pattern, at minimum cost.

Given agents required per interval (the output of ``staff_intervals`` or any
array) and a set of shift patterns, ``schedule_shifts`` solves the integer
program

    minimise    Σ_p cost_p x_p
    subject to  Σ_p on_{t,p} x_p − Σ_{p,k,j} brk_{t,p,k,j} y_{p,k,j} >= need_t  (each interval t)
                Σ_j y_{p,k,j} = x_p                                  (each pattern p, break k)
                x, y >= 0 integer (+ optional bounds and part-time shares)

with ``scipy.optimize.milp`` (HiGHS). ``x_p`` is the number of agents on
pattern ``p``; ``y_{p,k,j}`` how many of them take their ``k``-th break at
placement ``j`` of its window. This is the *implicit break* formulation
(Aykin 1996): breaks are placed by the solver without enumerating every
combination of break times as its own shift, so a day with lunch windows
stays a small problem. It is exact when the windows of one pattern's breaks
do not overlap (``ShiftPattern`` checks that): then any per-break placement
counts can be handed out to individual agents, which ``Schedule.shifts``
does.

``need_t`` is the on-phone requirement divided by ``1 - shrinkage``:
shrinkage (absence, training, meetings) takes a share of the scheduled agents
off the phones. Coverage counts the fraction of each interval an agent is on
duty and not on a break, so shifts and breaks need not align with intervals.

Time runs on a grid of whole days (one day, or a week of 7 x 96 quarter
hours ...) that repeats: a shift running past the end of the grid wraps to
its start, as a night shift does on a day that repeats.
"""

from __future__ import annotations

import itertools
import math
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from ccsim.planning.staffing import parse_starts
from ccsim.scenario import DAY, AgentGroup, Break, Scenario, Shift, parse_clock

__all__ = [
    "WEEKDAYS",
    "BreakRule",
    "Schedule",
    "ScheduleError",
    "ShiftPattern",
    "load_patterns",
    "pattern_grid",
    "schedule_shifts",
    "simulate_schedule",
    "standard_breaks",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]
Progress: TypeAlias = Callable[[Iterable[Any]], Iterable[Any]]

#: Day names accepted in ``days`` (Monday = 0, as ``datetime.weekday``).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAYS = tuple(range(7))
_TOL = 1e-6


class ScheduleError(ValueError):
    """Bad scheduling input or an infeasible problem; the message says where."""


def _clock(seconds: float) -> str:
    whole = round(seconds)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


def _days_text(days: Sequence[int]) -> str:
    if tuple(days) == ALL_DAYS:
        return "all"
    return ",".join(WEEKDAYS[d] for d in days)


# --------------------------------------------------------------------------- patterns


@dataclass(frozen=True, slots=True)
class BreakRule:
    """A break of ``duration`` s starting between ``earliest`` and ``latest`` s into the shift.

    ``earliest == latest`` (the default when ``latest`` is omitted) is a fixed
    break; otherwise the solver picks a start every ``step`` seconds (default:
    the requirement's interval). Unpaid breaks (lunch, usually) do not count
    in the pattern's default cost.
    """

    earliest: float
    duration: float
    latest: float | None = None
    paid: bool = True
    reason: str = "break"
    step: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.earliest) and self.earliest >= 0):
            raise ScheduleError(f"break earliest must be >= 0 s, got {self.earliest!r}")
        if not (math.isfinite(self.duration) and self.duration > 0):
            raise ScheduleError(f"break duration must be > 0 s, got {self.duration!r}")
        if self.latest is None:
            object.__setattr__(self, "latest", float(self.earliest))
        assert self.latest is not None
        if not (math.isfinite(self.latest) and self.latest >= self.earliest):
            raise ScheduleError(
                f"break latest start must be >= earliest ({self.earliest:g} s), got {self.latest!r}"
            )
        if self.step is not None and not (math.isfinite(self.step) and self.step > 0):
            raise ScheduleError(f"break step must be > 0 s, got {self.step!r}")

    @property
    def last_start(self) -> float:
        assert self.latest is not None
        return self.latest

    @property
    def fixed(self) -> bool:
        return self.last_start == self.earliest

    def offsets(self, default_step: float) -> list[float]:
        """Possible start offsets (s after the shift start), earliest first."""
        step = self.step if self.step is not None else default_step
        n = math.floor((self.last_start - self.earliest) / step + 1e-9)
        return [self.earliest + i * step for i in range(n + 1)]


@dataclass(frozen=True, slots=True)
class ShiftPattern:
    """A shift: starts at ``start`` (s after midnight) on ``days``, lasts ``length`` s.

    ``cost`` (per day worked) defaults to paid hours (length minus unpaid breaks);
    ``max_agents`` caps the pattern; ``part_time`` defaults to shifts
    shorter than 6 h (used by the part-time share limits).
    """

    name: str
    start: float
    length: float
    breaks: tuple[BreakRule, ...] = ()
    days: tuple[int, ...] = ALL_DAYS
    cost: float | None = None
    max_agents: int | None = None
    part_time: bool | None = None

    def __post_init__(self) -> None:
        where = f"pattern {self.name!r}"
        if not (math.isfinite(self.start) and 0 <= self.start < DAY):
            raise ScheduleError(f"{where}: start must be in [00:00, 24:00), got {self.start!r}")
        if not (math.isfinite(self.length) and 0 < self.length <= DAY):
            raise ScheduleError(f"{where}: length must be in (0, 24 h], got {self.length!r} s")
        days = tuple(sorted(set(self.days)))
        if not days or any(not (isinstance(d, int) and 0 <= d < 7) for d in days):
            raise ScheduleError(f"{where}: days must be weekdays 0-6 (Monday = 0), got {self.days}")
        object.__setattr__(self, "days", days)
        object.__setattr__(self, "breaks", tuple(sorted(self.breaks, key=lambda b: b.earliest)))
        for i, b in enumerate(self.breaks):
            if b.last_start + b.duration > self.length + 1e-9:
                raise ScheduleError(
                    f"{where}: break {i + 1} ({b.reason}) may end at "
                    f"{_clock(b.last_start + b.duration)} into the shift, after its "
                    f"length {_clock(self.length)}"
                )
        for i, (a, b) in enumerate(itertools.pairwise(self.breaks)):
            if a.last_start + a.duration > b.earliest + 1e-9:
                raise ScheduleError(
                    f"{where}: the windows of breaks {i + 1} ({a.reason}) and {i + 2} "
                    f"({b.reason}) overlap; one agent could be given both at once"
                )
        if self.cost is not None and not (math.isfinite(self.cost) and self.cost >= 0):
            raise ScheduleError(f"{where}: cost must be >= 0, got {self.cost!r}")
        if self.max_agents is not None and self.max_agents < 0:
            raise ScheduleError(f"{where}: max_agents must be >= 0, got {self.max_agents!r}")

    @property
    def end(self) -> float:
        """End time, s after midnight of the start day (may exceed 24 h)."""
        return self.start + self.length

    @property
    def paid_hours(self) -> float:
        unpaid = sum(b.duration for b in self.breaks if not b.paid)
        return (self.length - unpaid) / 3600.0

    @property
    def unit_cost(self) -> float:
        return self.paid_hours if self.cost is None else self.cost

    @property
    def is_part_time(self) -> bool:
        return self.length < 6 * 3600.0 if self.part_time is None else self.part_time


def standard_breaks(hours: float, *, fixed: bool = False) -> tuple[BreakRule, ...]:
    """A common break policy, as windows the solver places or (``fixed``) at their earliest.

    Shifts of 8 h and more: 15 min paid break 1.5-2.5 h in, 60 min unpaid
    lunch 3.5-4.5 h in (a 30-min lunch from 6 h), 15 min paid break 6-7 h in
    (5-5.5 h for a 6-7.5 h shift); 4-6 h shifts get one 15-min break 1.5-2.5 h in;
    shorter shifts none. Windows step in quarter hours.
    """
    q, h = 900.0, 3600.0

    def rule(lo: float, hi: float, dur: float, paid: bool, reason: str) -> BreakRule:
        return BreakRule(lo, dur, lo if fixed else hi, paid=paid, reason=reason, step=q)

    if hours >= 8:
        return (
            rule(1.5 * h, 2.5 * h, q, True, "break"),
            rule(3.5 * h, 4.5 * h, 4 * q, False, "lunch"),
            rule(6 * h, min(7 * h, hours * h - 2 * q), q, True, "break"),
        )
    if hours >= 6:
        return (
            rule(1.5 * h, 2.5 * h, q, True, "break"),
            rule(3 * h, 3.5 * h, 2 * q, False, "lunch"),
            rule(5 * h, min(5.5 * h, hours * h - 2 * q), q, True, "break"),
        )
    if hours >= 4:
        return (rule(1.5 * h, 2.5 * h, q, True, "break"),)
    return ()


def _consecutive(n: int) -> list[tuple[int, ...]]:
    return [tuple(sorted((s + i) % 7 for i in range(n))) for s in range(7)]


def pattern_grid(
    *,
    first_start: float | str = "06:00",
    last_start: float | str = "14:00",
    every: float = 1800.0,
    hours: Sequence[float] = (8.0, 6.0, 4.0),
    breaks: str = "window",
    days: str | Sequence[int] = "all",
    max_agents: int | None = None,
) -> list[ShiftPattern]:
    """Patterns from a rule: a start every ``every`` s from ``first_start`` to ``last_start``.

    ``breaks`` is ``"window"`` (``standard_breaks`` windows for the solver to
    place), ``"fixed"`` (the same breaks at their earliest times), ``"both"``
    (each shift in both variants) or ``"none"``. ``days`` is ``"all"``,
    ``"5of7"`` (every run of five consecutive working days, i.e. two days
    off in a row), or a list of weekdays (0 = Monday).
    """
    lo, hi = parse_clock(first_start), parse_clock(last_start)
    if not (every > 0 and math.isfinite(every)):
        raise ScheduleError(f"every must be > 0 s, got {every!r}")
    if hi < lo:
        raise ScheduleError(f"last start {_clock(hi)} is before first start {_clock(lo)}")
    styles = {"window": ("window",), "fixed": ("fixed",), "both": ("fixed", "window")}
    styles["none"] = ("none",)
    if breaks not in styles:
        raise ScheduleError(f"breaks must be one of {', '.join(styles)}, got {breaks!r}")
    if isinstance(days, str):
        if days == "all":
            day_sets = [ALL_DAYS]
        elif days == "5of7":
            day_sets = _consecutive(5)
        else:
            raise ScheduleError(f"days must be 'all', '5of7' or a list of weekdays, got {days!r}")
    else:
        day_sets = [tuple(days)]
    out: list[ShiftPattern] = []
    n_starts = math.floor((hi - lo) / every + 1e-9) + 1
    for length in hours:
        if not (0 < length <= 24):
            raise ScheduleError(f"shift hours must be in (0, 24], got {length!r}")
        for style in styles[breaks]:
            rules = () if style == "none" else standard_breaks(length, fixed=style == "fixed")
            if style == "window" and all(r.fixed for r in rules) and breaks == "both":
                continue  # nothing to place: identical to the fixed variant
            for i in range(n_starts):
                start = lo + i * every
                for ds in day_sets:
                    name = f"{_clock(start)}+{length:g}h"
                    if rules and breaks == "both":
                        name += f" {style}"
                    if ds != ALL_DAYS:
                        name += f" {_days_text(ds)}"
                    out.append(
                        ShiftPattern(
                            name=name,
                            start=start,
                            length=length * 3600.0,
                            breaks=rules,
                            days=ds,
                            max_agents=max_agents,
                        )
                    )
    return out


# --------------------------------------------------------------------------- the time grid


@dataclass(frozen=True, slots=True)
class _Grid:
    """Requirement on whole days: ``need`` per interval, weekday of each day (None: any)."""

    interval: float
    days: int
    weekdays: tuple[int, ...] | None
    labels: tuple[str, ...]
    required: FloatArray  # on the phones, per grid interval
    given: npt.NDArray[np.bool_]  # intervals present in the input

    @property
    def slots(self) -> int:
        return round(DAY / self.interval)

    @property
    def size(self) -> int:
        return self.days * self.slots

    def works(self, pattern: ShiftPattern, day: int) -> bool:
        if self.weekdays is None:
            return self.days == 1 or (day % 7) in pattern.days
        return self.weekdays[day] in pattern.days

    def cover(self, start: float, end: float) -> FloatArray:
        """Fraction of each interval inside [start, end) (seconds on the grid), wrapping."""
        horizon = self.days * DAY
        edges = np.arange(self.size + 1, dtype=np.float64) * self.interval
        out = np.zeros(self.size)
        for shift in (-horizon, 0.0, horizon):
            a, b = start + shift, end + shift
            out += np.clip(np.minimum(edges[1:], b) - np.maximum(edges[:-1], a), 0.0, None)
        return out / self.interval


def _grid_from_array(values: Sequence[float] | FloatArray, interval: float, start: float) -> _Grid:
    req = np.asarray(values, dtype=np.float64).ravel()
    if (
        not (math.isfinite(interval) and interval > 0)
        or abs(DAY / interval - round(DAY / interval)) > 1e-9
    ):
        raise ScheduleError(f"interval must divide 24 h evenly, got {interval!r} s")
    if not (math.isfinite(start) and start >= 0):
        raise ScheduleError(f"start must be >= 0 s, got {start!r}")
    first = start / interval
    if abs(first - round(first)) > 1e-9:
        raise ScheduleError(f"start {_clock(start)} is not on an interval boundary")
    first_i = round(first)
    slots = round(DAY / interval)
    days = max(1, math.ceil((first_i + len(req)) / slots))
    need = np.zeros(days * slots)
    given = np.zeros(days * slots, dtype=bool)
    need[first_i : first_i + len(req)] = req
    given[first_i : first_i + len(req)] = True
    labels = tuple(
        (f"day {t // slots + 1} " if days > 1 else "") + _clock((t % slots) * interval)
        for t in range(days * slots)
    )
    return _Grid(interval, days, None, labels, need, given)


def _grid_from_frame(frame: pd.DataFrame, column: str, interval: float | None) -> _Grid:
    if column not in frame.columns:
        raise ScheduleError(f"missing column {column!r} (have {list(frame.columns)})")
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
    for i, v in enumerate(values):
        if not (math.isfinite(v) and v >= 0):
            raise ScheduleError(
                f"row {i + 1}, column {column!r}: must be a number >= 0, "
                f"got {frame[column].iloc[i]!r}"
            )
    stamps = parse_starts(frame["interval_start"]) if "interval_start" in frame.columns else None
    if stamps is None:
        if interval is None:
            raise ScheduleError(
                "interval length unknown: give 'interval_start' times or the interval in seconds"
            )
        return _grid_from_array(values, interval, 0.0)
    ns = stamps.to_numpy().astype("datetime64[ns]")
    if interval is None:
        diffs = np.diff(ns.astype(np.int64)) / 1e9
        if len(diffs) == 0:
            raise ScheduleError("one interval only: give the interval length in seconds")
        interval = float(diffs[diffs > 0].min()) if (diffs > 0).any() else 0.0
    base = ns[0].astype("datetime64[D]")
    offsets = (ns - base).astype("timedelta64[ns]").astype(np.int64) / 1e9
    grid = _grid_from_array(np.zeros(1), interval, 0.0)
    slots = grid.slots
    pos = offsets / interval
    if (np.abs(pos - np.round(pos)) > 1e-6).any() or (np.diff(pos) <= 0).any():
        raise ScheduleError("interval_start values must increase on the interval grid")
    idx = np.round(pos).astype(np.int64)
    days = int(idx[-1] // slots) + 1
    need = np.zeros(days * slots)
    given = np.zeros(days * slots, dtype=bool)
    need[idx] = values
    given[idx] = True
    dated = pd.Timestamp(base).year > 1900  # clock-only text parses to 1900-01-01
    weekdays = (
        tuple((pd.Timestamp(base) + pd.Timedelta(days=d)).weekday() for d in range(days))
        if dated
        else None
    )
    if dated:
        labels = tuple(
            (pd.Timestamp(base) + pd.Timedelta(seconds=t * interval)).strftime(
                "%a %Y-%m-%d %H:%M" if days > 1 else "%H:%M"
            )
            for t in range(days * slots)
        )
    else:
        labels = tuple(
            (f"day {t // slots + 1} " if days > 1 else "") + _clock((t % slots) * interval)
            for t in range(days * slots)
        )
    return _Grid(interval, days, weekdays, labels, need, given)


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True, slots=True)
class _Column:
    pattern: int
    brk: int  # -1: the pattern's own x variable
    offset: float  # break start offset (s into the shift)


def _build(
    grid: _Grid, patterns: Sequence[ShiftPattern]
) -> tuple[list[_Column], sparse.csc_array, FloatArray]:
    """Columns, the coverage matrix (intervals x columns) and per-column cost."""
    cols: list[_Column] = []
    data: list[FloatArray] = []
    rows: list[npt.NDArray[np.int64]] = []
    costs: list[float] = []

    def span(p: ShiftPattern, a: float, b: float) -> FloatArray:
        v = np.zeros(grid.size)
        for d in range(grid.days):
            if grid.works(p, d):
                v += grid.cover(d * DAY + p.start + a, d * DAY + p.start + b)
        return v

    def add(col: _Column, vec: FloatArray, cost: float) -> None:
        nz = np.flatnonzero(np.abs(vec) > 1e-12)
        cols.append(col)
        rows.append(nz)
        data.append(vec[nz])
        costs.append(cost)

    for i, p in enumerate(patterns):
        worked = sum(1 for d in range(grid.days) if grid.works(p, d))
        add(_Column(i, -1, 0.0), span(p, 0.0, p.length), p.unit_cost * worked)
        for k, b in enumerate(p.breaks):
            for off in b.offsets(grid.interval):
                add(_Column(i, k, off), -span(p, off, off + b.duration), 0.0)
    indptr = np.cumsum([0] + [len(r) for r in rows])
    matrix = sparse.csc_array(
        (
            np.concatenate(data) if data else np.zeros(0),
            np.concatenate(rows) if rows else np.zeros(0, np.int64),
            indptr,
        ),
        shape=(grid.size, len(cols)),
    )
    return cols, matrix, np.asarray(costs, dtype=np.float64)


_STATUS = {
    0: "optimal",
    1: "time or iteration limit",
    2: "infeasible",
    3: "unbounded",
    4: "solver error",
}


@dataclass
class Schedule:
    """A solved schedule: agents per pattern, their breaks, and coverage per interval.

    ``patterns``: one row per pattern used (``agents``, ``cost``, ...);
    ``shifts``: the same agents split by break times (what a roster needs);
    ``coverage``: per interval ``required`` (on the phones), ``needed``
    (``required / (1 - shrinkage)``), ``scheduled`` (agents on duty and not
    on a break), ``on_phone`` (``scheduled x (1 - shrinkage)``) and ``over``
    (``scheduled - needed``). ``status`` is the solver's (``optimal`` or a
    limit), ``gap`` the relative MIP gap at the end, ``bound`` the best lower
    bound on the cost.
    """

    patterns: pd.DataFrame
    shifts: pd.DataFrame
    coverage: pd.DataFrame
    cost: float
    status: str
    gap: float
    bound: float
    shrinkage: float
    interval: float
    days: int
    weekdays: tuple[int, ...] | None
    seconds: float
    _shift_specs: list[tuple[ShiftPattern, tuple[float, ...], int]] = field(repr=False)

    @property
    def agents(self) -> int:
        """Agents scheduled (each works one pattern)."""
        return int(self.patterns["agents"].sum()) if len(self.patterns) else 0

    @property
    def paid_hours(self) -> float:
        """Paid agent hours over the whole grid (a day or a week; unpaid breaks excluded)."""
        return float(self.patterns["paid_hours_total"].sum()) if len(self.patterns) else 0.0

    def summary(self) -> dict[str, float | str]:
        cov = self.coverage
        return {
            "status": self.status,
            "cost": self.cost,
            "gap": self.gap,
            "agents": self.agents,
            "paid_hours": self.paid_hours,
            "needed_hours": float(cov["needed"].sum() * self.interval / 3600),
            "over_hours": float(cov["over"].sum() * self.interval / 3600),
            "min_slack": float(cov["over"].min()),
        }

    def shifts_on(self, day: int | None = None) -> list[Shift]:
        """Scenario ``Shift`` objects for the agents working on grid day ``day`` (0-based).

        For a one-day grid ``day`` may be omitted.
        """
        if day is None:
            if self.days != 1:
                raise ScheduleError(
                    f"the schedule covers {self.days} days: give day=0..{self.days - 1}"
                )
            day = 0
        if not (0 <= day < self.days):
            raise ScheduleError(f"day must be in 0..{self.days - 1}, got {day!r}")
        out: list[Shift] = []
        for p, offsets, n in self._shift_specs:
            if self.weekdays is not None:
                if self.weekdays[day] not in p.days:
                    continue
            elif self.days > 1 and day % 7 not in p.days:
                continue
            breaks = tuple(
                Break(start=p.start + off, duration=b.duration, reason=b.reason)
                for b, off in zip(p.breaks, offsets, strict=True)
            )
            out.append(Shift(start=p.start, end=p.end, agents=n, breaks=breaks))
        return out

    def to_scenario(
        self,
        scenario: Scenario,
        *,
        group: str | None = None,
        day: int | None = None,
        apply_shrinkage: bool = True,
    ) -> Scenario:
        """A copy of ``scenario`` whose agent ``group`` works this schedule (on grid ``day``).

        With ``apply_shrinkage`` each shift keeps ``agents x (1 - shrinkage)``
        agents (largest-remainder rounding over the shifts, so the day's
        total is rounded once): the simulation then sees the agents who are
        actually on the phones. The group's size becomes the number of agents
        scheduled; explicit ``stations`` are dropped if that changes it. The
        simulation repeats the day's shifts every day, so for a weekly
        schedule the night shift running into ``day`` is that day's own.
        """
        if group is None:
            if len(scenario.agent_groups) != 1:
                names = ", ".join(g.name for g in scenario.agent_groups)
                raise ScheduleError(f"the scenario has several agent groups ({names}): name one")
            group = scenario.agent_groups[0].name
        try:
            old = scenario.agent_group(group)
        except KeyError:
            names = ", ".join(g.name for g in scenario.agent_groups)
            raise ScheduleError(f"no agent group {group!r} (have {names})") from None
        shifts = self.shifts_on(day)
        counts = np.array([s.agents or 0 for s in shifts], dtype=np.float64)
        if apply_shrinkage and self.shrinkage > 0:
            counts = _largest_remainder(counts * (1.0 - self.shrinkage))
        kept = [
            s.model_copy(update={"agents": int(c)})
            for s, c in zip(shifts, counts, strict=True)
            if c >= 1
        ]
        size = int(sum(int(c) for c in counts))
        if size == 0:
            raise ScheduleError("no agent works on that day: nothing to simulate")
        data = old.model_dump(by_alias=True)
        data.update(size=size, shifts=[s.model_dump() for s in kept])
        if old.stations is not None and len(old.stations) != size:
            data["stations"] = None
        new_group = AgentGroup.model_validate(data)
        groups = tuple(new_group if g.name == group else g for g in scenario.agent_groups)
        return scenario.model_copy(update={"agent_groups": groups})


def _largest_remainder(values: FloatArray) -> FloatArray:
    """Round to integers keeping the rounded total (Hamilton's method)."""
    base = np.floor(values + 1e-9)
    short = round(float(values.sum()) - float(base.sum()))
    if short > 0:
        order = np.argsort(-(values - base), kind="stable")
        base[order[:short]] += 1
    return base


def _split(x: int, counts: Sequence[tuple[float, int]]) -> list[float]:
    """Per-agent break offsets: the first ``n_1`` agents take placement 1, and so on."""
    out: list[float] = []
    for off, n in counts:
        out += [off] * n
    return out[:x]


def schedule_shifts(
    requirement: pd.DataFrame | pd.Series | Sequence[float] | FloatArray,
    patterns: Sequence[ShiftPattern],
    *,
    column: str = "agents",
    interval: float | None = None,
    start: float | str = 0.0,
    shrinkage: float = 0.0,
    min_part_time: float = 0.0,
    max_part_time: float = 1.0,
    time_limit: float = 60.0,
    mip_gap: float = 0.005,
    progress: Progress | None = None,
) -> Schedule:
    """Agents per shift pattern covering the requirement at minimum cost (see module doc).

    ``requirement`` is agents needed **on the phones** per interval: a
    ``staff_intervals`` table or a CSV read from ``ccsim staff --out`` (its
    ``column``, default ``agents``; ``interval_start`` gives times and
    weekdays), or a plain sequence with ``interval`` (s) and the ``start``
    time of its first value (one longer than a day starts on a Monday).
    ``shrinkage`` (0 <= s < 1) scales the requirement up to scheduled
    agents. ``min_part_time`` / ``max_part_time`` bound the share of agents
    on part-time patterns. The solver stops at
    ``time_limit`` seconds or a relative gap of ``mip_gap`` (0.5 %: a week
    with break windows rarely needs closer); ``Schedule.status`` and
    ``gap`` say which. ``progress`` wraps an iterable of the steps (e.g.
    ``tqdm``).
    """
    steps = ["requirement", "model", "solve", "schedule"]
    it = iter(steps if progress is None else progress(steps))
    next(it)
    if not (0.0 <= shrinkage < 1.0):
        raise ScheduleError(f"shrinkage must be in [0, 1), got {shrinkage!r}")
    if not (0.0 <= min_part_time <= max_part_time <= 1.0):
        raise ScheduleError(
            "part-time shares must satisfy 0 <= min <= max <= 1, "
            f"got {min_part_time!r}, {max_part_time!r}"
        )
    if not patterns:
        raise ScheduleError("no shift patterns given")
    names = [p.name for p in patterns]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ScheduleError(f"duplicate pattern name {dup!r}")
    if isinstance(requirement, pd.DataFrame):
        grid = _grid_from_frame(requirement, column, interval)
    else:
        if interval is None:
            raise ScheduleError("give the interval length in seconds for a plain requirement")
        values = (
            requirement.to_numpy(dtype=np.float64)
            if isinstance(requirement, pd.Series)
            else requirement
        )
        arr = np.asarray(values, dtype=np.float64)
        bad = np.flatnonzero(~(np.isfinite(arr) & (arr >= 0)))
        if bad.size:
            raise ScheduleError(f"requirement[{bad[0]}] must be a number >= 0, got {arr[bad[0]]!r}")
        grid = _grid_from_array(arr, interval, parse_clock(start))
    need = grid.required / (1.0 - shrinkage)

    next(it)
    cols, matrix, cost = _build(grid, patterns)
    x_index = [j for j, c in enumerate(cols) if c.brk < 0]
    dense = matrix.toarray()
    # best case per pattern: on duty, with each break at its least harmful placement
    by_break: dict[tuple[int, int], list[int]] = {}
    for j, c in enumerate(cols):
        if c.brk >= 0:
            by_break.setdefault((c.pattern, c.brk), []).append(j)
    on = dense[:, x_index].copy()
    for (pi, _k), js in by_break.items():
        on[:, pi] += dense[:, js].max(axis=1)
    on = np.maximum(on, 0.0)
    upper = np.array([np.inf if p.max_agents is None else float(p.max_agents) for p in patterns])
    capacity = on @ np.where(np.isfinite(upper), upper, 1e9)
    for t in np.flatnonzero(need > _TOL):
        if not (on[t] > 0).any():
            raise ScheduleError(
                f"interval {grid.labels[t]} needs {need[t]:.4g} agents but no pattern covers it"
            )
        if capacity[t] < need[t] - _TOL:
            raise ScheduleError(
                f"interval {grid.labels[t]} needs {need[t]:.4g} agents but the patterns "
                f"covering it allow at most {capacity[t]:g} (max_agents)"
            )
    n = len(cols)
    constraints = [LinearConstraint(matrix, lb=need - _TOL, ub=np.inf)]
    # each break of each pattern is taken exactly once per agent
    link_rows: list[dict[int, float]] = []
    for (pi, _k), js in by_break.items():
        row = dict.fromkeys(js, 1.0)
        row[x_index[pi]] = -1.0
        link_rows.append(row)
    if link_rows:
        r_i, c_i, v = zip(
            *[(i, j, val) for i, row in enumerate(link_rows) for j, val in row.items()], strict=True
        )
        link = sparse.csr_array((v, (r_i, c_i)), shape=(len(link_rows), n))
        constraints.append(LinearConstraint(link, lb=0.0, ub=0.0))
    part = np.array([1.0 if p.is_part_time else 0.0 for p in patterns])
    if max_part_time < 1.0 or min_part_time > 0.0:
        row_max = np.zeros(n)
        row_min = np.zeros(n)
        for pi, j in enumerate(x_index):
            row_max[j] = part[pi] - max_part_time  # Σ pt − s Σ all <= 0
            row_min[j] = part[pi] - min_part_time  # Σ pt − s Σ all >= 0
        if max_part_time < 1.0:
            constraints.append(LinearConstraint(row_max[None, :], lb=-np.inf, ub=0.0))
        if min_part_time > 0.0:
            constraints.append(LinearConstraint(row_min[None, :], lb=0.0, ub=np.inf))
    ub = np.full(n, np.inf)
    for pi, j in enumerate(x_index):
        ub[j] = upper[pi]
    for j, c in enumerate(cols):
        if c.brk >= 0:
            ub[j] = upper[c.pattern]

    next(it)
    t0 = time.perf_counter()
    res = milp(
        cost,
        constraints=constraints,
        integrality=np.ones(n),
        bounds=Bounds(np.zeros(n), ub),
        options={"time_limit": float(time_limit), "mip_rel_gap": float(mip_gap), "disp": False},
    )
    seconds = time.perf_counter() - t0
    status = _STATUS.get(int(res.status), f"status {res.status}")
    if res.x is None:
        if res.status == 2:
            raise ScheduleError(
                "infeasible: no combination of the patterns meets the requirement "
                "within the limits (max_agents, part-time shares)"
            )
        raise ScheduleError(f"the solver found no schedule ({status}: {res.message})")
    x = np.round(res.x)

    next(it)
    coverage_vec = matrix @ x
    counts = x[x_index].astype(np.int64)
    rows = []
    specs: list[tuple[ShiftPattern, tuple[float, ...], int]] = []
    shift_rows = []
    for p_i, p in enumerate(patterns):
        xp = int(counts[p_i])
        if xp == 0:
            continue
        working_days = sum(1 for d in range(grid.days) if grid.works(p, d))
        rows.append(
            {
                "pattern": p.name,
                "start": _clock(p.start),
                "end": _clock(p.end),
                "days": _days_text(p.days),
                "hours": p.length / 3600.0,
                "paid_hours": p.paid_hours,
                "part_time": p.is_part_time,
                "agents": xp,
                "unit_cost": p.unit_cost,
                "days_worked": working_days,
                "cost": p.unit_cost * xp * working_days,
                "paid_hours_total": p.paid_hours * xp * working_days,
            }
        )
        per_break = []
        for k in range(len(p.breaks)):
            placed = [(cols[j].offset, int(x[j])) for j in by_break.get((p_i, k), []) if x[j] > 0]
            per_break.append(_split(xp, sorted(placed)))
        agents_offsets = [tuple(pb[a] for pb in per_break) for a in range(xp)]
        for offs, same in itertools.groupby(agents_offsets):
            m = len(list(same))
            specs.append((p, offs, m))
            shift_rows.append(
                {
                    "pattern": p.name,
                    "days": _days_text(p.days),
                    "start": _clock(p.start),
                    "end": _clock(p.end),
                    "breaks": "; ".join(
                        f"{_clock(p.start + o)}-{_clock(p.start + o + b.duration)} {b.reason}"
                        for b, o in zip(p.breaks, offs, strict=True)
                    ),
                    "agents": m,
                }
            )
    pattern_cols = ["pattern", "start", "end", "days", "hours", "paid_hours", "part_time",
                    "agents", "unit_cost", "days_worked", "cost", "paid_hours_total"]  # fmt: skip
    shift_cols = ["pattern", "days", "start", "end", "breaks", "agents"]
    mask = grid.given
    over = coverage_vec - need
    coverage = pd.DataFrame(
        {
            "interval": np.array(grid.labels)[mask],
            "day": (np.arange(grid.size) // grid.slots)[mask],
            "time": [_clock((t % grid.slots) * grid.interval) for t in np.flatnonzero(mask)],
            "required": grid.required[mask],
            "needed": need[mask],
            "scheduled": coverage_vec[mask],
            "on_phone": coverage_vec[mask] * (1.0 - shrinkage),
            "over": np.where(np.abs(over) < 1e-9, 0.0, over)[mask],
        }
    )
    total = float(cost @ x)
    bound = float(getattr(res, "mip_dual_bound", total) or total)
    gap = float(getattr(res, "mip_gap", 0.0) or 0.0)
    for _ in it:
        pass
    return Schedule(
        patterns=pd.DataFrame(rows, columns=pattern_cols),
        shifts=pd.DataFrame(shift_rows, columns=shift_cols),
        coverage=coverage,
        cost=total,
        status=status,
        gap=gap,
        bound=bound,
        shrinkage=shrinkage,
        interval=grid.interval,
        days=grid.days,
        weekdays=grid.weekdays,
        seconds=seconds,
        _shift_specs=specs,
    )


# --------------------------------------------------------------------------- pattern files


def _duration(value: object, where: str, unit: float) -> float:
    """``"1:30"`` (H:MM) or a number in ``unit`` seconds."""
    if isinstance(value, bool):
        raise ScheduleError(f"{where}: must be a number or 'H:MM', got {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ScheduleError(f"{where}: must be finite, got {value!r}")
        return float(value) * unit
    try:
        return parse_clock(value)
    except ValueError:
        raise ScheduleError(f"{where}: must be a number or 'H:MM', got {value!r}") from None


def _days(value: object, where: str) -> tuple[int, ...]:
    if value == "all":
        return ALL_DAYS
    if not isinstance(value, list):
        raise ScheduleError(f"{where}: must be 'all' or a list like ['mon', 'tue'], got {value!r}")
    out = []
    for i, d in enumerate(value):
        if isinstance(d, str) and d.strip().lower()[:3] in WEEKDAYS:
            out.append(WEEKDAYS.index(d.strip().lower()[:3]))
        elif isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 7:
            out.append(d)
        else:
            raise ScheduleError(f"{where}[{i}]: not a weekday (mon..sun or 0-6), got {d!r}")
    return tuple(out)


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise ScheduleError(
                f"{where}.{key}: unknown field (allowed: {', '.join(sorted(allowed))})"
            )


def load_patterns(path: str | Path) -> tuple[list[ShiftPattern], dict[str, float]]:
    """Read shift patterns from a TOML file: explicit ``[[pattern]]`` tables and/or ``[rules]``.

    Returns the patterns and the ``[limits]`` table (``min_part_time``,
    ``max_part_time``). Errors name the file, the field and the value.
    """
    source = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ScheduleError(f"{source}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScheduleError(f"{source}: invalid TOML: {exc}") from None
    try:
        return _patterns_from_dict(data)
    except ScheduleError as exc:
        raise ScheduleError(f"{source}: {exc}") from None


def _patterns_from_dict(data: Mapping[str, Any]) -> tuple[list[ShiftPattern], dict[str, float]]:
    _check_keys(data, {"pattern", "rules", "limits"}, "")
    out: list[ShiftPattern] = []
    for i, raw in enumerate(data.get("pattern", [])):
        at = f"pattern[{i}]"
        if not isinstance(raw, dict):
            raise ScheduleError(f"{at}: must be a table")
        _check_keys(
            raw, {"name", "start", "hours", "days", "cost", "max_agents", "part_time", "breaks"}, at
        )
        for req in ("start", "hours"):
            if req not in raw:
                raise ScheduleError(f"{at}.{req}: required field is missing")
        try:
            start = parse_clock(raw["start"])
        except ValueError:
            raise ScheduleError(
                f"{at}.start: must be a clock time 'HH:MM', got {raw['start']!r}"
            ) from None
        length = _duration(raw["hours"], f"{at}.hours", 3600.0)
        breaks = []
        for k, rb in enumerate(raw.get("breaks", [])):
            bt = f"{at}.breaks[{k}]"
            _check_keys(rb, {"after", "latest", "minutes", "paid", "reason"}, bt)
            for req in ("after", "minutes"):
                if req not in rb:
                    raise ScheduleError(f"{bt}.{req}: required field is missing")
            after = _duration(rb["after"], f"{bt}.after", 3600.0)
            latest = _duration(rb["latest"], f"{bt}.latest", 3600.0) if "latest" in rb else None
            try:
                breaks.append(
                    BreakRule(
                        after,
                        _duration(rb["minutes"], f"{bt}.minutes", 60.0),
                        latest,
                        paid=bool(rb.get("paid", True)),
                        reason=str(rb.get("reason", "break")),
                    )
                )
            except ScheduleError as exc:
                raise ScheduleError(f"{bt}: {exc}") from None
        max_agents = raw.get("max_agents")
        if max_agents is not None and (
            isinstance(max_agents, bool) or not isinstance(max_agents, int)
        ):
            raise ScheduleError(f"{at}.max_agents: must be a whole number, got {max_agents!r}")
        cost = raw.get("cost")
        if cost is not None and (isinstance(cost, bool) or not isinstance(cost, int | float)):
            raise ScheduleError(f"{at}.cost: must be a number, got {cost!r}")
        days = _days(raw.get("days", "all"), f"{at}.days")
        try:
            out.append(
                ShiftPattern(
                    name=str(raw.get("name", f"pattern {i + 1}")),
                    start=start,
                    length=length,
                    breaks=tuple(breaks),
                    days=days,
                    cost=None if cost is None else float(cost),
                    max_agents=max_agents,
                    part_time=raw.get("part_time"),
                )
            )
        except ScheduleError as exc:
            raise ScheduleError(f"{at}: {exc}") from None
    rules = data.get("rules")
    if rules is not None:
        _check_keys(
            rules,
            {"first_start", "last_start", "every_minutes", "hours", "breaks", "days", "max_agents"},
            "rules",
        )
        days_val = rules.get("days", "all")
        days_arg: str | Sequence[int] = (
            days_val if isinstance(days_val, str) else _days(days_val, "rules.days")
        )
        hours = rules.get("hours", [8, 6, 4])
        if not isinstance(hours, list) or not all(
            isinstance(h, int | float) and not isinstance(h, bool) for h in hours
        ):
            raise ScheduleError(f"rules.hours: must be a list of numbers, got {hours!r}")
        try:
            out += pattern_grid(
                first_start=rules.get("first_start", "06:00"),
                last_start=rules.get("last_start", "14:00"),
                every=_duration(rules.get("every_minutes", 30), "rules.every_minutes", 60.0),
                hours=[float(h) for h in hours],
                breaks=str(rules.get("breaks", "window")),
                days=days_arg,
                max_agents=rules.get("max_agents"),
            )
        except (ScheduleError, ValueError) as exc:
            raise ScheduleError(f"rules: {exc}") from None
    limits = data.get("limits", {})
    _check_keys(limits, {"min_part_time", "max_part_time"}, "limits")
    lim: dict[str, float] = {}
    for key, value in limits.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ScheduleError(f"limits.{key}: must be a share between 0 and 1, got {value!r}")
        lim[key] = float(value)
    if not out:
        raise ScheduleError("no patterns: give [[pattern]] tables or a [rules] table")
    return out, lim


# --------------------------------------------------------------------------- simulation check


def simulate_schedule(
    schedule: Schedule,
    scenario: Scenario,
    *,
    group: str | None = None,
    day: int | None = None,
    apply_shrinkage: bool = True,
    seed: int = 0,
    replications: int = 5,
    interval: float | None = None,
    processes: int = 1,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Simulate ``scenario`` with the scheduled (not required) staffing; KPIs per interval.

    One row per interval with calls: ``offered`` (mean per replication),
    ``sl`` / ``asa`` / ``abandon_rate`` (means over replications, with the
    95% confidence interval of the service level) against the target of the
    scenario (``sl_target``); ``meets`` says whether the mean reaches it.
    Intervals are the schedule's unless ``interval`` is given.
    """
    # imported here: planning must import without SimPy (tests/planning/test_planning_purity.py)
    from ccsim.pbx.records import COUNTER_FIELDS, t_interval  # noqa: PLC0415
    from ccsim.pbx.run import derive_kpis, simulate  # noqa: PLC0415

    sc = schedule.to_scenario(scenario, group=group, day=day, apply_shrinkage=apply_shrinkage)
    iv = schedule.interval if interval is None else interval
    result = simulate(
        sc, seed=seed, replications=replications, interval=iv, record=False,
        processes=processes, progress=progress,
    )  # fmt: skip
    frames = []
    for r in result.replications:
        sums = r.intervals.groupby("interval")[list(COUNTER_FIELDS)].sum().reset_index()
        frames.append(derive_kpis(sums).assign(replication=r.replication))
    df = pd.concat(frames, ignore_index=True)
    target = sc.service_level
    if len(sc.skills) == 1:
        target = sc.skill_target(sc.skills[0].name)
    rows = []
    for key, g in df.groupby("interval"):
        k = int(str(key))
        mean, lo, hi = t_interval(g["sl"].to_numpy(dtype=float)) if len(g) > 1 else (
            float(g["sl"].iloc[0]), math.nan, math.nan)  # fmt: skip
        rows.append(
            {
                "interval": k,
                "start": _clock(k * iv % DAY),
                "offered": float(g["offered"].sum() / replications),
                "sl": mean,
                "sl_low": lo,
                "sl_high": hi,
                "asa": float(g["asa"].mean()),
                "abandon_rate": float(g["abandon_rate"].mean()),
                "sl_target": target.fraction,
                "meets": bool(mean >= target.fraction) if math.isfinite(mean) else True,
            }
        )
    return pd.DataFrame(rows)
