"""Score trends and grade distributions: evaluations grouped by (group, time bucket).

Aggregated in Python over the selected rows so the bucketing (day, ISO week
starting Monday, calendar month of the QC start time, UTC) is identical on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime

__all__ = ["bucket_of", "summarise"]


def bucket_of(t: datetime, bucket: str) -> str:
    """The label of the bucket holding ``t``: ``2026-03-02``, ``2026-W10`` or ``2026-03``."""
    if bucket == "day":
        return t.date().isoformat()
    if bucket == "week":
        year, week, _ = t.isocalendar()
        return f"{year}-W{week:02d}"
    if bucket == "month":
        return f"{t.year:04d}-{t.month:02d}"
    if bucket == "all":
        return "all"
    raise ValueError(f"unknown bucket {bucket!r}")


def summarise(
    rows: Iterable[tuple[str, datetime, float, str]], bucket: str
) -> list[dict[str, object]]:
    """(group, started_at, total, grade) rows -> one dict per (group, bucket), sorted."""
    acc: dict[tuple[str, str], list[tuple[float, str]]] = defaultdict(list)
    for group, t, total, grade in rows:
        acc[(group, bucket_of(t, bucket))].append((total, grade))
    out: list[dict[str, object]] = []
    for (group, label), vals in sorted(acc.items()):
        grades: Mapping[str, int] = _count(g for _, g in vals)
        out.append(
            {
                "group": group,
                "bucket": label,
                "count": len(vals),
                "mean_total": round(sum(v for v, _ in vals) / len(vals), 2),
                "grades": dict(sorted(grades.items())),
            }
        )
    return out


def _count(values: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for v in values:
        out[v] += 1
    return dict(out)
