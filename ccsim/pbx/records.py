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
from typing import Any

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

#: One CDR row as stored: 87 bytes, packed (see ``CdrStore``).
CDR_DTYPE = np.dtype(
    [
        ("arrival", "f8"),
        ("ivr_start", "f8"),
        ("ivr_end", "f8"),
        ("offered", "f8"),
        ("answered_at", "f8"),
        ("ended", "f8"),
        ("wrap", "f8"),
        ("customer", "i8"),
        ("redial_of", "i8"),
        ("agent", "i4"),
        ("queue", "i2"),
        ("service", "i2"),
        ("entry_service", "i2"),
        ("attempt", "i2"),
        ("outcome", "i1"),
        ("priority", "i2"),
    ]
)


def categorical(codes: np.ndarray, names: Sequence[str]) -> pd.Categorical[str]:
    """Integer codes (-1 = missing) as a pandas categorical over ``names``."""
    return pd.Categorical.from_codes(codes.astype(np.int64), categories=pd.Index(list(names)))


class CdrStore:
    """Columnar call detail records: one packed row per attempt, written at its attempt id.

    Attempt ids are dense (0, 1, 2, ...) and each attempt is written once when
    it completes, so row ``i`` of the store is attempt ``i``: no sort, no
    per-field Python objects. The store grows by a quarter at a time, so its
    slack stays small on million-call runs.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self.n = 0
        self._a = np.zeros(capacity, dtype=CDR_DTYPE)

    def add(self, row: int, values: tuple[Any, ...]) -> None:
        """Store attempt ``row``; ``values`` in ``CDR_DTYPE`` field order."""
        a = self._a
        if row >= a.shape[0]:
            new = np.zeros(max(row + 1, a.shape[0] + a.shape[0] // 4 + 1024), dtype=CDR_DTYPE)
            new[: a.shape[0]] = a
            self._a = a = new
        a[row] = values
        if row >= self.n:
            self.n = row + 1

    @property
    def nbytes(self) -> int:
        """Bytes held by the store (capacity included)."""
        return int(self._a.nbytes)

    def frame(
        self, services: Sequence[str], agents: Sequence[str], queues: Sequence[str]
    ) -> pd.DataFrame:
        """The records as a DataFrame in attempt order, with derived wait/talk columns."""
        a = self._a[: self.n]
        data: dict[str, object] = {"attempt_id": np.arange(self.n, dtype=np.int64)}
        data["customer"] = a["customer"]
        data["attempt"] = a["attempt"]
        data["redial_of"] = a["redial_of"]
        data["entry_service"] = categorical(a["entry_service"], services)
        data["service"] = categorical(a["service"], services)
        data["priority"] = a["priority"]
        for c in ("arrival", "ivr_start", "ivr_end", "offered"):
            data[c] = a[c]
        data["queue"] = categorical(a["queue"], queues)
        data["answered_at"] = a["answered_at"]
        data["ended"] = a["ended"]
        data["agent"] = categorical(a["agent"], agents)
        data["outcome"] = categorical(a["outcome"], OUTCOMES)
        answered = ~np.isnan(a["answered_at"])
        wait_end = np.where(answered, a["answered_at"], a["ended"])
        data["wait"] = np.where(np.isnan(a["offered"]), np.nan, wait_end - a["offered"])
        data["talk"] = np.where(answered, a["ended"] - a["answered_at"], np.nan)
        data["wrap"] = a["wrap"]
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
COUNTER_INDEX = {name: i for i, name in enumerate(COUNTER_FIELDS)}


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
    """Time-weighted integrals of integer levels over fixed intervals, plus per-interval maxima.

    ``change`` is O(1), with no clock kept per key: the integral of a level
    over interval [a, b) is ``level(a)·(b − a) + Σ δ·(b − t)`` over the changes
    δ at times t inside it, so each change only adds ``δ·(b − t)`` to its
    interval and ``δ`` to that interval's net; ``frame`` and ``window_area``
    complete the sums. Keys are registered once (``key(name) -> id``) and then
    addressed by integer id, because ``change`` runs several times per call.
    """

    def __init__(self, interval: float, window: tuple[float, float] = (0.0, math.inf)) -> None:
        self.interval = interval
        #: the measured window [start, end): ``window_area`` integrates each level over it exactly
        self.window = window
        self.names: list[str] = []
        self._ids: dict[str, int] = {}
        self.level: list[int] = []
        self._win: list[float] = []
        self._partial: list[list[float]] = []  # [key][interval]: Σ δ·(interval end − t)
        self._net: list[list[int]] = []  # [key][interval]: Σ δ
        self._peak: list[list[int]] = []  # [key][interval]: max level right after a change
        self.end = math.inf

    def key(self, name: str) -> int:
        """The id of level ``name`` (registered on first use)."""
        k = self._ids.get(name)
        if k is None:
            k = self._ids[name] = len(self.names)
            self.names.append(name)
            self.level.append(0)
            self._win.append(0.0)
            self._partial.append([])
            self._net.append([])
            self._peak.append([])
        return k

    def change(self, k: int, delta: int, t: float) -> None:
        """The level of key id ``k`` changes by ``delta`` at time ``t`` (non-decreasing)."""
        iv = self.interval
        i = int(t // iv)
        partial = self._partial[k]
        if len(partial) <= i:
            grow = i + 1 - len(partial)
            partial.extend([0.0] * grow)
            self._net[k].extend([0] * grow)
            self._peak[k].extend([0] * grow)
        partial[i] += delta * ((i + 1) * iv - t)
        self._net[k][i] += delta
        level = self.level[k] + delta
        self.level[k] = level
        peak = self._peak[k]
        peak[i] = max(peak[i], level)
        w0, w1 = self.window
        if t < w1:
            self._win[k] += delta * (w1 - (t if t > w0 else w0))

    def close(self, t: float) -> None:
        """The run ended at ``t``: levels still up count until then, not beyond."""
        self.end = t
        for k in range(len(self.names)):
            if self.level[k]:
                self.change(k, -self.level[k], t)

    @property
    def window_area(self) -> dict[str, float]:
        """Level x seconds of each key over the measured window (after ``close``)."""
        return dict(zip(self.names, self._win, strict=True))

    def frame(self) -> pd.DataFrame:
        """Columns: key, interval, mean level over the interval, max level (after ``close``)."""
        iv = self.interval
        rows = []
        for k, name in enumerate(self.names):
            level = 0
            for i, (part, net, peak) in enumerate(
                zip(self._partial[k], self._net[k], self._peak[k], strict=True)
            ):
                if i * iv >= self.end:
                    break  # the run was over before this interval began
                area = level * iv + part
                top = max(peak, level)
                level += net
                if area or top:
                    rows.append((name, i, area / iv, top))
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
