"""``ccsim staff SCENARIO --by sim|erlang`` and ``ccsim run --scheduler``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ccsim import cli

TINY = """
name = "tiny"
service_level = { fraction = 0.8, seconds = 20 }
skills = ["general"]
[[services]]
name = "general"
arrivals = { calls = [40, 80], interval = 1800, start = "08:00" }
aht = { kind = "exponential", mean = 120 }
patience = { kind = "exponential", mean = 180 }
[[agent_groups]]
name = "agents"
size = 5
skills = ["general"]
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _rows(out: str) -> list[list[str]]:
    return [line.split() for line in out.splitlines() if line[:2].isdigit() and line[2] == ":"]


def test_staff_by_sim_prints_both_answers_and_writes_csv(
    capsys: pytest.CaptureFixture[str], tiny: Path, tmp_path: Path
) -> None:
    out_path = tmp_path / "plan.csv"
    code, out, err = run(
        capsys, "staff", str(tiny), "--by", "sim", "-r", "3", "--run-length", "3600",
        "--warmup", "300", "--shrinkage", "25%", "--out", str(out_path),
    )  # fmt: skip
    assert code == 0, err
    assert "simulation staffing per interval" in out and "3 replications" in out
    assert "simulations" in err  # the progress bar, on stderr
    rows = _rows(out)
    assert [r[0] for r in rows] == ["08:00", "08:30"]
    plan = pd.read_csv(out_path)
    assert len(plan) == 2
    for col in ("erlang.agents", "sim.agents", "general.sl", "general.sl.ci_low", "met"):
        assert col in plan.columns
    assert (plan["scheduled"] * 0.75 >= plan["sim"]).all()
    assert ((plan["scheduled"] - 1) * 0.75 < plan["sim"]).all()
    # what is printed is what was written: "sim (erlang)" per group
    for row, (_, p) in zip(rows, plan.iterrows(), strict=True):
        assert row[2:4] == [str(p["sim.agents"]), f"({p['erlang.agents']})"]
    assert (plan["general.sl"] >= 0.8).all() and plan["met"].all()


def test_staff_scenario_by_erlang_per_group(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "staff", "hotline", "--by", "erlang", "--intervals", "20-21")
    assert code == 0
    assert "Erlang staffing per agent group" in out
    header = next(line for line in out.splitlines() if line.strip().startswith("time"))
    assert header.split() == [
        "time", "calls", "general_team", "billing_team", "roaming_team", "vip_team", "total",
        "sched",
    ]  # fmt: skip
    rows = _rows(out)
    assert [r[0] for r in rows] == ["10:00", "10:30"]
    for r in rows:
        assert sum(int(v) for v in r[2:6]) == int(r[6]) == int(r[7])


def test_staff_with_target_options_on_a_scenario(
    capsys: pytest.CaptureFixture[str], tiny: Path
) -> None:
    code, out, _ = run(
        capsys, "staff", str(tiny), "--by", "erlang", "--target", "80/20", "--max-abandon", "5%"
    )
    assert code == 0
    assert "80% answered within 20 s (offered), abandonment <= 5%" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--intervals", "5-3"], "--intervals: bad range '5-3'"),
        (["--intervals", "a-b"], "--intervals: expected numbers"),
        (["--by", "sim", "--replications", "1"], "--replications: must be >= 2"),
        (["--run-length", "0"], "--run-length: must be > 0"),
        (["--by", "sim", "--scheduler", "nope"], "unknown executor 'nope'"),
        (["--by", "sim", "--horizon", "2"], "works shifts"),
        (["--by", "sim", "--scheduler", "processes:2", "-p", "2"], "not both"),
    ],
)
def test_staff_scenario_errors(
    capsys: pytest.CaptureFixture[str], tiny: Path, extra: list[str], message: str
) -> None:
    text = TINY + 'shifts = [{ start = "08:00", end = "10:00" }]\n'
    tiny.write_text(text, encoding="utf-8")
    code, _, err = run(capsys, "staff", str(tiny), *extra)
    assert code == 2
    assert message in err


def test_staff_forecast_csv_refuses_by_sim(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "f.csv"
    path.write_text("interval_start,offered,aht\n08:00,100,180\n08:30,120,180\n")
    code, _, err = run(capsys, "staff", str(path), "--by", "sim", "--target", "80/20")
    assert code == 2
    assert "--by sim needs a scenario" in err
    code, out, _ = run(capsys, "staff", str(path), "--target", "80/20")
    assert code == 0 and "Erlang C" in out  # the forecast mode is unchanged


def test_staff_bad_scenario_names_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(TINY.replace("mean = 120", "mean = -120"), encoding="utf-8")
    code, _, err = run(capsys, "staff", str(path), "--by", "sim")
    assert code == 2
    assert f"{path}: services[0].aht" in err and "-120" in err


def test_run_with_scheduler_spec_gives_the_same_kpis(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "single_skill", "-r", "2", "--horizon", "0.5", "--no-records"]
    code, serial, _ = run(capsys, *argv)
    assert code == 0
    code, pooled, _ = run(capsys, *argv, "--scheduler", "processes:2")
    assert code == 0
    assert serial == pooled


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--scheduler", "nope"], "unknown executor 'nope'"),
        (["--scheduler", "processes:2", "--processes", "2"], "not both"),
    ],
)
def test_run_scheduler_errors(
    capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    code, _, err = run(capsys, "run", "single_skill", "-r", "2", "--horizon", "0.2", *extra)
    assert code == 2
    assert message in err
