"""The CSTA guide's examples run (docs/csta.md)."""

from __future__ import annotations

import doctest
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "csta.md"


def test_csta_guide_examples_run() -> None:
    result = doctest.testfile(
        str(GUIDE),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        encoding="utf-8",
    )
    assert result.attempted > 20
    assert result.failed == 0, f"{result.failed} failing example(s) in {GUIDE.name}"
