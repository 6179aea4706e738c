"""Each experiment reproduces its result at the reduced size and writes the promised outputs.

The experiments are scripts a reader runs by hand, so nothing else would
notice when a study API change breaks one. Each runs here as a reader would
(``python experiments/X/run.py --small --out DIR``, in a subprocess so its
process pool is its own), and its outputs are checked for the shape its
README promises, plus what theory says about the numbers: offered calls grow
with the multiplier, service level falls (common random numbers along the
curve), an A/A policy comparison gives exactly zero differences, and the
live ACD routing the emulator's calls (two real processes over CSTA) agrees
with ``ccsim.simulate`` within Welch intervals.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = ROOT / "experiments"
SL_NOISE = 0.02  # service level may rise this much between levels before the test calls it a bug


def run(name: str, out: Path) -> str:
    """Run one experiment with ``--small``; return its printed summary."""
    proc = subprocess.run(
        [sys.executable, str(EXPERIMENTS / name / "run.py"), "--small", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, "\n" + proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.parametrize("name", ["hotline_overflow", "policy_comparison", "live_parity"])
def test_experiment_is_complete(name: str) -> None:
    for f in ("config.toml", "run.py", "README.md"):
        assert (EXPERIMENTS / name / f).is_file(), f"experiments/{name}/{f} is missing"


def test_hotline_overflow(tmp_path: Path) -> None:
    out = tmp_path / "ovf"
    printed = run("hotline_overflow", out)
    assert "SL below" in printed
    for f in ("curve.csv", "result.json", "study/study.json", "study/summary.csv"):
        assert (out / f).is_file(), f
    curve = pd.read_csv(out / "curve.csv")
    assert list(curve.columns) == [
        "multiplier",
        "offered",
        "blocked",
        "abandon_rate",
        "sl",
        "sl_ci_low",
        "sl_ci_high",
        "asa",
        "occupancy",
        "trunk_utilisation",
        "ivr_utilisation",
    ]
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert result["small"] is True
    assert curve["multiplier"].tolist() == result["config"]["multipliers"]
    assert curve["offered"].is_monotonic_increasing
    assert curve["offered"].iloc[-1] > curve["offered"].iloc[0] * 1.5
    sl = curve["sl"].to_numpy()
    assert (sl[1:] <= sl[:-1] + SL_NOISE).all(), sl
    assert sl[-1] < sl[0]
    assert (curve["sl_ci_low"] <= curve["sl"]).all() and (curve["sl"] <= curve["sl_ci_high"]).all()
    assert ((curve["occupancy"] > 0) & (curve["occupancy"] <= 1)).all()
    # the saved study reloads through the public API
    from ccsim.studies import OverflowStudy, load_study  # noqa: PLC0415

    study = load_study(out / "study")
    assert isinstance(study, OverflowStudy)
    assert study.curve("all.sl")["mean"].to_numpy() == pytest.approx(sl)


def test_policy_comparison(tmp_path: Path) -> None:
    out = tmp_path / "pol"
    printed = run("policy_comparison", out)
    assert "A/A check passed" in printed
    diff = pd.read_csv(out / "differences.csv")
    assert list(diff.columns) == [
        "variant",
        "kpi",
        "baseline",
        "value",
        "difference",
        "ci_low",
        "ci_high",
    ]
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    cfg = result["config"]
    others = [v for v in result["variants"] if v != cfg["baseline"]]
    assert len(diff) == len(others) * len(cfg["kpis"])
    assert set(diff["variant"]) == set(others)
    assert set(diff["kpi"]) == set(cfg["kpis"])
    assert result["aa_all_zero"] is True
    aa = diff[diff["variant"].isin(result["aa_variants"])]
    assert len(aa) and (aa[["difference", "ci_low", "ci_high"]] == 0).all().all()
    assert (diff["ci_low"] <= diff["difference"]).all()
    assert (diff["difference"] <= diff["ci_high"]).all()


def test_live_parity(tmp_path: Path) -> None:
    """``ccsim pbx`` + ``ccsim acd`` as processes agree with ``ccsim.simulate``."""
    out = tmp_path / "parity"
    printed = run("live_parity", out)
    assert "parity holds" in printed
    reps = pd.read_csv(out / "replications.csv")
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    cfg = result["config"]
    assert sorted(reps["source"].unique()) == ["live", "simulate"]
    live = reps[reps["source"] == "live"]
    assert len(live) == cfg["replications"]
    # 360 calls/h over the window: the ACD was offered (and routed) the traffic
    window_hours = cfg["horizon_hours"] - cfg["warmup_seconds"] / 3600
    assert (live["offered"] > 0.7 * 360 * window_hours).all(), live["offered"].tolist()
    assert (live["unfinished"] == 0).all()
    comp = pd.read_csv(out / "comparison.csv")
    assert comp["kpi"].tolist() == cfg["kpis"]
    assert comp["contains_zero"].all()
    assert (comp["ci_low"] <= comp["difference"]).all()
    assert (comp["difference"] <= comp["ci_high"]).all()
    # the recording replays offline into a fresh ACD: every answered call was delivered
    from ccsim import load_scenario  # noqa: PLC0415
    from ccsim.events import CallAnswered, Deliver  # noqa: PLC0415
    from ccsim.live.acd import live_acd, read_recording  # noqa: PLC0415
    from ccsim.live.binding import replay  # noqa: PLC0415

    events = list(read_recording(out / "acd-0.jsonl"))
    commands = replay(live_acd(load_scenario(EXPERIMENTS / "live_parity" / "center.toml")), events)
    delivered = {c.call_id for c in commands if isinstance(c, Deliver)}
    answered = {e.call_id for e in events if isinstance(e, CallAnswered)}
    assert answered and answered <= delivered
