"""Optional mypyc build of the hot modules; everything else is in pyproject.toml.

``pip install -e .`` installs pure Python. ``CCSIM_COMPILE=1 python setup.py
build_ext --inplace`` (what ``make compiled`` runs) compiles the modules listed
in ``ccsim/_compiled.py`` with mypyc next to their sources and records the
SHA-256 of each source, so that an edited source is never shadowed by its old
extension (see that module). If mypyc or a C compiler is missing, or the
build fails, it says so and the package stays pure Python.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent


def _compiled_spec() -> Any:
    """ccsim/_compiled.py, loaded alone (importing ccsim needs its dependencies)."""
    spec = importlib.util.spec_from_file_location("_ccsim_compiled", HERE / "ccsim/_compiled.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildOrStayPure(build_ext):
    """Build the extensions and record their sources; on failure, remove partial output."""

    def run(self) -> None:
        spec = _compiled_spec()
        record = HERE / "ccsim" / spec.RECORD
        record.unlink(missing_ok=True)
        try:
            super().run()
        except Exception as exc:  # any build failure means: stay pure
            for path in spec.extensions():
                path.unlink(missing_ok=True)
            print(f"ccsim: compiling failed ({exc}); staying pure Python", file=sys.stderr)
            return
        if self.inplace:
            digests = {m: spec.digest(spec.source(m)) for m in spec.MODULES}
            record.write_text(json.dumps(digests, indent=1) + "\n", encoding="utf-8")


def ext_modules() -> list[Any]:
    if os.environ.get("CCSIM_COMPILE") != "1":
        return []
    try:
        from mypyc.build import mypycify  # noqa: PLC0415 - optional at build time
    except ImportError:
        print("ccsim: mypyc is not installed; staying pure Python", file=sys.stderr)
        return []
    spec = _compiled_spec()
    paths = [str(spec.source(m).relative_to(HERE)) for m in spec.MODULES]
    try:
        return list(mypycify(paths, opt_level="3", group_name=spec.GROUP))
    except SystemExit as exc:  # mypyc reports type errors by exiting
        print(f"ccsim: mypyc refused the sources ({exc}); staying pure Python", file=sys.stderr)
        return []


setup(ext_modules=ext_modules(), cmdclass={"build_ext": BuildOrStayPure})
