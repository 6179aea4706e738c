"""ccsim.scenario belongs to the pure core (DESIGN.md §1): no SimPy, asyncio, socket or clock."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ccsim.scenario

FORBIDDEN = {"simpy", "asyncio", "socket", "time", "threading", "random", "datetime"}

# pydantic discovers plugins through importlib.metadata, whose stdlib email
# parser imports socket (never to open one). That import belongs to the
# standard library, not to ccsim, so it is made before the blocking starts.
PROGRAM = """
import sys
import importlib.metadata
for name in ("simpy", "asyncio", "socket"):
    sys.modules[name] = None
import ccsim.scenario as s
for name in s.example_names():
    s.example(name).acd_config()
assert "simpy" not in {m.split(".")[0] for m in sys.modules if sys.modules[m] is not None}
print("pure")
"""


def test_import_with_simpy_asyncio_and_socket_blocked() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "pure"


def test_module_source_imports_nothing_impure() -> None:
    tree = ast.parse(Path(ccsim.scenario.__file__).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN
