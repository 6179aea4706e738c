"""``ccsim run --engine fast``: the compiled engine from the command line, same outputs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ccsim.cli import main


def test_run_fast_engine_writes_the_same_files_but_no_agent_states(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fast"
    argv = ["run", "single_skill", "-r", "2", "--horizon", "1", "--engine", "fast"]
    assert main([*argv, "--out", str(out)]) == 0
    assert "single_skill: 2 replication(s)" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["cdr.csv", "intervals.csv", "summary.csv"]
    cdr = pd.read_csv(out / "cdr.csv")
    full = tmp_path / "full"
    assert main(["run", "single_skill", "-r", "1", "--horizon", "0.25", "--out", str(full)]) == 0
    assert list(cdr.columns) == list(pd.read_csv(full / "cdr.csv").columns)
    assert (full / "agent_states.csv").exists()


def test_run_fast_engine_refuses_a_skills_routed_scenario(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", "hotline", "-r", "1", "--horizon", "1", "--engine", "fast"]) == 2
    assert "engine='full'" in capsys.readouterr().err
