"""Sim–live parity: ``ccsim.simulate`` against ``ccsim pbx`` + ``ccsim acd`` on one scenario.

The mission's promise is that the routing the simulation validates is the
routing that runs live. This experiment runs the scenario both ways:

* (a) ``ccsim.simulate`` — the SimPy model feeding the ACD directly;
* (b) the PBX emulator (``python -m ccsim pbx``, its own process) with the live
  ACD (``python -m ccsim acd``, another process) registered as its router over
  loopback CSTA, at ``speed`` simulated seconds per wall second. Each
  replication is a fresh pair of processes with the emulator seeded
  ``1000 + r``; the ACD records its input events (``--record``), and the
  KPIs of (b) are computed from that recording — the router's own view.

Writes to ``--out``: ``replications.csv`` (one row per source and
replication), ``comparison.csv`` (per KPI: both means, the difference and its
Welch interval, whether it contains 0) and ``result.json``. The intervals are
Bonferroni-corrected so that "parity on every KPI" holds at the config's
``family_confidence``. Exit status 1 when an interval excludes 0 or a live
replication routed no call.

KPI definitions are ``ccsim.simulate``'s, over calls offered in
``[warmup, horizon)``: ``sl`` answered within the target / offered, ``asa``
mean wait of answered calls, ``abandon_rate`` abandoned / offered,
``mean_talk`` mean talk time of answered calls.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

import ccsim

HERE = Path(__file__).resolve().parent


def load_config(path: Path, small: bool) -> dict[str, Any]:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    cfg = dict(raw["study"])
    if small:
        cfg.update(raw.get("small", {}))
    return cfg


def scenario_arg(name: str, base: Path) -> str:
    """What to pass to ``--scenario``: a file relative to the config, or an example name."""
    candidate = base / name
    return str(candidate) if candidate.is_file() else name


def live_kpis(
    record: Path, *, warmup: float, horizon: float, sl_seconds: float
) -> dict[str, float]:
    """KPIs from the ACD's recorded input events (times are ACD seconds).

    The ACD's clock starts with its own process, not the emulator's, so the
    window is placed from the first offered call (the first arrival comes a
    few simulated seconds after the emulator starts, against a 20-minute
    warm-up).
    """
    offered: dict[str, float] = {}
    answered: dict[str, float] = {}
    ended: dict[str, float] = {}
    abandoned: set[str] = set()
    with record.open(encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            kind = e["type"]
            if kind == "CallOffered":
                offered.setdefault(e["call_id"], e["at"])
            elif kind == "CallAnswered":
                answered[e["call_id"]] = e["at"]
            elif kind == "CallEnded":
                ended[e["call_id"]] = e["at"]
            elif kind == "CallAbandoned":
                abandoned.add(e["call_id"])
    if not offered:
        return {"offered": 0.0}
    t0 = min(offered.values())
    window = [c for c, t in offered.items() if warmup <= t - t0 < horizon]
    n = len(window)
    waits = [answered[c] - offered[c] for c in window if c in answered]
    talks = [ended[c] - answered[c] for c in window if c in answered and c in ended]
    n_abandoned = sum(1 for c in window if c in abandoned and c not in answered)
    nan = math.nan
    return {
        "offered": float(n),
        "sl": sum(1 for w in waits if w <= sl_seconds) / n if n else nan,
        "asa": float(np.mean(waits)) if waits else nan,
        "abandon_rate": n_abandoned / n if n else nan,
        "mean_talk": float(np.mean(talks)) if talks else nan,
        "unfinished": float(n - len(waits) - n_abandoned),
    }


def run_live(cfg: dict[str, Any], scenario: str, r: int, work: Path) -> dict[str, float]:
    """One replication: start the emulator, then the ACD; stop both after the horizon."""
    speed = float(cfg["speed"])
    horizon = float(cfg["horizon_hours"]) * 3600.0
    record = work / f"acd-{r}.jsonl"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # agents answer at once; the switch waits for the router (no internal distribution)
    pbx_cmd = [
        sys.executable, "-m", "ccsim", "pbx", "--scenario", scenario, "--port", "0",
        "--speed", str(speed), "--seed", str(1000 + r), "--ring-time", "0",
        "--route-timeout", "0", "--routed-ring-timeout", "0",
    ]  # fmt: skip
    pbx = subprocess.Popen(
        pbx_cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    acd = None
    try:
        assert pbx.stdout is not None
        line = pbx.stdout.readline()
        if "listening on" not in line:
            raise RuntimeError(f"ccsim pbx did not start: {line!r}")
        address = line.strip().rsplit(" ", 1)[-1]
        acd_cmd = [
            sys.executable, "-m", "ccsim", "acd", "--pbx", address, "--scenario", scenario,
            "--speed", str(speed), "--record", str(record),
        ]  # fmt: skip
        acd = subprocess.Popen(
            acd_cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
        )
        assert acd.stdout is not None
        # the window starts once the ACD routes (its start-up takes a wall second or
        # more, i.e. hundreds of simulated seconds the switch's hunt groups cover)
        line = acd.stdout.readline()
        if "routing for" not in line:
            raise RuntimeError(f"ccsim acd did not start: {line!r}")
        time.sleep((horizon + float(cfg["drain_seconds"])) / speed)
    finally:
        for proc in (acd, pbx):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in (acd, pbx):
            if proc is not None:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
    sl_seconds = (
        ccsim.load_scenario(scenario).service_level.seconds if Path(scenario).is_file() else 20.0
    )
    return live_kpis(
        record, warmup=float(cfg["warmup_seconds"]), horizon=horizon, sl_seconds=sl_seconds
    )


def welch(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Difference of means a − b and its Welch ``level`` interval."""
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    dof = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    half = float(stats.t.ppf(0.5 + level / 2, dof)) * math.sqrt(va + vb)
    diff = float(a.mean() - b.mean())
    return diff, diff - half, diff + half


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, default=HERE / "config.toml")
    ap.add_argument("--out", type=Path, required=True, help="output directory")
    ap.add_argument("--small", action="store_true", help="reduced size (CI)")
    args = ap.parse_args(argv)
    cfg = load_config(args.config, args.small)
    scenario_path = scenario_arg(cfg["scenario"], args.config.parent)
    scenario = (
        ccsim.load_scenario(scenario_path)
        if Path(scenario_path).is_file()
        else ccsim.example(scenario_path)
    )
    kpis = list(cfg["kpis"])
    reps = int(cfg["replications"])
    horizon = float(cfg["horizon_hours"]) * 3600.0
    warmup = float(cfg["warmup_seconds"])
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    simulated = ccsim.simulate(
        scenario, seed=int(cfg["seed"]), replications=reps, horizon=horizon, warmup=warmup,
        record=False, ring_time=0.0,
    )  # fmt: skip
    rows: list[dict[str, Any]] = []
    for r, rep in enumerate(simulated.replications):
        row = {"source": "simulate", "replication": r, "offered": rep.kpis["all.offered"]}
        row.update({k: rep.kpis[f"all.{k}"] for k in kpis})
        rows.append(row)
    for r in range(reps):
        live = run_live(cfg, scenario_path, r, args.out)
        rows.append({"source": "live", "replication": r, **live})
        print(
            f"live replication {r}: {int(live['offered'])} calls offered in the window", flush=True
        )
    elapsed = time.perf_counter() - t0
    table = pd.DataFrame(rows)
    table.to_csv(args.out / "replications.csv", index=False)
    live_t = table[table["source"] == "live"]
    sim_t = table[table["source"] == "simulate"]
    # "parity holds on every KPI" is one claim: Bonferroni keeps its error rate at
    # 1 - family_confidence however many KPIs are compared
    family = float(cfg.get("family_confidence", 0.95))
    level = 1.0 - (1.0 - family) / len(kpis)
    comparison = []
    for k in kpis:
        diff, lo, hi = welch(live_t[k].to_numpy(float), sim_t[k].to_numpy(float), level)
        comparison.append({
            "kpi": k, "live": float(live_t[k].mean()), "simulate": float(sim_t[k].mean()),
            "difference": diff, "ci_low": lo, "ci_high": hi, "level": level,
            "contains_zero": lo <= 0 <= hi,
        })  # fmt: skip
    comp = pd.DataFrame(comparison)
    comp.to_csv(args.out / "comparison.csv", index=False)
    routed = bool((live_t["offered"] > 0).all())
    agree = bool(comp["contains_zero"].all())
    result = {
        "scenario": scenario.name,
        "small": args.small,
        "config": cfg,
        "all_intervals_contain_zero": agree,
        "every_live_replication_routed_calls": routed,
        "seconds": round(elapsed, 1),
        "ccsim_version": ccsim.__version__,
    }
    (args.out / "result.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    with pd.option_context("display.width", 120, "display.float_format", "{:.4g}".format):
        if not (agree and routed):  # show why, replication by replication
            print(table.to_string(index=False))
        print(comp.set_index("kpi"))
    print(
        f"{reps} replications each way, {cfg['horizon_hours']} h at x{cfg['speed']} "
        f"({elapsed:.0f} s): parity {'holds' if agree else 'FAILS'} "
        f"({int(comp['contains_zero'].sum())} of {len(kpis)} KPIs, family-wise {family:.0%}) "
        f"-> {args.out}"
    )
    return 0 if agree and routed else 1


if __name__ == "__main__":
    sys.exit(main())
