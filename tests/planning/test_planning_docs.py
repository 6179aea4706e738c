"""docs/planning.md and the planning docstrings: every ``>>>`` example runs."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

import ccsim.planning.erlang
import ccsim.planning.staffing

DOC = Path(__file__).resolve().parents[2] / "docs" / "planning.md"
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def test_planning_guide_examples_run() -> None:
    result = doctest.testfile(str(DOC), module_relative=False, optionflags=FLAGS, encoding="utf-8")
    assert result.attempted >= 30, "the guide lost its examples"
    assert result.failed == 0


@pytest.mark.parametrize("module", [ccsim.planning.erlang, ccsim.planning.staffing])
def test_docstring_examples_run(module: object) -> None:
    result = doctest.testmod(module, optionflags=FLAGS)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0


def test_guide_cites_its_sources() -> None:
    text = DOC.read_text(encoding="utf-8")
    for source in ("Koole", "Mandelbaum", "Zeltyn", "Garnett", "Halfin", "Jagerman"):
        assert source in text
