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


def test_report_with_expansion_options(tmp_path: Path) -> None:
    from ccsim.pbx.run import simulate  # noqa: PLC0415 - keeps the module's imports light
    from ccsim.report import capacity_report  # noqa: PLC0415
    from ccsim.studies import expansion_study  # noqa: PLC0415

    sc = example("single_skill")
    exp = expansion_study(
        sc, growth=0.15, years=1, replications=2, horizon=2 * 3600, agent_step=1, processes=1
    )
    res = simulate(sc, seed=1, replications=2, horizon=2 * 3600, record=False)
    content = capacity_report(res, tmp_path / "r", expansion=exp)
    step = exp.steps[0]
    line = next(s for s in content.summary if s.startswith("Year 1"))
    assert f"+{step.agents_added['agents']} agents" in line and f"cost {step.cost:g}" in line
    page = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    assert "Expansion options" in page and "+agents" in page
