"""The core is pure (DESIGN.md §1): no simulation engine, event loop, socket or clock.

Two independent checks: (1) import the core in a fresh interpreter where
``simpy``, ``asyncio`` and ``socket`` cannot be imported; (2) read the core's
source and refuse any import of those modules or of a clock (``time``,
``datetime.now``-style access is caught by the ``time``/``datetime`` import rule).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE_MODULES = [
    "ccsim.events",
    "ccsim.errors",
    "ccsim.acd_config",
    "ccsim.acd",
    "ccsim.scenario",
    "ccsim.agents",
    "ccsim.routing",
    "ccsim.testing",
    "ccsim.csta",
]
CORE_FILES = [
    ROOT / "ccsim" / "events.py",
    ROOT / "ccsim" / "errors.py",
    ROOT / "ccsim" / "acd_config.py",
    ROOT / "ccsim" / "acd.py",
    ROOT / "ccsim" / "scenario.py",
    *sorted((ROOT / "ccsim" / "agents").glob("*.py")),
    *sorted((ROOT / "ccsim" / "routing").glob("*.py")),
    *sorted((ROOT / "ccsim" / "csta").glob("*.py")),
]
FORBIDDEN = {"simpy", "asyncio", "socket", "time", "selectors", "threading", "trio"}


def test_core_imports_with_io_modules_blocked() -> None:
    # pydantic loads its plugins through importlib.metadata, whose email parser
    # imports socket for hostname helpers; that stdlib chain is loaded first so the
    # block below catches only what ccsim itself would import.
    code = (
        "import sys, importlib.metadata\n"
        "for m in ('simpy', 'asyncio', 'socket'):\n"
        "    sys.modules[m] = None\n"
        f"for m in {CORE_MODULES!r}:\n"
        "    __import__(m)\n"
        "print('ok')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_core_source_has_no_io_or_clock_imports(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"
