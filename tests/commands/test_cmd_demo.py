"""``ccsim demo`` (what ``make demo`` runs): the example day's staffing table."""

from __future__ import annotations

import pytest

from ccsim import cli


def test_demo_prints_48_intervals_and_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "--staffing-only"]) == 0
    out = capsys.readouterr().out
    assert "mobile-operator hotline" in out
    assert "80% answered within 20 s" in out and "shrinkage 30%" in out
    rows = [line for line in out.splitlines() if line[:2].isdigit() and line[2:3] == ":"]
    assert len(rows) == 48
    header = next(line for line in out.splitlines() if line.lstrip().startswith("start"))
    for column in ("calls", "agents", "sched", "sqrt", "SL %", "ASA s", "occ %", "agents(A)"):
        assert column in header
    for row in rows:  # every interval meets the target
        assert float(row.split()[8]) >= 80.0
    assert "daily summary" in out and "25,000" in out and "Erlang A" in out
