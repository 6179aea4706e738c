"""The pure QC rules: totals and grades by hand, sampling fairness and reproducibility,
spread statistics and report buckets."""

from __future__ import annotations

import math
import random
from datetime import datetime
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccsim.services.qc import reports, scoring
from ccsim.services.qc.schemas import DefinitionIn

DEFINITION = DefinitionIn.model_validate(
    {
        "sections": [
            {
                "name": "s1",
                "weight": 3,
                "items": [
                    {"key": "a", "label": "a", "max_points": 4, "weight": 1},
                    {"key": "b", "label": "b", "max_points": 1, "instant_fail": True},
                ],
            },
            {
                "name": "s2",
                "items": [{"key": "c", "label": "c", "max_points": 20, "weight": 0.5}],
            },
        ],
        "thresholds": [
            {"grade": "Good", "min_total": 80},
            {"grade": "OK", "min_total": 50},
            {"grade": "Poor", "min_total": 0},
        ],
    }
).model_dump()


def test_totals_by_hand() -> None:
    # weights a 3, b 3, c 0.5: (3*3/4 + 3*1 + 0.5*10/20) / 6.5 = 5.5/6.5 = 84.62
    assert scoring.score(DEFINITION, {"a": 3, "b": 1, "c": 10}) == (84.62, "Good")
    # c not applicable: (2.25 + 3) / 6 = 87.5
    assert scoring.score(DEFINITION, {"a": 3, "b": 1, "c": None}) == (87.5, "Good")
    # a 0, c 0: 3 / 6.5 = 46.15 -> Poor; exactly 50 is OK: a 1 -> (0.75+3)/6.5 = 57.69
    assert scoring.score(DEFINITION, {"a": 0, "b": 1, "c": 0}) == (46.15, "Poor")
    assert scoring.score(DEFINITION, {"a": 1, "b": 1, "c": 0}) == (57.69, "OK")
    # the instant-fail item at 0 fails everything
    assert scoring.score(DEFINITION, {"a": 4, "b": 0, "c": 20}) == (0.0, "F")
    assert scoring.grade_for(80.0, DEFINITION["thresholds"]) == "Good"
    assert scoring.grade_for(79.99, DEFINITION["thresholds"]) == "OK"


@pytest.mark.parametrize(
    ("points", "reason"),
    [
        ({"a": 5, "b": 1, "c": 0}, "score_out_of_range"),
        ({"a": -0.1, "b": 1, "c": 0}, "score_out_of_range"),
        ({"a": math.nan, "b": 1, "c": 0}, "score_out_of_range"),
        ({"a": math.inf, "b": 1, "c": 0}, "score_out_of_range"),
        ({"a": 1, "b": 1}, "missing_item"),
        ({"a": 1, "b": 1, "c": 1, "d": 1}, "unknown_item"),
        ({"a": None, "b": None, "c": None}, "nothing_applicable"),
    ],
)
def test_bad_scores_are_refused(points: dict[str, float | None], reason: str) -> None:
    with pytest.raises(scoring.ScoreError) as info:
        scoring.score(DEFINITION, points)
    assert info.value.reason == reason


def test_sample_is_reproducible_and_order_independent() -> None:
    calls = {7: [f"c{i:02d}" for i in range(12)], 3: ["x1", "x2"], 9: ["y1"]}
    seed = scoring.period_seed("2026-03-02T00:00:00", "2026-03-09T00:00:00")
    first = scoring.draw_sample(calls, seed, per_agent=4)
    shuffled = {a: random.Random(1).sample(cs, len(cs)) for a, cs in reversed(calls.items())}
    assert scoring.draw_sample(shuffled, seed, per_agent=4) == first
    assert {a: len(cs) for a, cs in first.items()} == {3: 2, 7: 4, 9: 1}
    other = scoring.period_seed("2026-03-09T00:00:00", "2026-03-16T00:00:00")
    assert scoring.draw_sample(calls, other, per_agent=4) != first
    # shares round up: ceil(0.25 * 12) = 3, ceil(0.25 * 2) = 1, ceil(0.25 * 1) = 1
    by_share = scoring.draw_sample(calls, seed, share=0.25)
    assert {a: len(cs) for a, cs in by_share.items()} == {3: 1, 7: 3, 9: 1}


