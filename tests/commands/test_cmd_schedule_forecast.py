"""``ccsim forecast`` and ``ccsim schedule``: the forecast -> staff -> schedule chain; errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccsim import cli
from ccsim.planning.forecast import synthetic_history


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hist") / "history.csv"
    synthetic_history(weeks=4, seed=1).frame.to_csv(path, index=False)
    return path


def test_forecast_staff_schedule_chain(
    capsys: pytest.CaptureFixture[str], history: Path, tmp_path: Path
) -> None:
    fc, plan, roster, cov = (tmp_path / n for n in ("fc.csv", "plan.csv", "roster.csv", "cov.csv"))
    code, out, err = run(capsys, "forecast", str(history), "--out", str(fc), "--quiet")
    assert code == 0, err
    assert "weekday factors: Mon" in out and "2026-02-02  Mon" in out
    frame = pd.read_csv(fc)
    assert list(frame.columns) == ["interval_start", "offered", "aht"] and len(frame) == 48
    code, _, err = run(capsys, "staff", str(fc), "--target", "80/20", "--out", str(plan))
    assert code == 0, err
    code, out, err = run(
        capsys, "schedule", str(plan), "--shrinkage", "25%", "--first-start", "05:00",
        "--last-start", "17:00", "--breaks", "none", "--out", str(roster),
        "--coverage-out", str(cov), "--quiet",
    )  # fmt: skip
    assert code == 0, err
    assert "solver: optimal" in out and "agents scheduled:" in out
    shifts = pd.read_csv(roster)
    assert {"pattern", "start", "end", "breaks", "agents"} <= set(shifts.columns)
    coverage = pd.read_csv(cov)
    need = pd.read_csv(plan)["agents"].to_numpy() / 0.75
    assert len(coverage) == 48
    assert (coverage["scheduled"].to_numpy() >= need - 1e-6).all()
    assert err == ""  # --quiet: no progress bar


def test_forecast_week_with_backtest(capsys: pytest.CaptureFixture[str], history: Path) -> None:
    code, out, _ = run(capsys, "forecast", str(history), "--week", "--backtest-weeks", "1")
    assert code == 0
    assert "backtest: last 1 week(s) held out" in out and "overall: WAPE" in out
    days = [line for line in out.splitlines() if line.startswith("2026-")]
    assert len(days) == 7 + 7  # forecast week + backtest week


def test_forecast_bad_history_names_file_line_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("interval_start,offered,aht\n2026-01-05T00:00,1,100\n2026-01-05T00:30,abc,1\n")
    code, _, err = run(capsys, "forecast", str(path))
    assert code == 2
    assert f"{path}: line 3 (data row 2): column 'offered': must be a number >= 0, got 'abc'" in err
    code, _, err = run(capsys, "forecast", str(tmp_path / "missing.csv"))
    assert code == 2 and "no such file" in err


def test_schedule_with_patterns_file_and_plain_requirement(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    req = tmp_path / "req.csv"
    starts = [f"{h:02d}:{m:02d}" for h in range(8, 16) for m in (0, 30)]
    need = np.array([2] * 8 + [3] * 8)
    pd.DataFrame({"interval_start": starts, "required": need}).to_csv(req, index=False)
    pats = tmp_path / "p.toml"
    pats.write_text(
        '[[pattern]]\nname = "morning"\nstart = "08:00"\nhours = 4\n\n'
        '[[pattern]]\nname = "day"\nstart = "08:00"\nhours = 8\ncost = 7\n\n'
        '[[pattern]]\nname = "afternoon"\nstart = "12:00"\nhours = 4\n'
    )
    code, out, err = run(capsys, "schedule", str(req), "--patterns", str(pats), "--quiet")
    assert code == 0, err
    # by hand: 2 "day" (cost 14) + 1 "afternoon" (4) = 18 beats 2 morning + 3 afternoon (20)
    assert "cost 18.0" in out
    assert "      day  08:00  16:00" in out


def test_schedule_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    req = tmp_path / "req.csv"
    req.write_text("interval_start,agents\n03:00,2\n03:30,2\n")
    code, _, err = run(capsys, "schedule", str(req), "--quiet")
    assert code == 2 and f"{req}: interval 03:00 needs 2 agents but no pattern covers it" in err
    pats = tmp_path / "p.toml"
    pats.write_text('[[pattern]]\nstart = "07:00"\nhours = "eight"\n')
    code, _, err = run(capsys, "schedule", str(req), "--patterns", str(pats))
    assert code == 2 and f"{pats}: pattern[0].hours: must be a number or 'H:MM', got 'eight'" in err
    code, _, err = run(capsys, "schedule", str(req), "--shrinkage", "120%")
    assert code == 2 and "--shrinkage" in err
    req.write_text("interval_start,agents\n08:00,2\n08:30,x\n")
    code, _, err = run(capsys, "schedule", str(req))
    assert code == 2 and "row 2, column 'agents': must be a number >= 0, got 'x'" in err


SCENARIO = """
name = "check"
skills = ["general"]

[[services]]
name = "general"
arrivals = { calls = [60, 60, 60, 60], interval = 1800, start = "08:00" }
aht = { kind = "exponential", mean = 180 }

[[agent_groups]]
name = "agents"
size = 1
skills = ["general"]
"""


def test_schedule_check_simulates_the_scheduled_staffing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # 6 erlangs 08:00-10:00; the schedule gives 12 agents the first hour and 4 the second
    req = tmp_path / "req.csv"
    req.write_text("interval_start,agents\n08:00,12\n08:30,12\n09:00,4\n09:30,4\n")
    pats = tmp_path / "p.toml"
    pats.write_text(
        '[[pattern]]\nname = "a"\nstart = "08:00"\nhours = 1\n\n'
        '[[pattern]]\nname = "b"\nstart = "09:00"\nhours = 1\n'
    )
    scenario = tmp_path / "center.toml"
    scenario.write_text(SCENARIO)
    code, out, err = run(
        capsys, "schedule", str(req), "--patterns", str(pats), "--check", str(scenario),
        "--replications", "4", "--seed", "2", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    assert "2 of 4 intervals meet SL 80% (mean)" in out
    rows = [line.split() for line in out.splitlines() if line.startswith(("08:", "09:"))]
    verdicts = [r[-1] for r in rows if r[-1] in ("ok", "MISSED")]
    assert verdicts == ["ok", "ok", "MISSED", "MISSED"]
    code, _, err = run(
        capsys, "schedule", str(req), "--patterns", str(pats), "--check", str(scenario),
        "--group", "nobody", "--quiet",
    )  # fmt: skip
    assert code == 2 and "--check: no agent group 'nobody' (have agents)" in err
