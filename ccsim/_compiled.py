"""Which modules are compiled with mypyc, and the guard against running stale builds.

The ACD and the simulation driver are plain, typed Python that mypyc can
compile to C extension modules: ``make compiled`` (run by ``make test``,
``make demo`` and ``make bench``) builds them next to their sources. The
sources stay the truth — every module also runs, and is tested, as Python.

An extension module next to an edited source would silently run the old
code, because Python prefers extensions to sources. ``install()`` therefore
compares each source with the SHA-256 recorded when it was compiled; if any
differs (or ``CCSIM_PURE=1`` is set) it puts a finder first on
``sys.meta_path`` that loads *all* of these modules from their sources, and
warns when that was not asked for. All, not just the stale one: compiled
modules of one group call each other's native code directly.

Only the standard library is used here: this runs while ``ccsim`` is imported.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

#: compiled together, in this order (a module's dependencies first)
MODULES = ("ccsim.agents.states", "ccsim.acd", "ccsim.pbx.records", "ccsim.pbx.model")
#: the shared library of the group is ``ccsim/_core__mypyc.*.so``
GROUP = "ccsim._core"
#: the source digests the build was made from (written by setup.py)
RECORD = "_compiled_build.json"

_ROOT = Path(__file__).resolve().parent


def source(module: str) -> Path:
    """The ``.py`` file of one of ``MODULES``."""
    return _ROOT.joinpath(*module.split(".")[1:]).with_suffix(".py")


def extensions() -> list[Path]:
    """Compiled extension files present for ``MODULES`` (and the group's library)."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    found = []
    for m in (*MODULES, f"{GROUP}__mypyc"):
        base = source(m).with_suffix("")
        found += [p for p in base.parent.glob(base.name + ".*") if p.name.endswith(suffixes)]
    return found


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def is_compiled(module: ModuleType) -> bool:
    """True when ``module`` was loaded from a compiled extension."""
    return isinstance(getattr(module, "__loader__", None), importlib.machinery.ExtensionFileLoader)


def stale_modules() -> list[str] | None:
    """Modules whose source changed since the build; None when there is no build."""
    record = _ROOT / RECORD
    if not record.is_file():
        # extensions without a record (a build cut short): not to be trusted
        return list(MODULES) if any(extensions()) else None
    try:
        built = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return list(MODULES)
    return [m for m in MODULES if built.get(m) != digest(source(m))]


def build_name() -> str:
    """'compiled (mypyc)' or 'pure Python': what the hot modules run as (for benchmark output)."""
    loaded = [importlib.import_module(m) for m in MODULES]
    if all(is_compiled(m) for m in loaded):
        return "compiled (mypyc)"
    return "pure Python" if not any(is_compiled(m) for m in loaded) else "mixed"


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Finds the compiled modules' ``.py`` sources before the import system's extensions."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MODULES:
            return None
        return importlib.util.spec_from_file_location(fullname, source(fullname))


def install() -> str:
    """Route imports of ``MODULES`` to their sources when needed; say which build runs."""
    if any(isinstance(f, _SourceFinder) for f in sys.meta_path):
        return "python"
    stale = stale_modules()
    pure = os.environ.get("CCSIM_PURE") == "1"
    if stale is None and not pure:
        return "python"  # nothing compiled: the import system finds the sources anyway
    if not pure and not stale:
        return "compiled"
    if stale and not pure:
        warnings.warn(
            f"ccsim: compiled modules are older than their sources ({', '.join(stale)}); "
            "running all of them as Python. Rebuild with `make compiled`.",
            RuntimeWarning,
            stacklevel=2,
        )
    sys.meta_path.insert(0, _SourceFinder())
    return "python"
