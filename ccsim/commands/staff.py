"""``ccsim staff``: agents per interval, from a forecast file or from a whole scenario.

* ``ccsim staff FORECAST.csv --target 80/20 ...`` — Erlang C/A per interval;
* ``ccsim staff SCENARIO --by erlang|sim`` — a scenario (TOML file or example
  name): Erlang per group, or the simulation search of
  ``ccsim.planning.sim_staffing`` (each interval simulated as a stationary
  system, replications with common random numbers, ``--scheduler`` /
  ``--processes`` for where the simulations run).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

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
        help="agents needed per interval for a forecast CSV or a scenario",
        description=(
            "Minimum agents per interval meeting every target, from a CSV with columns "
            "interval_start, offered (calls in the interval), aht (seconds) and optionally "
            "patience (mean seconds, for --model a); or, for a scenario (TOML file or example "
            "name), per agent group by Erlang (--by erlang) or by simulation (--by sim): each "
            "interval simulated as a stationary system, starting from the Erlang answer. "
            "Without target options a scenario's own service-level goals apply."
        ),
    )
    p.add_argument("forecast", type=Path, metavar="FORECAST.csv|SCENARIO")
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
    sim = p.add_argument_group("scenario staffing (SCENARIO.toml or an example name)")
    sim.add_argument(
        "--by",
        choices=["erlang", "sim"],
        default="erlang",
        help="Erlang per group (default) or simulation search",
    )
    sim.add_argument(
        "--replications", "-r", type=int, default=5, metavar="N", help="runs per staffing (5)"
    )
    sim.add_argument("--seed", "-s", type=int, default=0, metavar="N", help="root seed (0)")
    sim.add_argument(
        "--processes", "-p", type=int, default=1, metavar="N", help="local processes (1)"
    )
    sim.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the simulations on a Dask cluster, e.g. tcp://host:8786",
    )
    sim.add_argument(
        "--run-length",
        type=float,
        default=3600.0,
        metavar="SECS",
        help="seconds measured per run, after the warm-up (3600)",
    )
    sim.add_argument(
        "--warmup",
        type=float,
        default=900.0,
        metavar="SECS",
        help="seconds simulated before measuring (900)",
    )
    sim.add_argument(
        "--intervals", metavar="LIST", help="interval numbers, e.g. 16-23,30 (default: all)"
    )
    sim.add_argument(
        "--horizon",
        type=float,
        metavar="HOURS",
        help="staff the whole horizon at once instead of per interval (groups without shifts)",
    )
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
    if _is_scenario(args.forecast):
        return run_scenario(args)
    if args.by == "sim":
        raise CliError(
            f"{args.forecast}: --by sim needs a scenario (a TOML file or an example name); "
            "a forecast CSV has no routing or agent groups to simulate"
        )
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
    shrinkage = 100 * table.attrs["shrinkage"]
    return (
        f"{model}; targets: {describe_targets(targets)}; shrinkage {shrinkage:g}%; "
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


# ----------------------------------------------------------------------------- scenario mode


def _is_scenario(spec: Path) -> bool:
    """A ``.toml`` file, or a shipped example's name that is not also an existing file."""
    from ccsim.scenario import example_names  # noqa: PLC0415

    if spec.suffix.lower() == ".toml":
        return True
    return not spec.exists() and str(spec) in example_names()


def _scenario_targets(args: argparse.Namespace) -> list[Target] | None:
    """The target options, or None (the scenario's own goals) when none is given."""
    if all(getattr(args, k) is None for k in ("target", "max_asa", "max_abandon", "max_occupancy")):
        return None
    saved, args.model = args.model, "a"  # a simulation always has abandonment
    try:
        return targets_from_args(args)
    finally:
        args.model = saved


def parse_intervals(text: str) -> list[int]:
    """``"16-23,30"`` -> ``[16, ..., 23, 30]``; errors name the option."""
    out: list[int] = []
    for part in text.split(","):
        lo, dash, hi = part.strip().partition("-")
        try:
            a = int(lo)
            b = int(hi) if dash else a
        except ValueError:
            raise CliError(f"--intervals: expected numbers like 16-23,30, got {text!r}") from None
        if b < a or a < 0:
            raise CliError(f"--intervals: bad range {part.strip()!r}")
        out.extend(range(a, b + 1))
    return out


def _check_positive(value: float, name: str, *, zero: bool = False) -> None:
    ok = value >= 0 if zero else value > 0
    if not (ok and math.isfinite(value)):
        raise CliError(f"{name}: must be {'>= 0' if zero else '> 0'}, got {value:g}")


