"""``ccsim report`` from a scenario name and from a saved overflow study folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccsim import cli
from ccsim.scenario import example
from ccsim.studies import load_study, overflow_study


def test_report_from_saved_study(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    study = overflow_study(
        example("single_skill"), (0.9, 1.1), seed=2, replications=2, horizon=3600, processes=1
    )
    folder = study.save(tmp_path / "study")
    back = load_study(folder)
    assert back.scenario == example("single_skill")  # type: ignore[union-attr]
    code = cli.main(
        [
            "report",
            str(folder),
            "--out",
            str(tmp_path / "rep"),
            "-r",
            "2",
            "--horizon",
            "1",
            "-p",
            "1",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "report:" in out and "Overflow study" in (tmp_path / "rep" / "index.html").read_text(
        encoding="utf-8"
    )
    assert (tmp_path / "rep" / "report.pdf").stat().st_size > 10_000


def test_report_refuses_other_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "r")]) == 2
    assert "no scenario file" in capsys.readouterr().err
