"""``ccsim schedule REQUIREMENT.csv``: agents per shift pattern at minimum cost (MILP)."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from ccsim.cli import CliError
from ccsim.commands._table import Column, fraction, integer, num, pct, render_frame
from ccsim.commands.run import load_scenario_arg
from ccsim.commands.staff import read_forecast
from ccsim.planning.scheduling import (
    Schedule,
    ScheduleError,
    ShiftPattern,
    load_patterns,
    pattern_grid,
    schedule_shifts,
    simulate_schedule,
)

PATTERNS = (
    Column("pattern", "pattern", str),
    Column("start", "start", str),
    Column("end", "end", str),
    Column("days_worked", "days", integer),
    Column("paid_hours", "paid h", num(2)),
    Column("agents", "agents", integer),
    Column("cost", "cost", num(1)),
)
COVERAGE = (
    Column("interval", "interval", str),
    Column("required", "on phone", num(1)),
    Column("needed", "needed", num(1)),
    Column("scheduled", "scheduled", num(1)),
    Column("over", "over", num(1)),
)


def _hours(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of hours: {text!r}") from None
    if not values or any(not (0 < v <= 24) for v in values):
        raise argparse.ArgumentTypeError(f"shift lengths must be in (0, 24] hours, got {text!r}")
    return values


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "schedule",
        help="shift schedule covering a staffing requirement at minimum cost",
        description=(
            "Choose how many agents work each shift pattern so that every interval of "
            "REQUIREMENT.csv is covered at minimum cost (an integer program solved by HiGHS). "
            "REQUIREMENT.csv has interval_start and agents on the phones per interval, e.g. "
            "the output of 'ccsim staff --out'. Patterns come from --patterns FILE.toml or "
            "from the rule options (a start every --every minutes from --first-start to "
            "--last-start, lengths --hours)."
        ),
    )
    p.add_argument("requirement", type=Path, metavar="REQUIREMENT.csv")
    p.add_argument(
        "--column", default=None,
        help="requirement column (default: 'agents', else 'required')",
    )  # fmt: skip
    p.add_argument("--patterns", type=Path, metavar="PATTERNS.toml", help="shift patterns file")
    p.add_argument("--first-start", default="06:00", metavar="HH:MM", help="rule: first start")
    p.add_argument("--last-start", default="14:00", metavar="HH:MM", help="rule: last start")
    p.add_argument("--every", type=float, default=30.0, metavar="MIN", help="rule: start spacing")
    p.add_argument("--hours", type=_hours, default=[8.0, 6.0, 4.0], metavar="H,H,...",
                   help="rule: shift lengths (default 8,6,4)")  # fmt: skip
    p.add_argument(
        "--breaks", choices=["window", "fixed", "both", "none"], default="window",
        help="rule: standard breaks placed by the solver (window), fixed, both variants, none",
    )  # fmt: skip
    p.add_argument("--days", choices=["all", "5of7"], default="all",
                   help="rule: work every day, or 5 consecutive days of 7")  # fmt: skip
    p.add_argument("--max-agents", type=int, metavar="N", help="rule: cap per pattern")
    p.add_argument("--shrinkage", default="0", metavar="FRACTION", help="e.g. 0.3 or 30%%")
    p.add_argument("--min-part-time", default=None, metavar="FRACTION",
                   help="minimum share of agents on part-time (< 6 h) patterns")  # fmt: skip
    p.add_argument("--max-part-time", default=None, metavar="FRACTION",
                   help="maximum share of agents on part-time (< 6 h) patterns")  # fmt: skip
    p.add_argument("--interval", type=float, metavar="SECS", help="interval length if no times")
    p.add_argument("--time-limit", type=float, default=60.0, metavar="SECS", help="solver limit")
    p.add_argument("--gap", type=float, default=0.005, metavar="FRACTION",
                   help="relative optimality gap to stop at (default 0.005)")  # fmt: skip
    p.add_argument("--out", type=Path, metavar="FILE.csv", help="write the shifts (roster) here")
    p.add_argument("--coverage-out", type=Path, metavar="FILE.csv",
                   help="write coverage vs requirement per interval here")  # fmt: skip
    p.add_argument(
        "--check", metavar="SCENARIO",
        help="simulate SCENARIO (TOML file or example name) with the scheduled staffing",
    )  # fmt: skip
    p.add_argument("--group", help="--check: the agent group that works the schedule")
    p.add_argument("--day", type=int, default=None, metavar="N",
                   help="--check: day of a multi-day schedule to simulate (0 = first)")  # fmt: skip
    p.add_argument("--replications", type=int, default=5, help="--check: replications")
    p.add_argument("--seed", type=int, default=0, help="--check: random seed")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _patterns(args: argparse.Namespace) -> tuple[list[ShiftPattern], dict[str, float]]:
    if args.patterns is not None:
        return load_patterns(args.patterns)
    if not (args.every > 0 and math.isfinite(args.every)):
        raise CliError(f"--every: must be > 0 minutes, got {args.every}")
    try:
        pats = pattern_grid(
            first_start=args.first_start, last_start=args.last_start, every=args.every * 60.0,
            hours=args.hours, breaks=args.breaks, days=args.days, max_agents=args.max_agents,
        )  # fmt: skip
    except ValueError as exc:
        raise CliError(f"pattern rules: {exc}") from None
    return pats, {}


def run(args: argparse.Namespace) -> int:
    shrinkage = fraction(args.shrinkage, "--shrinkage", allow_zero=True)
    if shrinkage >= 1:
        raise CliError("--shrinkage: must be below 100%")
    if args.time_limit <= 0 or not math.isfinite(args.time_limit):
        raise CliError(f"--time-limit: must be > 0 seconds, got {args.time_limit}")
    if not (0 <= args.gap < 1):
        raise CliError(f"--gap: must be in [0, 1), got {args.gap}")
    try:
        patterns, limits = _patterns(args)
    except ScheduleError as exc:
        raise CliError(str(exc)) from None
    for key in ("min_part_time", "max_part_time"):
        text = getattr(args, key)
        if text is not None:
            limits[key] = fraction(text, "--" + key.replace("_", "-"), allow_zero=True)
    df = read_forecast(args.requirement)
    column = args.column or ("agents" if "agents" in df.columns else "required")
    bar = tqdm(total=4, desc="schedule", file=sys.stderr, disable=args.quiet or None)

    def progress(steps: Any) -> Any:
        for step in steps:
            bar.set_postfix_str(step)
            yield step
            bar.update()

    try:
        schedule = schedule_shifts(
            df, patterns, column=column, interval=args.interval, shrinkage=shrinkage,
            min_part_time=limits.get("min_part_time", 0.0),
            max_part_time=limits.get("max_part_time", 1.0),
            time_limit=args.time_limit, mip_gap=args.gap, progress=progress,
        )  # fmt: skip
    except ScheduleError as exc:
        raise CliError(f"{args.requirement}: {exc}") from None
    finally:
        bar.close()
    print(describe(schedule, len(patterns)))
    print()
    print(render_frame(schedule.patterns, PATTERNS))
    print()
    print(format_coverage(schedule))
    if args.check is not None:
        print()
        print(check(schedule, args))
    for path, frame in ((args.out, schedule.shifts), (args.coverage_out, schedule.coverage)):
        if path is not None:
            try:
                frame.to_csv(path, index=False)
            except OSError as exc:
                raise CliError(f"cannot write {path}: {exc.strerror}") from None
            print(f"\nwrote {path}")
    return 0


def describe(s: Schedule, n_patterns: int) -> str:
    sm = s.summary()
    return "\n".join(
        [
            f"solver: {s.status} in {s.seconds:.1f} s (gap {100 * s.gap:.2f}%, "
            f"{n_patterns} candidate patterns)",
            f"agents scheduled: {s.agents}; cost {s.cost:,.1f} (lower bound {s.bound:,.1f})",
            f"paid hours {s.paid_hours:,.1f}; needed {sm['needed_hours']:,.1f} agent hours "
            f"(shrinkage {100 * s.shrinkage:g}%); over-staffing {sm['over_hours']:,.1f} h",
        ]
    )


def format_coverage(s: Schedule) -> str:
    """Coverage per interval for up to two days; per-day totals for longer grids."""
    cov = s.coverage
    if len(cov) <= 96:
        return render_frame(cov, COVERAGE)
    hours = s.interval / 3600.0
    g = cov.groupby("day").agg(
        first=("interval", "first"),
        needed=("needed", "sum"),
        scheduled=("scheduled", "sum"),
        over=("over", "sum"),
        min_over=("over", "min"),
    )
    view = pd.DataFrame(
        {
            "interval": [str(v)[:14] for v in g["first"]],
            "needed": g["needed"] * hours,
            "scheduled": g["scheduled"] * hours,
            "over": g["over"] * hours,
        }
    )
    cols = (
        Column("interval", "day", str),
        Column("needed", "needed h", num(1)),
        Column("scheduled", "scheduled h", num(1)),
        Column("over", "over h", num(1)),
    )
    return render_frame(view, cols)


CHECK = (
    Column("start", "start", str),
    Column("offered", "calls", num(1)),
    Column("sl", "SL %", pct(1)),
    Column("sl_low", "low", pct(1)),
    Column("sl_high", "high", pct(1)),
    Column("asa", "ASA s", num(1)),
    Column("abandon_rate", "aband %", pct(1)),
    Column("verdict", "target", str),
)


def check(schedule: Schedule, args: argparse.Namespace) -> str:
    """Simulate the scenario with the scheduled staffing; per-interval SL against its target."""
    if args.replications < 1:
        raise CliError(f"--replications: must be >= 1, got {args.replications}")
    scenario = load_scenario_arg(args.check)
    bar = tqdm(total=args.replications, desc="simulation", file=sys.stderr,
               disable=args.quiet or None)  # fmt: skip

    def progress(it: Any) -> Any:
        for item in it:
            yield item
            bar.update()

    try:
        table = simulate_schedule(
            schedule, scenario, group=args.group, day=args.day, seed=args.seed,
            replications=args.replications, progress=progress,
        )  # fmt: skip
    except (ScheduleError, ValueError) as exc:
        raise CliError(f"--check: {exc}") from None
    finally:
        bar.close()
    if table.empty:
        return f"simulation of {args.check}: no calls arrived"
    target = float(table["sl_target"].iloc[0])
    table = table.assign(verdict=["ok" if m else "MISSED" for m in table["meets"]])
    met = int(table["meets"].sum())
    head = (
        f"simulation of {args.check} with the scheduled agents ({args.replications} "
        f"replications): {met} of {len(table)} intervals meet SL {100 * target:g}% (mean)"
    )
    return head + "\n\n" + render_frame(table, CHECK)
