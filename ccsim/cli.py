"""The ``ccsim`` command.

Subcommands live in their own modules and register themselves: each module
named in ``COMMAND_MODULES`` exposes ``register(subparsers)``, which adds one
or more subparsers and sets ``func`` (a callable taking the parsed namespace
and returning an exit code). Adding a command means adding a module and one
line here; existing commands are never touched. Third-party packages can add
commands through the ``ccsim.commands`` entry-point group the same way.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points

from ccsim._version import __version__

#: Modules that contribute subcommands, in help order.
COMMAND_MODULES: tuple[str, ...] = (
    "ccsim.commands.demo",
    "ccsim.commands.erlang",
    "ccsim.commands.staff",
    "ccsim.commands.schedule",
    "ccsim.commands.forecast",
    "ccsim.commands.run",
    "ccsim.commands.report",
    "ccsim.commands.pbx",
    "ccsim.commands.acd",
    "ccsim.commands.serve",
    "ccsim.commands.db",
    "ccsim.commands.users",
)


class CliError(Exception):
    """A user-facing error: printed as ``ccsim: error: ...`` with exit code 2, no traceback."""


def build_parser() -> argparse.ArgumentParser:
    """Build the full parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(
        prog="ccsim",
        description=(
            "Contact-center simulation, capacity planning and live ACD. "
            "Run 'ccsim COMMAND --help' for a command's options."
        ),
    )
    parser.add_argument("--version", action="version", version=f"ccsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    for ep in entry_points(group="ccsim.commands"):
        ep.load()(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 0
    try:
        return func(args)
    except CliError as exc:
        print(f"ccsim: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `ccsim staff ... | head`
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