def test_sample_is_uniform_over_an_agents_calls() -> None:
    """Each of 10 calls is drawn (k=3) with probability 0.3: over 3000 seeds the counts
    stay within 4.5 binomial standard deviations (sd = sqrt(3000*0.3*0.7) = 25.1)."""
    calls = {1: [f"c{i}" for i in range(10)]}
    counts = dict.fromkeys(calls[1], 0)
    n = 3000
    for s in range(n):
        for c in scoring.draw_sample(calls, scoring.period_seed(str(s), "p"), per_agent=3)[1]:
            counts[c] += 1
    sd = math.sqrt(n * 0.3 * 0.7)
    assert all(abs(k - 0.3 * n) < 4.5 * sd for k in counts.values()), counts


def test_spread_by_hand() -> None:
    s = scoring.spread([2.0, 4.0, 9.0])
    # mean 5; squared deviations 9 + 1 + 16 = 26; sample variance 13
    assert (s.n, s.min, s.max, s.range, s.mean) == (3, 2.0, 9.0, 7.0, 5.0)
    assert s.stdev == pytest.approx(math.sqrt(13))
    assert scoring.spread([5.0]).stdev is None
    assert scoring.spread([]).n == 0


def test_report_buckets() -> None:
    t = datetime(2026, 1, 1, 12)  # a Thursday in ISO week 1 of 2026
    assert reports.bucket_of(t, "day") == "2026-01-01"
    assert reports.bucket_of(t, "week") == "2026-W01"
    assert reports.bucket_of(datetime(2027, 1, 1), "week") == "2026-W53"
    assert reports.bucket_of(t, "month") == "2026-01"
    rows = reports.summarise(
        [("x", t, 90.0, "A"), ("x", t, 70.0, "C"), ("y", datetime(2026, 2, 3), 50.0, "C")],
        "month",
    )
    assert rows == [
        {
            "group": "x",
            "bucket": "2026-01",
            "count": 2,
            "mean_total": 80.0,
            "grades": {"A": 1, "C": 1},
        },
        {"group": "y", "bucket": "2026-02", "count": 1, "mean_total": 50.0, "grades": {"C": 1}},
    ]


@st.composite
def _card_and_points(draw: Any) -> tuple[dict[str, Any], dict[str, float | None]]:
    sections = []
    points: dict[str, float | None] = {}
    for s in range(draw(st.integers(1, 3))):
        items = []
        for i in range(draw(st.integers(1, 4))):
            key = f"k{s}_{i}"
            item = {
                "key": key,
                "max_points": draw(st.integers(1, 20)),
                "weight": draw(st.integers(1, 5)),
                "instant_fail": draw(st.booleans()),
                "allow_na": draw(st.booleans()),
            }
            items.append(item)
            na = item["allow_na"] and draw(st.booleans())
            points[key] = None if na else draw(st.integers(0, item["max_points"]))
        sections.append({"name": f"s{s}", "weight": draw(st.integers(1, 3)), "items": items})
    thresholds = [{"grade": "A", "min_total": 90}, {"grade": "B", "min_total": 60}]
    thresholds.append({"grade": "C", "min_total": 0})
    return {"sections": sections, "thresholds": thresholds}, points


@settings(max_examples=200, deadline=None)
@given(_card_and_points())
def test_total_matches_exact_rational_arithmetic(case: Any) -> None:
    """The float total agrees with the formula evaluated in exact fractions."""
    card, points = case
    num = den = Fraction(0)
    failed = False
    for sec in card["sections"]:
        for it in sec["items"]:
            p = points[it["key"]]
            if p is None:
                continue
            w = Fraction(it["weight"] * sec["weight"])
            num += w * Fraction(p, it["max_points"])
            den += w
            failed = failed or (it["instant_fail"] and p == 0)
    if den == 0:
        with pytest.raises(scoring.ScoreError):
            scoring.score(card, points)
        return
    total, grade = scoring.score(card, points)
    if failed:
        assert (total, grade) == (0.0, "F")
        return
    assert abs(Fraction(total) - 100 * num / den) <= Fraction(5, 1000) + Fraction(1, 10**9)
    expected = "A" if total >= 90 else "B" if total >= 60 else "C"
    assert grade == expected
