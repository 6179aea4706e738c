"""The committed state diagram is the one generated from the transition table."""

from __future__ import annotations

import importlib.util
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_state_diagram_is_current() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_state_diagram", DOCS / "make_state_diagram.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    committed = (DOCS / "agent-states.md").read_text(encoding="utf-8")
    assert committed == mod.render(), "run: python docs/make_state_diagram.py"
    assert "WORKING_AFTER_CALL --> NOT_READY: not_ready" in committed
