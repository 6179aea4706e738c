"""Collectors: the model emits records, collectors build CDRs and KPIs (Ciw's way).

Nothing here is mutated by the simulation's processes except through these
collectors' ``add`` methods, and nothing stores one Python object per field:

* ``CdrStore`` keeps call detail records as growable, typed numpy columns
  (about 100 bytes per attempt) and turns them into a DataFrame at the end;
* ``IntervalCounters`` accumulates per-(interval, service) counts and sums as
  calls complete, so KPIs need no stored records (a 10-million-call run keeps
  only these);
* ``LevelTimes`` integrates piecewise-constant levels (agents per state,
  trunks and IVR ports in use, queue lengths) over each interval, splitting a
  duration across interval boundaries, and keeps each interval's maximum.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["OUTCOMES", "CdrStore", "IntervalCounters", "LevelTimes"]

#: Outcome codes of a call attempt (column ``outcome`` of the CDR).
OUTCOMES = (
    "answered",
    "abandoned",
    "blocked",
    "self_served",
    "overflowed",
    "disconnected",
    "callback",
    "ivr_abandoned",
    "open",  # still in the system when the run stopped
)
OUTCOME_CODE = {name: i for i, name in enumerate(OUTCOMES)}

_FLOAT_COLS = ("arrival", "ivr_start", "ivr_end", "offered", "answered_at", "ended", "wrap")
_INT_COLS = ("customer", "redial_of", "agent", "queue")
_SMALL_COLS = ("service", "entry_service", "attempt", "outcome", "priority")


def categorical(codes: np.ndarray, names: Sequence[str]) -> pd.Categorical[str]:
    """Integer codes (-1 = missing) as a pandas categorical over ``names``."""
    return pd.Categorical.from_codes(codes.astype(np.int64), categories=pd.Index(list(names)))


class CdrStore:
    """Columnar call detail records: one row per attempt, written once when it completes."""

    def __init__(self, capacity: int = 4096) -> None:
        self.n = 0
        self._cap = capacity
        self._f = {c: np.empty(capacity, dtype=np.float64) for c in _FLOAT_COLS}
        self._i = {c: np.empty(capacity, dtype=np.int64) for c in _INT_COLS}
        self._s = {c: np.empty(capacity, dtype=np.int16) for c in _SMALL_COLS}
        self._row = np.empty(capacity, dtype=np.int64)

    def _grow(self) -> None:
        cap = self._cap * 2
        for cols in (self._f, self._i, self._s):
            for name, arr in cols.items():
                new = np.empty(cap, dtype=arr.dtype)
                new[: self.n] = arr[: self.n]
                cols[name] = new
        new_row = np.empty(cap, dtype=np.int64)
        new_row[: self.n] = self._row[: self.n]
        self._row = new_row
        self._cap = cap

    def add(
        self,
        row: int,
        floats: Sequence[float],
        ints: Sequence[int],
        smalls: Sequence[int],
    ) -> None:
        """Append one attempt; values in the order of the module's column tuples."""
        if self.n == self._cap:
            self._grow()
        k = self.n
        self._row[k] = row
        for name, v in zip(_FLOAT_COLS, floats, strict=True):
            self._f[name][k] = v
        for name, iv in zip(_INT_COLS, ints, strict=True):
            self._i[name][k] = iv
        for name, sv in zip(_SMALL_COLS, smalls, strict=True):
            self._s[name][k] = sv
        self.n = k + 1

    @property
    def nbytes(self) -> int:
        """Bytes held by the columns (capacity included)."""
        total = self._row.nbytes
        for cols in (self._f, self._i, self._s):
            total += sum(a.nbytes for a in cols.values())
        return total

    def frame(
        self, services: Sequence[str], agents: Sequence[str], queues: Sequence[str]
    ) -> pd.DataFrame:
        """The records as a DataFrame sorted by attempt id, with derived wait/talk columns."""
        n = self.n
        order = np.argsort(self._row[:n], kind="stable")
        data: dict[str, object] = {"attempt_id": self._row[:n][order]}
        f = {c: a[:n][order] for c, a in self._f.items()}
        i = {c: a[:n][order] for c, a in self._i.items()}
        s = {c: a[:n][order] for c, a in self._s.items()}
        data["customer"] = i["customer"]
        data["attempt"] = s["attempt"].astype(np.int16)
        data["redial_of"] = i["redial_of"]
        data["entry_service"] = categorical(s["entry_service"], services)
        data["service"] = categorical(s["service"], services)
        data["priority"] = s["priority"]
        for c in ("arrival", "ivr_start", "ivr_end", "offered"):
            data[c] = f[c]
        data["queue"] = categorical(i["queue"], queues)
        data["answered_at"] = f["answered_at"]
        data["ended"] = f["ended"]
        data["agent"] = categorical(i["agent"], agents)
        data["outcome"] = categorical(s["outcome"], OUTCOMES)
        answered = ~np.isnan(f["answered_at"])
        wait_end = np.where(answered, f["answered_at"], f["ended"])
        data["wait"] = np.where(np.isnan(f["offered"]), np.nan, wait_end - f["offered"])
        data["talk"] = np.where(answered, f["ended"] - f["answered_at"], np.nan)
        data["wrap"] = f["wrap"]
        return pd.DataFrame(data)


