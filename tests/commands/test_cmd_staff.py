"""``ccsim staff FORECAST.csv``: table, CSV output and errors that name row and column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ccsim import cli
from ccsim.planning import example_day

HEADER = "interval_start,offered,aht\n"


@pytest.fixture
def forecast(tmp_path: Path) -> Path:
    path = tmp_path / "forecast.csv"
    example_day().drop(columns="patience").to_csv(path, index=False)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_prints_a_table_and_summary(capsys: pytest.CaptureFixture[str], forecast: Path) -> None:
    code, out, _ = run(capsys, "staff", str(forecast), "--target", "80/20", "--shrinkage", "30%")
    assert code == 0
    assert "Erlang C" in out and "80% answered within 20 s" in out
    lines = out.splitlines()
    rows = [line for line in lines if line[:2].isdigit() and line[2:3] == ":"]
    assert len(rows) == 48
    peak = next(line for line in rows if line.startswith("10:30"))
    assert peak.split()[1] == "1274"
    assert "daily summary" in out and "25,000" in out


def test_writes_csv_with_out(
    capsys: pytest.CaptureFixture[str], forecast: Path, tmp_path: Path
) -> None:
    out_path = tmp_path / "plan.csv"
    code, _, _ = run(
        capsys, "staff", str(forecast), "--target", "80/20", "--model", "a", "--patience", "90",
        "--max-abandon", "5%", "--out", str(out_path),
    )  # fmt: skip
    assert code == 0
    plan = pd.read_csv(out_path)
    assert len(plan) == 48
    assert (plan["abandon"] <= 0.05).all() and (plan["service_level"] >= 0.8).all()
    assert {"agents", "agents_fractional", "scheduled", "sqrt_agents"} <= set(plan.columns)


def test_header_aliases_and_explicit_interval(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "f.csv"
    path.write_text("Start, Calls, AHT\nmon-1,100,180\nmon-2,120,180\n")
    code, out, _ = run(capsys, "staff", str(path), "--target", "80/20", "--interval", "1800")
    assert code == 0
    assert "mon-1" in out and "intervals of 30 min" in out


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (HEADER + "08:00,100,180\n08:30,abc,180\n", "line 3 (data row 2), column 'offered'"),
        (HEADER + "08:00,100,180\n08:30,90,-5\n", "line 3 (data row 2), column 'aht': must be > 0"),
        (HEADER + "08:00,100,\n", "line 2 (data row 1), column 'aht'"),
        ("interval_start,offered\n08:00,100\n", "missing column 'aht'"),
        (HEADER, "no data rows"),
        ("", "not a readable CSV"),
    ],
)
def test_bad_csv_names_row_and_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, body: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(body)
    code, _, err = run(capsys, "staff", str(path), "--target", "80/20", "--interval", "1800")
    assert code == 2
    assert message in err
    assert str(path) in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "at least one target"),
        (["--target", "80/20", "--max-abandon", "5%"], "--model a"),
        (["--target", "80/20", "--model", "a"], "patience"),
        (["--target", "80/20", "--shrinkage", "120%"], "--shrinkage"),
        (["--target", "80/20", "--max-occupancy", "x"], "--max-occupancy"),
    ],
)
def test_option_errors(
    capsys: pytest.CaptureFixture[str], forecast: Path, extra: list[str], message: str
) -> None:
    code, _, err = run(capsys, "staff", str(forecast), *extra)
    assert code == 2
    assert message in err


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "staff", str(tmp_path / "nope.csv"), "--target", "80/20")
    assert code == 2 and "no such file" in err