def run_scenario(args: argparse.Namespace) -> int:
    """Staff a scenario per interval (or over its horizon) by Erlang or by simulation."""
    from ccsim.commands.run import load_scenario_arg  # noqa: PLC0415
    from ccsim.planning import sim_staffing as ss  # noqa: PLC0415 - loads the simulation

    scenario = load_scenario_arg(str(args.forecast))
    targets = _scenario_targets(args)
    shrinkage = fraction(args.shrinkage, "--shrinkage", allow_zero=True)
    if shrinkage >= 1:
        raise CliError("--shrinkage: must be below 100%")
    interval = 1800.0 if args.interval is None else args.interval
    _check_positive(interval, "--interval")
    _check_positive(args.run_length, "--run-length")
    _check_positive(args.warmup, "--warmup", zero=True)
    if args.horizon is not None:
        _check_positive(args.horizon, "--horizon")
    if args.replications < 2:
        raise CliError(
            f"--replications: must be >= 2 for a confidence interval, got {args.replications}"
        )
    if args.processes < 1:
        raise CliError(f"--processes: must be >= 1, got {args.processes}")
    if args.scheduler is not None and args.processes != 1:
        raise CliError("give --scheduler or --processes, not both")
    wanted = parse_intervals(args.intervals) if args.intervals else None
    try:
        if args.by == "erlang":
            table = ss.erlang_staffing(
                scenario, targets=targets, interval=interval, intervals=wanted
            )
            groups = [g.name for g in scenario.agent_groups]
            result = None
        else:
            bar = tqdm(desc="simulations", unit="run", file=sys.stderr, leave=False)

            def progress(it: Any) -> Any:
                for item in it:
                    bar.update(1)
                    yield item

            try:
                result = ss.sim_staffing(
                    scenario,
                    targets=targets,
                    replications=args.replications,
                    seed=args.seed,
                    interval=interval,
                    per_interval=args.horizon is None,
                    run_length=args.run_length,
                    warmup=args.warmup,
                    horizon=None if args.horizon is None else args.horizon * 3600.0,
                    intervals=wanted,
                    executor=args.scheduler,
                    processes=args.processes,
                    progress=progress,
                )
            finally:
                bar.close()
            table = result.table
            groups = result.groups
    except ValueError as exc:
        raise CliError(f"{args.forecast}: {exc}") from None
    column = "sim" if result is not None else "erlang"
    table = table.copy()
    table["scheduled"] = [
        math.ceil(n / (1.0 - shrinkage) - 1e-9) for n in table[column].to_numpy(dtype=float)
    ]
    print(_describe_scenario(scenario.name, args, result, targets, shrinkage))
    print()
    print(format_scenario_table(table, groups, result))
    if result is not None and len(table) and table["borderline"].any():
        print(
            "\n? a goal lies inside a 95% interval at the answer or one agent below: "
            "more replications (-r) or a longer --run-length may move it by one"
        )
    if result is not None and len(table) and not table["met"].all():
        missed = ", ".join(str(t) for t in table.loc[~table["met"], "time"])
        print(f"\ntargets NOT met (no single agent helped) in: {missed}")
    if args.out is not None:
        try:
            table.to_csv(args.out, index=False)
        except OSError as exc:
            raise CliError(f"--out: cannot write {args.out}: {exc.strerror}") from None
        print(f"\nwrote {args.out}")
    return 0


def _describe_scenario(
    name: str,
    args: argparse.Namespace,
    result: Any,
    targets: list[Target] | None,
    shrinkage: float,
) -> str:
    goals = "the scenario's service-level goals"
    if targets is not None:
        goals = describe_targets(targets)
    if result is None:
        head = f"{name}: Erlang staffing per agent group (A, or C without abandonment)"
    else:
        mode = (
            "per interval, each simulated as a stationary system"
            if result.per_interval
            else "over the whole horizon"
        )
        head = (
            f"{name}: simulation staffing {mode}; {args.replications} replications, "
            f"seed {args.seed}, common random numbers; met = every target's mean meets its goal"
        )
    return f"{head}\ntargets: {goals}; shrinkage {100 * shrinkage:g}%"


def describe_targets(targets: list[Target]) -> str:
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
    return ", ".join(parts)


def _ci_cell(mean: float, lo: float, hi: float, percent: bool) -> str:
    if not math.isfinite(mean):
        return "-"
    scale = 100.0 if percent else 1.0
    text = f"{scale * mean:.1f}"
    if math.isfinite(lo) and math.isfinite(hi):
        text += f"±{scale * (hi - lo) / 2:.1f}"
    return text


def format_scenario_table(table: pd.DataFrame, groups: list[str], result: Any) -> str:
    """One line per interval: agents per group (sim, with Erlang in brackets), KPIs ± CI."""
    cols = [Column("time", "time", str), Column("offered", "calls", integer)]
    view = table.copy()
    if result is None:
        cols += [Column(f"erlang.{g}", g, integer) for g in groups]
        cols += [Column("erlang", "total", integer)]
    else:
        for g in groups:
            view[f"show.{g}"] = [
                f"{int(s)} ({int(e)})"
                for s, e in zip(view[f"sim.{g}"], view[f"erlang.{g}"], strict=True)
            ]
            cols.append(Column(f"show.{g}", f"{g} sim (erl)", str))
        cols += [Column("sim", "sim", integer), Column("erlang", "erlang", integer)]
        for kpi in result.goals:
            percent = not kpi.endswith(".asa")
            view[f"show.{kpi}"] = [
                _ci_cell(m, lo, hi, percent)
                for m, lo, hi in zip(
                    view[kpi], view[f"{kpi}.ci_low"], view[f"{kpi}.ci_high"], strict=True
                )
            ]
            unit = "%" if percent else "s"
            cols.append(Column(f"show.{kpi}", f"{kpi} {unit}", str))
        view["show.met"] = [
            ("yes" if m else "NO") + ("?" if b else "")
            for m, b in zip(view["met"], view["borderline"], strict=True)
        ]
        cols.append(Column("show.met", "met", str))
    cols.append(Column("scheduled", "sched", integer))
    return render_frame(view, cols)
