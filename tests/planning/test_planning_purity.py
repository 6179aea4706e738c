"""Planning is pure math: no simulation engine, event loop or sockets (DESIGN.md §2)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "ccsim" / "planning").glob("*.py"))
FORBIDDEN = {"simpy", "asyncio", "socket"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_planning_source_imports_no_io(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"


def test_planning_imports_with_simpy_and_asyncio_blocked() -> None:
    code = (
        "import sys\n"
        "sys.modules['simpy'] = None\n"
        "sys.modules['asyncio'] = None\n"
        "import ccsim.planning\n"
        "print('ok')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
