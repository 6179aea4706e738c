"""``ccsim staff FORECAST.csv --target 80/20 ...``: interval staffing from a forecast file."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import pandas as pd

from ccsim.cli import CliError
from ccsim.commands._table import Column, fraction, integer, num, pct, render_frame, time_labels
from ccsim.planning.erlang import ServiceLevelDefinition
from ccsim.planning.staffing import (
    AbandonmentTarget,
    AsaTarget,
    ForecastError,
    OccupancyTarget,
    QueueModel,
    ServiceLevelTarget,
    Target,
    daily_summary,
    parse_service_level,
    parse_starts,
    staff_intervals,
)

#: Accepted header spellings, mapped to the names ``staff_intervals`` expects.
ALIASES = {
    "interval_start": "interval_start",
    "start": "interval_start",
    "time": "interval_start",
    "interval": "interval_start",
    "offered": "offered",
    "calls": "offered",
    "aht": "aht",
    "patience": "patience",
}

TABLE = (
    Column("time", "start", str),
    Column("offered", "calls", integer),
    Column("aht", "aht s", num(0)),
    Column("load", "erlangs", num(1)),
    Column("agents", "agents", integer),
    Column("agents_fractional", "exact", num(2)),
    Column("scheduled", "sched", integer),
    Column("sqrt_agents", "sqrt", integer),
    Column("service_level", "SL %", pct(1)),
    Column("asa", "ASA s", num(1)),
    Column("abandon", "aband %", pct(1)),
    Column("occupancy", "occ %", pct(1)),
)


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "staff",
        help="agents needed per interval for a forecast CSV",
        description=(
            "Minimum agents per interval meeting every target, from a CSV with columns "
            "interval_start, offered (calls in the interval), aht (seconds) and optionally "
            "patience (mean seconds, for --model a)."
        ),
    )
    p.add_argument("forecast", type=Path, metavar="FORECAST.csv")
    p.add_argument("--target", metavar="PCT/SECS", help="service level, e.g. 80/20")
    p.add_argument(
        "--sl-definition",
        choices=[d.value for d in ServiceLevelDefinition],
        default=ServiceLevelDefinition.OFFERED.value,
        help="service-level denominator (default: offered)",
    )
    p.add_argument("--max-asa", type=float, metavar="SECS", help="maximum average speed of answer")
    p.add_argument(
        "--max-abandon", metavar="FRACTION", help="maximum abandonment, e.g. 5%% (model a)"
    )
    p.add_argument("--max-occupancy", metavar="FRACTION", help="maximum occupancy, e.g. 85%%")
    p.add_argument(
        "--model", choices=["c", "a"], default="c", help="Erlang C (no abandonment) or Erlang A"
    )
    p.add_argument("--patience", type=float, metavar="SECS", help="mean patience for --model a")
    p.add_argument(
        "--shrinkage", default="0", metavar="FRACTION", help="e.g. 0.3 or 30%% (default 0)"
    )
    p.add_argument(
        "--interval", type=float, metavar="SECS", help="interval length (default: from the starts)"
    )
    p.add_argument("--out", type=Path, metavar="FILE.csv", help="also write the full table here")
    p.set_defaults(func=run)


def targets_from_args(args: argparse.Namespace) -> list[Target]:
    """Build targets from the shared target options (also used by ``ccsim erlang``)."""
    targets: list[Target] = []
    if args.target is not None:
        try:
            frac, secs = parse_service_level(args.target)
        except ValueError as exc:
            raise CliError(f"--target: {exc}") from None
        targets.append(ServiceLevelTarget(frac, secs, ServiceLevelDefinition(args.sl_definition)))
    if args.max_asa is not None:
        if not (args.max_asa > 0 and math.isfinite(args.max_asa)):
            raise CliError(f"--max-asa: must be > 0 seconds, got {args.max_asa}")
        targets.append(AsaTarget(args.max_asa))
    if args.max_abandon is not None:
        if args.model != "a":
            raise CliError("--max-abandon needs --model a (Erlang C has no abandonment)")
        targets.append(AbandonmentTarget(fraction(args.max_abandon, "--max-abandon")))
    if args.max_occupancy is not None:
        targets.append(OccupancyTarget(fraction(args.max_occupancy, "--max-occupancy")))
    if not targets:
        raise CliError(
            "give at least one target: --target, --max-asa, --max-abandon or --max-occupancy"
        )
    return targets


def read_forecast(path: Path) -> pd.DataFrame:
    """Read a forecast CSV, normalising header spellings; errors name the file."""
    try:
        df = pd.read_csv(path, skipinitialspace=True)
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CliError(f"{path}: not a readable CSV file ({exc})") from None
    renamed: dict[str, str] = {}
    for col in df.columns:
        key = str(col).strip().lower()
        if key in ALIASES and ALIASES[key] not in renamed.values():
            renamed[col] = ALIASES[key]
    df = df.rename(columns=renamed)
    if df.empty:
        raise CliError(f"{path}: no data rows")
    if "interval_start" in df.columns:  # times print as HH:MM when they parse
        stamps = parse_starts(df["interval_start"])
        if stamps is not None:
            df["interval_start"] = stamps
    return df


def run(args: argparse.Namespace) -> int:
    targets = targets_from_args(args)
    shrinkage = fraction(args.shrinkage, "--shrinkage", allow_zero=True)
    if shrinkage >= 1:
        raise CliError("--shrinkage: must be below 100%")
    if args.patience is not None and not (args.patience > 0):
        raise CliError(f"--patience: must be > 0 seconds, got {args.patience}")
    if args.interval is not None and not (args.interval > 0 and math.isfinite(args.interval)):
        raise CliError(f"--interval: must be > 0 seconds, got {args.interval}")
    df = read_forecast(args.forecast)
    try:
        table = staff_intervals(
            df,
            targets,
            model=QueueModel(args.model),
            shrinkage=shrinkage,
            patience=args.patience,
            interval=args.interval,
        )
    except ForecastError as exc:
        if exc.row is not None:
            where = f"line {exc.row + 2} (data row {exc.row + 1}), column {exc.column!r}"
            raise CliError(f"{args.forecast}: {where}: {exc.detail}") from None
        raise CliError(f"{args.forecast}: {exc}") from None
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print(describe(table, targets))
    print()
    print(format_table(table))
    print()
    print(format_summary(daily_summary(table)))
    if args.out is not None:
        try:
            table.to_csv(args.out, index=False)
        except OSError as exc:
            raise CliError(f"--out: cannot write {args.out}: {exc.strerror}") from None
        print(f"\nwrote {args.out}")
    return 0


def describe(table: pd.DataFrame, targets: list[Target]) -> str:
    """One line saying which model, targets and shrinkage produced the table."""
    model = "Erlang A (abandonment)" if table.attrs["model"] == "a" else "Erlang C"
    parts = []
    for t in targets:
        if isinstance(t, ServiceLevelTarget):
            parts.append(
                f"{100 * t.fraction:g}% answered within {t.within:g} s ({t.definition.value})"
            )
        elif isinstance(t, AsaTarget):
            parts.append(f"ASA <= {t.seconds:g} s")
        elif isinstance(t, AbandonmentTarget):
            parts.append(f"abandonment <= {100 * t.fraction:g}%")
        else:
            parts.append(f"occupancy <= {100 * t.fraction:g}%")
    return (
        f"{model}; targets: {', '.join(parts)}; shrinkage {100 * table.attrs['shrinkage']:g}%; "
        f"intervals of {table.attrs['interval'] / 60:g} min"
    )


def format_table(table: pd.DataFrame) -> str:
    view = table.copy()
    if "interval_start" in view.columns:
        view["time"] = time_labels(view["interval_start"])
    else:
        view["time"] = [str(i + 1) for i in range(len(view))]
    return render_frame(view, TABLE)


def format_summary(s: dict[str, float]) -> str:
    lines = [
        f"calls offered        {s['offered']:,.0f}",
        f"peak agents          {s['peak_agents']:.0f} on the phones, "
        f"{s['peak_scheduled']:.0f} scheduled",
        f"agent hours          {s['agent_hours']:,.1f} on the phones, "
        f"{s['scheduled_hours']:,.1f} scheduled",
    ]
    if "service_level" in s:
        lines.append(f"service level        {100 * s['service_level']:.1f}% (call-weighted)")
    if "asa" in s:
        lines.append(f"ASA                  {s['asa']:.1f} s")
    if "abandon" in s:
        lines.append(f"abandoned            {100 * s['abandon']:.1f}%")
    if "occupancy" in s:
        lines.append(f"occupancy            {100 * s['occupancy']:.1f}%")
    return "daily summary\n" + "\n".join(lines)
