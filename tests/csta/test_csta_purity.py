"""ccsim.csta is sans-I/O: it imports no socket, event loop, clock or simulation engine.

A fresh interpreter blocks those modules in ``sys.modules`` (importing one then
fails) and imports ``ccsim.csta`` under a stub parent package, so the check covers
this package alone, whatever ``ccsim/__init__`` grows to import.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BLOCKED = ["socket", "asyncio", "time", "simpy", "selectors", "ssl", "threading", "logging"]

SCRIPT = f"""
import sys, types
for name in {BLOCKED!r}:
    sys.modules[name] = None
parent = types.ModuleType("ccsim")
parent.__path__ = [{str(ROOT / "ccsim")!r}]
sys.modules["ccsim"] = parent
import ccsim.csta
from ccsim.csta import CstaConnection, messages
conn = CstaConnection("server")
conn.receive_data(b"\\x00\\x00\\x00\\x170001<SystemStatus/>")
print(type(conn.next_event()).__name__)
loaded = sorted(n for n in {BLOCKED!r} if sys.modules.get(n) is not None)
print(",".join(loaded) or "none")
"""


def test_csta_imports_and_runs_with_io_and_clock_modules_blocked() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["RequestReceived", "none"]
