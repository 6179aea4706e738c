"""Build the notebooks from their Python sources (``notebooks/src/*.py``).

Notebooks are reviewed as plain Python in the "percent" format — ``# %%`` starts
a code cell, ``# %% [markdown]`` a markdown cell whose lines are comments — and
this script turns each source into a ``.ipynb`` with no outputs, execution
counts set to null, and cell ids derived from the file name and position, so
rebuilding an unchanged source gives a byte-identical notebook and diffs stay
small. Commit both the source and the generated notebook.

Usage: ``python notebooks/build.py`` (write every notebook) or
``python notebooks/build.py --check`` (exit 1 when a committed notebook is
stale or carries outputs; the test suite runs this).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
_MARKER = re.compile(r"^# %%(?:\s*\[(?P<kind>\w+)\])?\s*$")

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def _trim(lines: list[str]) -> str:
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def _markdown(lines: list[str]) -> str:
    out = []
    for line in lines:
        if line.startswith("# "):
            out.append(line[2:])
        elif line.rstrip() in ("#", ""):
            out.append("")
        else:
            raise ValueError(f"markdown cell line is not a comment: {line!r}")
    return _trim(out)


def parse(source: str) -> list[tuple[str, str]]:
    """Split percent-format source into ``(kind, text)`` cells, kind ``code`` or ``markdown``."""
    cells: list[tuple[str, list[str]]] = []
    for line in source.splitlines():
        m = _MARKER.match(line)
        if m:
            cells.append((m.group("kind") or "code", []))
        elif cells:
            cells[-1][1].append(line)
        elif line.strip():
            raise ValueError(f"text before the first '# %%' marker: {line!r}")
    out = []
    for kind, body in cells:
        if kind not in ("code", "markdown"):
            raise ValueError(f"unknown cell kind {kind!r}")
        text = _markdown(body) if kind == "markdown" else _trim(body)
        if text:
            out.append((kind, text))
    return out


def build(path: Path) -> str:
    """The notebook JSON for one source file (stripped, deterministic)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python", "pygments_lexer": "ipython3"},
    }
    for i, (kind, text) in enumerate(parse(path.read_text(encoding="utf-8"))):
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        cell = make(text)
        cell["id"] = f"{path.stem[:50]}-{i:03d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def targets() -> list[tuple[Path, Path]]:
    """(source, notebook) pairs, in order."""
    return [(src, HERE / f"{src.stem}.ipynb") for src in sorted(SRC.glob("*.py"))]


def main(argv: list[str] | None = None) -> int:
    """Write the notebooks, or with ``--check`` report stale ones."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check the committed notebooks")
    args = ap.parse_args(argv)
    stale = []
    for src, dest in targets():
        text = build(src)
        current = dest.read_text(encoding="utf-8") if dest.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(dest.name)
        else:
            dest.write_text(text, encoding="utf-8")
            print(f"wrote {dest.relative_to(HERE.parent)}")
    if stale:
        print(f"stale notebooks (run python notebooks/build.py): {', '.join(stale)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
