"""Reproduce a routing-policy comparison: paired differences with common random numbers.

Reads ``config.toml`` beside this script, builds each variant's policies by
name (``ccsim.routing.make_policy``), runs ``ccsim.studies.compare_policies``
and writes to ``--out``:

* ``differences.csv`` — one row per (variant, KPI): baseline mean, variant
  mean, the mean paired difference and its 95 % confidence interval;
* ``result.json`` — the parameters used, the A/A check, one line per
  difference whose interval excludes 0, and the run time.

Policies are named in the config (not pickled objects) so a comparison can be
reproduced from what was committed; ``--small`` swaps in the ``[small]`` table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

import ccsim
from ccsim.routing import make_policy
from ccsim.studies import compare_policies, scale_traffic

HERE = Path(__file__).resolve().parent
SLOTS = ("agent_selector", "call_selector", "discipline", "ewt")


def load_config(path: Path, small: bool) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The ``[study]`` table (with ``[small]`` over it when ``small``) and the variants."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    cfg = dict(raw["study"])
    if small:
        cfg.update(raw.get("small", {}))
    return cfg, dict(raw["variants"])


def policies(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Policy objects for one variant: ``slot = "name"`` or ``slot = {name, params}``."""
    out: dict[str, Any] = {}
    for slot, value in spec.items():
        if slot not in SLOTS:
            raise ValueError(f"unknown policy slot {slot!r}; valid: {', '.join(SLOTS)}")
        if isinstance(value, str):
            out[slot] = make_policy(value)
        else:
            out[slot] = make_policy(value["name"], value.get("params"))
    return out


def load(name: str, base: Path) -> ccsim.Scenario:
    """A scenario file relative to the config, or else a shipped example by name."""
    candidate = base / name
    return ccsim.load_scenario(candidate) if candidate.is_file() else ccsim.example(name)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison from the config and write its outputs."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=HERE / "config.toml")
    ap.add_argument("--out", type=Path, required=True, help="output directory")
    ap.add_argument("--small", action="store_true", help="reduced size (CI)")
    args = ap.parse_args(argv)
    cfg, variant_specs = load_config(args.config, args.small)
    scenario = scale_traffic(load(cfg["scenario"], args.config.parent), float(cfg["traffic"]))
    variants = {name: policies(spec) for name, spec in variant_specs.items()}
    t0 = time.perf_counter()
    diff = compare_policies(
        scenario,
        variants,
        baseline=cfg["baseline"],
        kpis=cfg["kpis"],
        seed=int(cfg["seed"]),
        replications=int(cfg["replications"]),
        horizon=float(cfg["horizon_hours"]) * 3600.0,
        warmup=float(cfg["warmup_seconds"]),
        processes=int(cfg["processes"]),
    )
    elapsed = time.perf_counter() - t0
    args.out.mkdir(parents=True, exist_ok=True)
    diff.to_csv(args.out / "differences.csv", index=False)
    # same policies as the baseline (by config) must give exactly zero differences
    same = [n for n, s in variant_specs.items() if n != cfg["baseline"] and not s]
    aa = diff[diff["variant"].isin(same)]
    significant = diff[(diff["ci_low"] > 0) | (diff["ci_high"] < 0)]
    findings = [
        f"{r.variant}: {r.kpi} {r.difference:+.4g} (95% CI {r.ci_low:+.4g} .. {r.ci_high:+.4g})"
        for r in significant.itertuples()
    ]
    result = {
        "scenario": scenario.name,
        "small": args.small,
        "config": cfg,
        "variants": variant_specs,
        "aa_variants": same,
        "aa_all_zero": bool((aa["difference"] == 0).all()),
        "significant": findings,
        "seconds": round(elapsed, 2),
        "ccsim_version": ccsim.__version__,
    }
    (args.out / "result.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    with pd.option_context("display.width", 120, "display.float_format", "{:.4g}".format):
        print(diff.set_index(["variant", "kpi"]))
    print(
        f"{len(variants)} variants x {cfg['replications']} replications at x{cfg['traffic']} "
        f"traffic ({elapsed:.1f} s); A/A check {'passed' if result['aa_all_zero'] else 'FAILED'}; "
        f"{len(findings)} differences exclude 0 -> {args.out}"
    )
    return 0 if result["aa_all_zero"] else 1


if __name__ == "__main__":
    sys.exit(main())
