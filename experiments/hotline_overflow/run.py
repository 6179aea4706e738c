"""Reproduce the hotline overflow study: KPIs against the traffic multiplier.

Reads ``config.toml`` beside this script, runs ``ccsim.studies.overflow_study``
and writes to ``--out``:

* ``study/`` — the study as ``OverflowStudy.save`` writes it (``study.json``,
  ``summary.csv`` with one row per multiplier and KPI, ``intervals.csv``), so
  ``ccsim.studies.load_study`` or the capacity report can reload it;
* ``curve.csv`` — one row per multiplier with the headline KPIs for all
  services (service level with its 95 % CI);
* ``result.json`` — the parameters used, the breaking points and the run time.

A config file rather than arguments, so a result can be reproduced from what
was committed; ``--small`` swaps in the ``[small]`` table for CI.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd

import ccsim
from ccsim.studies import OverflowStudy, overflow_study

HERE = Path(__file__).resolve().parent
HEADLINE = (
    "offered",
    "blocked",
    "abandon_rate",
    "sl",
    "asa",
    "occupancy",
    "trunk_utilisation",
    "ivr_utilisation",
)


def load_config(path: Path, small: bool) -> dict[str, Any]:
    """The ``[study]`` table, with ``[small]`` laid over it when ``small``."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    cfg = dict(raw["study"])
    if small:
        cfg.update(raw.get("small", {}))
    return cfg


def load(name: str, base: Path) -> ccsim.Scenario:
    """A scenario file relative to the config, or else a shipped example by name."""
    candidate = base / name
    return ccsim.load_scenario(candidate) if candidate.is_file() else ccsim.example(name)


def curve(study: OverflowStudy) -> pd.DataFrame:
    """Headline KPIs per multiplier (means; the service level also with its CI)."""
    out = pd.DataFrame(index=pd.Index(study.multipliers, name="multiplier"))
    for kpi in HEADLINE:
        c = study.curve(f"all.{kpi}")
        out[kpi] = c["mean"]
        if kpi == "sl":
            out["sl_ci_low"] = c["ci_low"]
            out["sl_ci_high"] = c["ci_high"]
    return out.reset_index()


def main(argv: list[str] | None = None) -> int:
    """Run the study from the config and write its outputs."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=HERE / "config.toml")
    ap.add_argument("--out", type=Path, required=True, help="output directory")
    ap.add_argument("--small", action="store_true", help="reduced size (CI)")
    args = ap.parse_args(argv)
    cfg = load_config(args.config, args.small)
    scenario = load(cfg["scenario"], args.config.parent)
    t0 = time.perf_counter()
    study = overflow_study(
        scenario,
        cfg["multipliers"],
        seed=int(cfg["seed"]),
        replications=int(cfg["replications"]),
        horizon=float(cfg["horizon_hours"]) * 3600.0,
        warmup=float(cfg["warmup_seconds"]),
        processes=int(cfg["processes"]),
    )
    elapsed = time.perf_counter() - t0
    args.out.mkdir(parents=True, exist_ok=True)
    study.save(args.out / "study")
    table = curve(study)
    table.to_csv(args.out / "curve.csv", index=False)
    target = scenario.service_level.fraction
    result = {
        "scenario": scenario.name,
        "small": args.small,
        "config": cfg,
        "service_level_target": target,
        "sl_below_target_from": study.breaking_point("all.sl", target),
        "abandon_above_limit_from": study.breaking_point(
            "all.abandon_rate", float(cfg["abandon_limit"]), above=True
        ),
        "seconds": round(elapsed, 2),
        "ccsim_version": ccsim.__version__,
    }
    (args.out / "result.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    with pd.option_context("display.width", 120, "display.float_format", "{:.3f}".format):
        print(table[["multiplier", "offered", "abandon_rate", "sl", "asa", "occupancy"]])
    print(
        f"{scenario.name}: SL below {target:.0%} from x{result['sl_below_target_from']}, "
        f"abandonment above {cfg['abandon_limit']:.0%} from x{result['abandon_above_limit_from']}"
        f" ({len(study.multipliers)} levels x {study.replications} replications, {elapsed:.1f} s)"
        f" -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
