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
  duration across interval boundaries, and keeps each interval's maximum;
  changes are buffered in typed arrays and folded in with numpy in chunks.
"""

from __future__ import annotations

import math
from array import array
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


#: A buffered level change is one int64 code, ``delta * _KEY_SPAN + key id`` (see ``LevelTimes``).
_KEY_SPAN = 1 << 20


class LevelTimes:
    """Time-weighted integrals of integer levels over fixed intervals, plus per-interval maxima.

    The integral of a level over interval [a, b) is ``level(a)·(b − a) + Σ δ·(b − t)``
    over the changes δ at times t inside it, so each change only adds
    ``δ·(b − t)`` to its interval and ``δ`` to that interval's net; ``frame``
    and ``window_area`` complete the sums. Keys are registered once
    (``key(name) -> id``) and then addressed by integer id.

    ``change`` runs several times per simulated call, so it only appends the
    change to two typed buffers (time, and ``code(k, δ)``); every
    ``FOLD_EVERY`` changes (and before any result is read) the buffer is folded
    into the per-interval sums with numpy. The fold adds each change in the
    order it happened (``np.add.at`` is unbuffered and sequential), so the sums
    are bit-for-bit those of adding one change at a time, and memory stays
    bounded however long the run. A hot caller may append to ``times`` and
    ``codes`` itself (bound ``append`` methods, no call into this class) if it
    calls ``fold_if_full()`` regularly.
    """

    FOLD_EVERY = 1 << 13

    def __init__(self, interval: float, window: tuple[float, float] = (0.0, math.inf)) -> None:
        self.interval = interval
        #: the measured window [start, end): ``window_area`` integrates each level over it exactly
        self.window = window
        self.names: list[str] = []
        self._ids: dict[str, int] = {}
        #: pending changes, oldest first: time, and ``code(key, delta)``
        self.times = array("d")
        self.codes = array("q")
        self._level = np.zeros(0, dtype=np.int64)  # [key]: level after the folded changes
        self._win = np.zeros(0)  # [key]: level-seconds inside the window
        self._partial = np.zeros((0, 0))  # [key, interval]: Σ δ·(interval end − t)
        self._net = np.zeros((0, 0), dtype=np.int64)  # [key, interval]: Σ δ
        self._peak = np.zeros((0, 0), dtype=np.int64)  # [key, interval]: max level after a change
        self._used = np.zeros(0, dtype=np.int64)  # [key]: 1 + last interval with a change
        self.end = math.inf

    def key(self, name: str) -> int:
        """The id of level ``name`` (registered on first use)."""
        k = self._ids.get(name)
        if k is None:
            self.fold()
            k = self._ids[name] = len(self.names)
            self.names.append(name)
            self._level = np.append(self._level, 0)
            self._win = np.append(self._win, 0.0)
            self._used = np.append(self._used, 0)
            self._partial = np.vstack([self._partial, np.zeros((1, self._partial.shape[1]))])
            cols = self._net.shape[1]
            self._net = np.vstack([self._net, np.zeros((1, cols), dtype=np.int64)])
            self._peak = np.vstack([self._peak, np.zeros((1, cols), dtype=np.int64)])
        return k

    @staticmethod
    def code(k: int, delta: int) -> int:
        """The buffered form of "key ``k`` changes by ``delta``" (for ``codes``)."""
        return delta * _KEY_SPAN + k

    def change(self, k: int, delta: int, t: float) -> None:
        """The level of key id ``k`` changes by ``delta`` at time ``t`` (non-decreasing)."""
        self.times.append(t)
        self.codes.append(delta * _KEY_SPAN + k)
        if len(self.codes) >= self.FOLD_EVERY:
            self.fold()

    def fold_if_full(self) -> None:
        """Fold the buffer if it holds ``FOLD_EVERY`` changes or more (for direct appenders)."""
        if len(self.codes) >= self.FOLD_EVERY:
            self.fold()

    def fold(self) -> None:
        """Add the buffered changes to the per-interval sums, in the order they happened."""
        n = len(self.codes)
        if not n:
            return
        t = np.array(self.times, dtype=np.float64)
        code = np.array(self.codes, dtype=np.int64)
        # in place: hot callers hold the buffers' bound ``append`` methods
        del self.times[:]
        del self.codes[:]
        delta = code // _KEY_SPAN
        k = code - delta * _KEY_SPAN
        iv = self.interval
        i = (t // iv).astype(np.int64)  # numpy's float floor division is Python's
        need = int(i.max()) + 1
        cols = self._partial.shape[1]
        if need > cols:
            grow = max(need, 2 * cols) - cols
            rows = len(self.names)
            self._partial = np.hstack([self._partial, np.zeros((rows, grow))])
            self._net = np.hstack([self._net, np.zeros((rows, grow), dtype=np.int64)])
            self._peak = np.hstack([self._peak, np.zeros((rows, grow), dtype=np.int64)])
        w0, w1 = self.window
        with np.errstate(invalid="ignore", over="ignore"):
            # the same float operations, in the same order, as one change at a time
            np.add.at(self._partial, (k, i), delta * ((i + 1) * iv - t))
            inside = t < w1
            np.add.at(self._win, k[inside], (delta * (w1 - np.maximum(t, w0)))[inside])
        np.add.at(self._net, (k, i), delta)
        np.maximum.at(self._used, k, i + 1)
        # the level right after each change: a running sum per key (integers, exact)
        order = np.argsort(k, kind="stable")
        ks = k[order]
        run = np.cumsum(delta[order])
        first = np.flatnonzero(np.concatenate(([True], ks[1:] != ks[:-1])))
        last = np.append(first[1:], n) - 1
        lengths = last - first + 1
        before = np.concatenate(([0], run[first[1:] - 1]))
        level = run + np.repeat(self._level[ks[first]] - before, lengths)
        np.maximum.at(self._peak, (ks, i[order]), level)
        self._level[ks[first]] = level[last]

    @property
    def level(self) -> list[int]:
        """The current level of each key."""
        self.fold()
        return [int(v) for v in self._level]

    def close(self, t: float) -> None:
        """The run ended at ``t``: levels still up count until then, not beyond."""
        self.end = t
        for k, level in enumerate(self.level):
            if level:
                self.change(k, -level, t)
        self.fold()

    @property
    def window_area(self) -> dict[str, float]:
        """Level x seconds of each key over the measured window (after ``close``)."""
        self.fold()
        return dict(zip(self.names, self._win.tolist(), strict=True))

    def frame(self) -> pd.DataFrame:
        """Columns: key, interval, mean level over the interval, max level (after ``close``)."""
        self.fold()
        iv = self.interval
        rows = []
        for k, name in enumerate(self.names):
            used = int(self._used[k])
            level = 0
            for i, (part, net, peak) in enumerate(
                zip(
                    self._partial[k, :used].tolist(),
                    self._net[k, :used].tolist(),
                    self._peak[k, :used].tolist(),
                    strict=True,
                )
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
