"""The mypyc build: the guard against stale extensions, and compiled == pure.

``ccsim/_compiled.py`` must never let an extension run once its source has
changed, and the compiled build must answer exactly as the Python sources.
The equivalence checks run the same work in a child process with
``CCSIM_PURE=1`` and compare; they are skipped when no build is present
(``make test`` always builds one, so CI runs them).
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ccsim.acd
import ccsim.pbx.model
from ccsim import _compiled

COMPILED = _compiled.is_compiled(ccsim.acd)
needs_build = pytest.mark.skipif(not COMPILED, reason="no compiled build (run `make compiled`)")


def fake_tree(tmp: Path) -> Path:
    """A copy of the compiled modules' sources under ``tmp/ccsim``."""
    root = tmp / "ccsim"
    for m in _compiled.MODULES:
        src = _compiled.source(m)
        dst = root.joinpath(*m.split(".")[1:]).with_suffix(".py")
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(src.read_bytes())
    return root


def test_stale_detection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = fake_tree(tmp_path)
    monkeypatch.setattr(_compiled, "_ROOT", root)
    assert _compiled.stale_modules() is None  # no build at all
    ext = root / f"acd{importlib.machinery.EXTENSION_SUFFIXES[0]}"
    ext.write_bytes(b"")  # an extension without a record is not trusted
    assert _compiled.stale_modules() == list(_compiled.MODULES)
    record = {m: _compiled.digest(_compiled.source(m)) for m in _compiled.MODULES}
    (root / _compiled.RECORD).write_text(json.dumps(record), encoding="utf-8")
    assert _compiled.stale_modules() == []
    acd = root / "acd.py"
    acd.write_text(acd.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert _compiled.stale_modules() == ["ccsim.acd"]
    (root / _compiled.RECORD).write_text("{not json", encoding="utf-8")
    assert _compiled.stale_modules() == list(_compiled.MODULES)


def _child(code: str, **env: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env},
        cwd=Path(__file__).resolve().parents[1],
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_pure_switch_loads_every_hot_module_from_source() -> None:
    code = """
        import ccsim, ccsim.acd, ccsim.agents.states, ccsim.pbx.model, ccsim.pbx.records
        from ccsim._compiled import MODULES, is_compiled, source
        import sys
        for m in MODULES:
            mod = sys.modules[m]
            assert not is_compiled(mod), m
            assert mod.__file__ == str(source(m)), (mod.__file__, m)
        print("pure")
    """
    assert _child(code, CCSIM_PURE="1").strip() == "pure"


@needs_build
def test_build_is_used_when_fresh() -> None:
    for m in _compiled.MODULES:
        __import__(m)
        assert _compiled.is_compiled(sys.modules[m]), m


_ACD_RUN = """
    import sys
    sys.path.insert(0, "benchmarks")
    import bench_acd
    from ccsim._compiled import is_compiled
    import ccsim.acd
    events = bench_acd.record(bench_acd.make_acd, 20_000, seed=7)
    acd = bench_acd.make_acd()
    print(is_compiled(ccsim.acd))
    for ev in events:
        print(acd.handle(ev))
    print(acd.export_state())
"""


@needs_build
def test_compiled_acd_answers_as_the_sources() -> None:
    compiled = _child(_ACD_RUN)
    pure = _child(_ACD_RUN, CCSIM_PURE="1")
    assert compiled.split("\n", 1)[0] == "True" and pure.split("\n", 1)[0] == "False"
    assert compiled.split("\n", 1)[1] == pure.split("\n", 1)[1]


_SIM_RUN = """
    import ccsim
    from ccsim._compiled import is_compiled
    import ccsim.pbx.model
    r = ccsim.simulate(ccsim.example("hotline"), seed=11, replications=2, horizon=4 * 3600.0,
                       ring_time=3.0)
    print(is_compiled(ccsim.pbx.model))
    print(r.cdr.to_csv(index=False))
    print(r.interval_kpis().to_csv(index=False))
    print(r.agent_occupancy().to_csv(index=False))
    print(r.agent_states.to_csv(index=False))
"""


@needs_build
def test_compiled_simulation_gives_the_sources_results() -> None:
    compiled = _child(_SIM_RUN)
    pure = _child(_SIM_RUN, CCSIM_PURE="1")
    assert compiled.split("\n", 1)[0] == "True" and pure.split("\n", 1)[0] == "False"
    assert len(compiled) > 10_000
    assert compiled.split("\n", 1)[1] == pure.split("\n", 1)[1]
