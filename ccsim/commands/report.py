"""``ccsim report STUDY_OR_SCENARIO --out DIR``: the capacity report (HTML + PDF).

The argument is a scenario (TOML file or shipped example name): ccsim
simulates it, runs an overflow study and reports; or a folder written by
``OverflowStudy.save`` (e.g. by ``experiments/``): the saved study is used as it
is and only the baseline at forecast traffic is simulated. The report is
``DIR/index.html`` (self-contained) and ``DIR/report.pdf``; ``--expansion``
adds an expansion study (slow: it searches over simulated capacity options).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ccsim.cli import CliError
from ccsim.commands.run import _load, kpi_table
from ccsim.pbx.run import simulate
from ccsim.report import ReportContent, capacity_report
from ccsim.scenario import Scenario, ScenarioError
from ccsim.studies import OverflowStudy, expansion_study, load_study, overflow_study


def _multipliers(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of numbers: {text!r}"
        ) from None
    if not values or any(not v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"multipliers must be positive numbers, got {text!r}")
    return values


def build(
    scenario: Scenario,
    out: Path,
    *,
    replications: int,
    seed: int,
    horizon_hours: float,
    multipliers: list[float],
    study_replications: int,
    processes: int,
    expansion: bool = False,
    quiet: bool = False,
) -> ReportContent:
    """The whole job: baseline simulation, overflow study, optional expansion, report."""

    def bar(total: int, desc: str) -> Any:
        def progress(it: Any) -> Any:
            return tqdm(it, total=total, desc=desc, file=sys.stderr, disable=quiet or None)

        return progress

    horizon = horizon_hours * 3600.0
    result = simulate(
        scenario,
        seed=seed,
        replications=replications,
        horizon=horizon,
        record=False,
        processes=processes,
        progress=bar(replications, "simulation"),
    )
    if not quiet:
        print(kpi_table(result))
    study = overflow_study(
        scenario,
        multipliers,
        seed=seed,
        replications=study_replications,
        horizon=horizon,
        processes=processes,
        progress=bar(len(multipliers) * study_replications, "overflow study"),
    )
    exp = (
        expansion_study(
            scenario,
            seed=seed,
            replications=study_replications,
            horizon=horizon,
            processes=processes,
        )
        if expansion
        else None
    )
    return capacity_report(result, out, overflow=study, expansion=exp)


def _from_study(folder: Path, args: argparse.Namespace) -> ReportContent:
    study = load_study(folder)
    if not isinstance(study, OverflowStudy) or study.scenario is None:
        raise CliError(f"{folder}: not a saved overflow study with its scenario (scenario.json)")
    result = simulate(
        study.scenario,
        seed=args.seed,
        replications=args.replications,
        horizon=args.horizon * 3600.0,
        record=False,
        processes=args.processes,
    )
    print(kpi_table(result))
    return capacity_report(result, Path(args.out), overflow=study)


def _run(args: argparse.Namespace) -> int:
    folder = Path(args.scenario)
    if folder.is_dir() and (folder / "study.json").exists():
        try:
            content = _from_study(folder, args)
        except (ScenarioError, ValueError) as exc:
            raise CliError(str(exc)) from None
        print("\n".join(f"- {line}" for line in content.summary))
        print(f"report: {content.html_path} and {content.pdf_path}")
        return 0
    try:
        scenario = _load(args.scenario)
    except ScenarioError as exc:
        raise CliError(str(exc)) from None
    try:
        content = build(
            scenario,
            Path(args.out),
            replications=args.replications,
            seed=args.seed,
            horizon_hours=args.horizon,
            multipliers=args.multipliers,
            study_replications=args.study_replications,
            processes=args.processes,
            expansion=args.expansion,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print()
    print("\n".join(f"- {line}" for line in content.summary))
    print(f"report: {content.html_path} and {content.pdf_path}")
    return 0


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "report",
        help="capacity report (HTML + PDF) for a scenario",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("scenario", help="scenario TOML file or example name")
    p.add_argument(
        "--out", required=True, metavar="DIR", help="folder for index.html and report.pdf"
    )
    p.add_argument("--replications", "-r", type=int, default=4, help="baseline replications (4)")
    p.add_argument("--seed", "-s", type=int, default=0, help="root seed (0)")
    p.add_argument("--horizon", type=float, default=24.0, help="hours of arrivals (24)")
    p.add_argument(
        "--multipliers",
        type=_multipliers,
        default=[0.8, 1.0, 1.2, 1.4],
        help="overflow study traffic levels, e.g. 0.8,1.0,1.2 (default 0.8,1.0,1.2,1.4)",
    )
    p.add_argument("--study-replications", type=int, default=2, help="per traffic level (2)")
    p.add_argument("--processes", "-p", type=int, default=2, help="parallel processes (2)")
    p.add_argument("--expansion", action="store_true", help="also run an expansion study (slow)")
    p.set_defaults(func=_run)
