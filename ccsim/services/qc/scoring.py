"""Pure QC arithmetic: scorecard totals and grades, review-queue sampling, spreads.

Kept free of the web and database layers so the rules are easy to read and test.

Total of an evaluation (documented in ``docs/qc.md``)::

    w_i   = item weight x section weight
    total = 100 x sum(w_i * points_i / max_i) / sum(w_i)     over applicable items

Items scored "not applicable" (``points`` = None) leave numerator *and*
denominator. The total is rounded to two decimals and the grade is the first
threshold (highest ``min_total`` first) that the rounded total reaches. An
instant-fail item scored 0 fails the whole evaluation: total 0, grade ``F``.
"""

from __future__ import annotations

import hashlib
import math
import random
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FAIL_GRADE",
    "ItemRule",
    "ScoreError",
    "Spread",
    "draw_sample",
    "grade_for",
    "period_seed",
    "score",
    "spread",
]

#: Grade of an evaluation with a failed instant-fail item.
FAIL_GRADE = "F"


class ScoreError(ValueError):
    """Item scores that do not fit the scorecard; ``reason`` is the API error code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ItemRule:
    """One item of a scorecard version, flattened out of its section."""

    key: str
    section: str
    max_points: float
    weight: float  # item weight x section weight
    instant_fail: bool
    allow_na: bool


def items_of(definition: Mapping[str, Any]) -> list[ItemRule]:
    """The items of a stored definition in order, with effective weights."""
    return [
        ItemRule(
            key=it["key"],
            section=sec["name"],
            max_points=float(it["max_points"]),
            weight=float(it["weight"]) * float(sec["weight"]),
            instant_fail=bool(it["instant_fail"]),
            allow_na=bool(it["allow_na"]),
        )
        for sec in definition["sections"]
        for it in sec["items"]
    ]


def grade_for(total: float, thresholds: Sequence[Mapping[str, Any]]) -> str:
    """The grade of the highest threshold reached (a 0 threshold always exists)."""
    for th in sorted(thresholds, key=lambda t: -float(t["min_total"])):
        if total >= float(th["min_total"]):
            return str(th["grade"])
    raise ScoreError("invalid_scorecard", "no threshold at 0")  # pragma: no cover


def score(definition: Mapping[str, Any], points: Mapping[str, float | None]) -> tuple[float, str]:
    """(total, grade) of ``points`` (item key -> points or None for N/A) on ``definition``.

    Every item must be scored exactly once; points must be finite and within
    0..max; N/A only where the item allows it; at least one item applicable.
    """
    rules = items_of(definition)
    keys = {r.key for r in rules}
    unknown = sorted(set(points) - keys)
    if unknown:
        raise ScoreError("unknown_item", f"not on this scorecard version: {unknown}")
    missing = [r.key for r in rules if r.key not in points]
    if missing:
        raise ScoreError("missing_item", f"items not scored: {missing}")
    num = den = 0.0
    failed = False
    for r in rules:
        p = points[r.key]
        if p is None:
            if not r.allow_na:
                raise ScoreError("na_not_allowed", f"item {r.key} cannot be not applicable")
            continue
        if not math.isfinite(p) or p < 0 or p > r.max_points:
            raise ScoreError(
                "score_out_of_range", f"item {r.key}: {p} is outside 0..{r.max_points:g}"
            )
        if r.instant_fail and p == 0:
            failed = True
        num += r.weight * p / r.max_points
        den += r.weight
    if den == 0:
        raise ScoreError("nothing_applicable", "every item is not applicable")
    if failed:
        return 0.0, FAIL_GRADE
    total = round(100.0 * num / den, 2)
    return total, grade_for(total, definition["thresholds"])


def period_seed(period_start: str, period_end: str, salt: str = "") -> str:
    """A seed that depends only on the period (and an optional salt): reproducible draws."""
    return hashlib.sha256(f"{period_start}|{period_end}|{salt}".encode()).hexdigest()[:32]


def draw_sample(
    calls_by_agent: Mapping[int, Sequence[str]],
    seed: str,
    per_agent: int | None = None,
    share: float | None = None,
) -> dict[int, list[str]]:
    """k calls per agent (``per_agent``, or ``ceil(share x n)``), uniformly without replacement.

    Agents are visited in id order and each agent's calls sorted by call ID
    before drawing, so the result depends only on the calls and the seed, not
    on the order the database returns them in.
    """
    rng = random.Random(int(seed, 16))
    out: dict[int, list[str]] = {}
    for agent in sorted(calls_by_agent):
        calls = sorted(set(calls_by_agent[agent]))
        if per_agent is not None:
            k = min(per_agent, len(calls))
        else:
            assert share is not None
            k = min(len(calls), math.ceil(share * len(calls) - 1e-9))
        out[agent] = sorted(rng.sample(calls, k))
    return out


@dataclass(frozen=True)
class Spread:
    """Spread of one quantity across inspectors: n, min, max, range, mean, sample std."""

    n: int
    min: float | None
    max: float | None
    range: float | None
    mean: float | None
    stdev: float | None  # sample standard deviation (n - 1); None below two values


def spread(values: Sequence[float]) -> Spread:
    """The spread of ``values`` (empty -> all None)."""
    if not values:
        return Spread(0, None, None, None, None, None)
    lo, hi = min(values), max(values)
    sd = statistics.stdev(values) if len(values) >= 2 else None
    return Spread(len(values), lo, hi, hi - lo, statistics.fmean(values), sd)