#: Fields of ``IntervalCounters``, per (interval, service).
COUNTER_FIELDS = (
    "arrived",
    "offered",  # reached the ACD (queue)
    "answered",
    "abandoned",
    "blocked",
    "self_served",
    "ivr_abandoned",
    "overflowed",
    "disconnected",
    "callback",
    "answered_in_sl",
    "abandoned_in_sl",
    "waited",  # offered calls that did not get an agent at once
    "wait_answered_sum",
    "wait_abandoned_sum",
    "talk_sum",
    "wrap_sum",
)
_CF = {name: i for i, name in enumerate(COUNTER_FIELDS)}


class IntervalCounters:
    """Per-(interval, service) sums, indexed by the interval of the attempt's arrival."""

    def __init__(self, n_services: int, interval: float) -> None:
        self.n_services = n_services
        self.interval = interval
        self.rows: dict[tuple[int, int], list[float]] = {}

    def bucket(self, arrival: float, service: int) -> list[float]:
        key = (int(arrival // self.interval), service)
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = [0.0] * len(COUNTER_FIELDS)
        return row

    def frame(self, services: Sequence[str]) -> pd.DataFrame:
        keys = sorted(self.rows)
        arr = np.array([self.rows[k] for k in keys], dtype=float).reshape(-1, len(COUNTER_FIELDS))
        df = pd.DataFrame(arr, columns=list(COUNTER_FIELDS))
        df.insert(0, "interval", [k[0] for k in keys])
        df.insert(1, "service", [services[k[1]] for k in keys])
        return df


class LevelTimes:
    """Time-weighted integrals of integer levels (per key) over fixed intervals, plus maxima."""

    def __init__(self, interval: float, window: tuple[float, float] = (0.0, math.inf)) -> None:
        self.interval = interval
        #: the measured window [start, end): ``window_area`` integrates each level over it exactly
        self.window = window
        self.window_area: dict[str, float] = {}
        self.level: dict[str, int] = {}
        self.since: dict[str, float] = {}
        self.area: dict[tuple[str, int], float] = {}
        self.peak: dict[tuple[str, int], int] = {}

    def _accumulate(self, key: str, t: float) -> None:
        level = self.level.get(key, 0)
        t0 = self.since.get(key, t)
        if level and t > t0:
            w0, w1 = self.window
            overlap = min(t, w1) - max(t0, w0)
            if overlap > 0:
                self.window_area[key] = self.window_area.get(key, 0.0) + level * overlap
            iv = self.interval
            k = int(t0 // iv)
            while t0 < t:
                edge = min(t, (k + 1) * iv)
                self.area[(key, k)] = self.area.get((key, k), 0.0) + level * (edge - t0)
                t0 = edge
                k += 1
        self.since[key] = t

    def change(self, key: str, delta: int, t: float) -> None:
        """The level of ``key`` changes by ``delta`` at time ``t``."""
        self._accumulate(key, t)
        new = self.level.get(key, 0) + delta
        self.level[key] = new
        pk = (key, int(t // self.interval))
        if new > self.peak.get(pk, 0):
            self.peak[pk] = new

    def close(self, t: float) -> None:
        """Account every level up to ``t`` (call once at the end of the run)."""
        for key in list(self.level):
            self._accumulate(key, t)

    def frame(self) -> pd.DataFrame:
        """Columns: key, interval, mean level over the interval, max level."""
        keys = sorted(set(self.area) | set(self.peak))
        iv = self.interval
        rows = [(k, i, self.area.get((k, i), 0.0) / iv, self.peak.get((k, i), 0)) for k, i in keys]
        return pd.DataFrame(rows, columns=["key", "interval", "mean", "max"])


def t_interval(
    values: Sequence[float] | np.ndarray, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Mean and two-sided Student-t confidence interval across replications.

    One replication gives an infinitely wide interval: a single run is not an
    estimate (DESIGN.md §5).
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return (math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if n == 1:
        return (mean, -math.inf, math.inf)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return (mean, mean - half, mean + half)
