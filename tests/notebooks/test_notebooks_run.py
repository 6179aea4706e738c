"""Every notebook runs end to end (small size) and is committed without outputs.

Notebooks rot silently: an API change breaks them and nobody notices until a
reader does. So the suite executes each one with nbclient in a fresh kernel,
with ``CCSIM_NB_SMALL=1`` (few replications, short horizons), and fails on any
error output. It also checks that the committed ``.ipynb`` files are exactly
what ``notebooks/build.py`` makes from their sources: stripped of outputs and
not stale.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def kernel_name() -> str:
    """The ``python3`` kernel of this interpreter (installed into its prefix if missing)."""
    from jupyter_client.kernelspec import KernelSpecManager  # noqa: PLC0415

    if "python3" not in KernelSpecManager().find_kernel_specs():
        from ipykernel import kernelspec  # noqa: PLC0415

        kernelspec.install(prefix=sys.prefix)
    return "python3"


def test_notebooks_exist() -> None:
    names = [p.name for p in NOTEBOOKS]
    for prefix in ("01_", "02_", "03_", "04_"):
        assert any(n.startswith(prefix) for n in names), names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_is_stripped(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{path.name}: a code cell has outputs"
            assert cell["execution_count"] is None, f"{path.name}: execution_count is set"


def test_notebooks_match_their_sources() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "notebooks" / "build.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(
    path: Path, kernel_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CCSIM_NB_SMALL", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name=kernel_name,
        timeout=120,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    stderr = "".join(o.get("text", "") for o in outputs if o.get("name") == "stderr")
    assert "Traceback" not in stderr, stderr
    # each notebook shows at least one figure, and every figure has content
    images = [o["data"]["image/png"] for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{path.name}: no figure was displayed"
    assert all(len(img) > 1000 for img in images)
