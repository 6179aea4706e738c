"""``ccsim run SCENARIO``: simulate a scenario and print its KPIs with confidence intervals.

``SCENARIO`` is a TOML file, or the name of a shipped example (``hotline``,
``single_skill``). Replications are independent runs from one seed; the table
shows each KPI's mean and 95% confidence interval across them. ``--out DIR``
writes ``summary.csv``, ``intervals.csv`` and, unless ``--no-records``,
``cdr.csv`` and ``agent_states.csv``.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ccsim.cli import CliError
from ccsim.pbx.run import SimulationResult, simulate
from ccsim.scenario import Scenario, ScenarioError, example, example_names, load_scenario

_SHOWN = (
    ("offered", "offered", "{:,.0f}"),
    ("answered", "answered", "{:,.0f}"),
    ("abandon_rate", "abandon", "{:.1%}"),
    ("sl", "SL", "{:.1%}"),
    ("asa", "ASA s", "{:.1f}"),
    ("aht", "AHT s", "{:.0f}"),
)


def _load(spec: str) -> Scenario:
    path = Path(spec)
    if path.exists():
        return load_scenario(path)
    if spec in example_names():
        return example(spec)
    raise CliError(
        f"no scenario file {spec!r} (and no example of that name; examples: "
        f"{', '.join(example_names())})"
    )


def load_scenario_arg(spec: str) -> Scenario:
    """A scenario from a TOML path or an example name; every problem is a ``CliError``."""
    try:
        return _load(spec)
    except ScenarioError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"{spec}: cannot read: {exc.strerror}") from None


def _cell(fmt: str, mean: float, lo: float, hi: float) -> str:
    if math.isnan(mean):
        return "-"
    text = fmt.format(mean)
    if math.isfinite(lo) and math.isfinite(hi) and hi > lo:
        half = (hi - lo) / 2
        text += " ±" + fmt.format(half).lstrip()
    return text


def kpi_table(result: SimulationResult) -> str:
    """The per-service KPI table (means ± half-width of the 95% CI)."""
    summary = result.summary()
    services = [s.name for s in result.scenario.services]
    rows = [["service", *[label for _, label, _ in _SHOWN]]]
    for svc in [*services, "all"]:
        if f"{svc}.offered" not in summary.index or summary.loc[f"{svc}.offered", "mean"] == 0:
            continue
        row = [svc]
        for key, _, fmt in _SHOWN:
            name = f"{svc}.{key}"
            if name in summary.index:
                r = summary.loc[name]
                row.append(_cell(fmt, float(r["mean"]), float(r["ci_low"]), float(r["ci_high"])))
            else:
                row.append("-")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    extra = []
    for key, label in (
        ("all.occupancy", "occupancy"),
        ("all.trunk_utilisation", "trunk utilisation"),
        ("all.ivr_utilisation", "IVR port utilisation"),
    ):
        if key in summary.index:
            r = summary.loc[key]
            extra.append(f"{label}: {_cell('{:.1%}', r['mean'], r['ci_low'], r['ci_high'])}")
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:], "", *extra])


def _run(args: argparse.Namespace) -> int:
    scenario = load_scenario_arg(args.scenario)
    if args.scheduler is not None and args.processes != 1:
        raise CliError("give --scheduler or --processes, not both")
    progress: Any = None
    if args.replications > 1:

        def progress(it: Any) -> Any:
            return tqdm(it, total=args.replications, desc="replications", file=sys.stderr)

    try:
        result = simulate(
            scenario,
            seed=args.seed,
            replications=args.replications,
            horizon=args.horizon * 3600.0,
            warmup=args.warmup,
            interval=args.interval,
            record=not args.no_records,
            processes=args.processes,
            progress=progress,
            executor=args.scheduler,
            engine=args.engine,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    calls = sum(r.calls for r in result.replications)
    print(
        f"{scenario.name}: {args.replications} replication(s), seed {args.seed}, "
        f"horizon {args.horizon:g} h, warm-up {args.warmup:g} s, {calls:,} call attempts"
    )
    print(kpi_table(result))
    if args.out is not None:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        result.summary().to_csv(out / "summary.csv")
        result.interval_kpis().to_csv(out / "intervals.csv", index=False)
        if not args.no_records:
            result.cdr.to_csv(out / "cdr.csv", index=False)
            if args.engine == "full":  # the fast engine keeps no agent-state timeline
                result.agent_states.to_csv(out / "agent_states.csv", index=False)
        print(f"wrote {out}/")
    return 0


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "run",
        help="simulate a scenario (KPIs with confidence intervals)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("scenario", help="scenario TOML file or example name")
    p.add_argument("--replications", "-r", type=int, default=5, help="independent runs (5)")
    p.add_argument("--seed", "-s", type=int, default=0, help="root seed (0)")
    p.add_argument("--horizon", type=float, default=24.0, help="hours of arrivals (24)")
    p.add_argument("--warmup", type=float, default=0.0, help="seconds excluded from KPIs (0)")
    p.add_argument("--interval", type=float, default=1800.0, help="KPI interval seconds (1800)")
    p.add_argument("--processes", "-p", type=int, default=1, help="parallel processes (1)")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the replications on a Dask cluster, e.g. tcp://host:8786",
    )
    p.add_argument(
        "--engine",
        choices=("full", "fast"),
        default="full",
        help="full: the SimPy model with the ACD; fast: the compiled single-queue kernel",
    )
    p.add_argument("--no-records", action="store_true", help="stream KPIs only, keep no CDRs")
    p.add_argument("--out", metavar="DIR", help="write CSV outputs to DIR")
    p.set_defaults(func=_run)
