"""``ccsim db upgrade``: apply the services' schema migrations."""

from __future__ import annotations

import argparse
from typing import Any

from ccsim.cli import CliError


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "db",
        help="manage the services database (migrations)",
        description="Manage the back-office services database.",
    )
    actions = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = actions.add_parser("upgrade", help="apply migrations up to the latest revision")
    up.add_argument("--db", metavar="URL", help="database URL (default: $CCSIM_DB or SQLite)")
    up.add_argument("--revision", default="head", help="target revision (default: head)")
    up.set_defaults(func=run_upgrade)


def run_upgrade(args: argparse.Namespace) -> int:
    try:
        from ccsim.services.db import resolve_db_url, upgrade  # noqa: PLC0415
    except ImportError as exc:
        raise CliError(f"the services extra is not installed ({exc.name})") from None
    url = resolve_db_url(args.db)
    try:
        upgrade(url, args.revision)
    except Exception as exc:  # alembic and driver errors: report, no traceback
        raise CliError(f"cannot upgrade {url}: {exc}") from None
    print(f"database at {url} is at revision {args.revision}")
    return 0
