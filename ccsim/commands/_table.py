"""Plain-text tables and value parsing shared by the planning commands."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ccsim.cli import CliError


@dataclass(frozen=True, slots=True)
class Column:
    """One printed column: source key, header and value formatter."""

    key: str
    header: str
    fmt: Callable[[Any], str]


def _finite(v: Any) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def num(decimals: int) -> Callable[[Any], str]:
    """Fixed decimals; NaN as '-', infinity as 'inf'."""

    def f(v: Any) -> str:
        if _finite(v):
            return f"{float(v):.{decimals}f}"
        return "inf" if v == math.inf else "-"

    return f


def pct(decimals: int = 1) -> Callable[[Any], str]:
    """A fraction printed as a percentage."""

    def f(v: Any) -> str:
        return f"{100 * float(v):.{decimals}f}" if _finite(v) else "-"

    return f


def integer(v: Any) -> str:
    return f"{int(v)}" if _finite(v) else "-"


def render(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column]) -> str:
    """Right-aligned fixed-width table with a header and a rule."""
    cells = [[c.fmt(r[c.key]) for c in columns] for r in rows]
    widths = [max([len(c.header)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.header.rjust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) for row in cells)
    return "\n".join(lines)


def render_frame(df: pd.DataFrame, columns: Sequence[Column]) -> str:
    present = [c for c in columns if c.key in df.columns]
    records: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()} for r in df.to_dict("records")
    ]
    return render(records, present)


def time_labels(starts: pd.Series) -> list[str]:
    """'HH:MM' when all starts fall on one day, else 'YYYY-MM-DD HH:MM'; text as given."""
    if pd.api.types.is_datetime64_any_dtype(starts):
        days = starts.dt.normalize().nunique()
        fmt = "%H:%M" if days <= 1 else "%Y-%m-%d %H:%M"
        return [t.strftime(fmt) for t in starts]
    return [str(v) for v in starts]


def fraction(text: str, name: str, *, allow_zero: bool = False) -> float:
    """Parse '30%' or '0.3' into 0.3; a user error names the option."""
    s = text.strip()
    try:
        value = float(s[:-1]) / 100 if s.endswith("%") else float(s)
    except ValueError:
        raise CliError(f"{name}: expected a fraction like 0.3 or 30%, got {text!r}") from None
    low_ok = value >= 0 if allow_zero else value > 0
    if not (low_ok and value <= 1 and math.isfinite(value)):
        raise CliError(f"{name}: must be between 0 and 1 (or 0% and 100%), got {text!r}")
    return value
