"""``ccsim demo`` (``make demo``): the main job on the built-in operator hotline.

Erlang staffing for the example day, then the hotline scenario (IVR,
several skills, VIP priority, overflow between groups) simulated with
replications, an overflow study, and the capacity report (HTML + PDF).
``--staffing-only`` prints just the staffing table; ``--quick`` runs a small
configuration (a few hours, fewer replications).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ccsim.commands._table import Column, integer, num, pct, render_frame, time_labels
from ccsim.commands.report import build
from ccsim.commands.staff import describe, format_summary
from ccsim.planning.examples import example_day
from ccsim.planning.staffing import (
    QueueModel,
    ServiceLevelTarget,
    Target,
    daily_summary,
    staff_intervals,
)
from ccsim.scenario import example

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
    Column("occupancy", "occ %", pct(1)),
    Column("agents_a", "agents(A)", integer),
    Column("abandon_a", "aband(A) %", pct(1)),
)


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "demo",
        help="staffing table for a built-in example day",
        description=(
            "Interval staffing for a built-in day at a provincial mobile operator's hotline: "
            "48 half-hour intervals, about 25,000 calls, AHT about 240 s, target 80% answered "
            "within 20 s, 30% shrinkage. The agents(A) columns repeat the requirement with "
            "Erlang A (callers hang up after 120 s on average)."
        ),
    )
    p.add_argument("--staffing-only", action="store_true", help="only the Erlang staffing table")
    p.add_argument("--quick", action="store_true", help="a small, fast configuration")
    p.add_argument(
        "--out", default="demo-report", metavar="DIR", help="report folder (demo-report)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    day = example_day()
    targets: list[Target] = [ServiceLevelTarget(fraction=0.8, within=20.0)]
    table = staff_intervals(day, targets, model=QueueModel.ERLANG_C, shrinkage=0.3)
    with_abandon = staff_intervals(day, targets, model=QueueModel.ERLANG_A, shrinkage=0.3)
    view = table.copy()
    view["time"] = time_labels(view["interval_start"])
    view["agents_a"] = with_abandon["agents"]
    view["abandon_a"] = with_abandon["abandon"]
    date = day["interval_start"].iloc[0].strftime("%A %Y-%m-%d")
    print(f"ccsim demo - example day at a provincial mobile-operator hotline ({date})")
    print(describe(table, targets))
    print()
    print(render_frame(view, TABLE))
    print()
    print(format_summary(daily_summary(table)))
    a = daily_summary(with_abandon)
    print(
        f"with Erlang A (mean patience 120 s): {a['agent_hours']:,.1f} agent hours on the phones "
        f"({a['agent_hours'] - daily_summary(table)['agent_hours']:+,.1f}), "
        f"{100 * a['abandon']:.1f}% abandoned"
    )
    if getattr(args, "staffing_only", False):
        return 0
    print()
    print("simulating the hotline scenario (IVR, 4 skills, VIP priority, overflow) ...")
    quick = getattr(args, "quick", False)
    content = build(
        example("hotline"),
        Path(getattr(args, "out", "demo-report")),
        replications=2 if quick else 4,
        seed=1,
        horizon_hours=6.0 if quick else 24.0,
        multipliers=[1.0, 1.4] if quick else [0.8, 1.0, 1.2, 1.4],
        study_replications=1 if quick else 2,
        processes=2,
    )
    print()
    print("\n".join(f"- {line}" for line in content.summary))
    print(f"capacity report: {content.html_path} and {content.pdf_path}")
    return 0
