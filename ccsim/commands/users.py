"""``ccsim users add|list|disable``: manage service accounts from the shell.

This is how the first administrator comes to exist: the services ship no
default account or password.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from ccsim.cli import CliError

ROLES = ("agent", "team_leader", "qc_inspector", "kb_editor", "department_handler", "admin")


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "users",
        help="manage back-office user accounts",
        description="Manage back-office user accounts (the first administrator, above all).",
    )
    p.add_argument("--db", metavar="URL", help="database URL (default: $CCSIM_DB or SQLite)")
    actions = p.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a user (password prompted, or --password-stdin)")
    add.add_argument("username")
    add.add_argument(
        "--role", action="append", choices=ROLES, required=True, help="repeat for several roles"
    )
    add.add_argument("--display-name", default="")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add.set_defaults(func=run_add)
    ls = actions.add_parser("list", help="list users and their roles")
    ls.set_defaults(func=run_list)
    dis = actions.add_parser("disable", help="disable a user and revoke their sessions")
    dis.add_argument("username")
    dis.set_defaults(func=run_disable)


def _session(args: argparse.Namespace) -> Any:
    try:
        from sqlalchemy.orm import Session  # noqa: PLC0415

        from ccsim.services.db import make_engine, resolve_db_url, upgrade  # noqa: PLC0415
    except ImportError as exc:
        raise CliError(f"the services extra is not installed ({exc.name})") from None
    url = resolve_db_url(args.db)
    upgrade(url)
    return Session(make_engine(url))


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise CliError("passwords differ")
    return first


def run_add(args: argparse.Namespace) -> int:
    from ccsim.services.app import new_user  # noqa: PLC0415
    from ccsim.services.errors import ApiError  # noqa: PLC0415
    from ccsim.services.security import Hasher, PasswordPolicyError  # noqa: PLC0415

    password = _read_password(args)
    with _session(args) as db:
        try:
            user = new_user(
                db, args.username, password, args.role, Hasher(), display_name=args.display_name
            )
        except (ApiError, PasswordPolicyError) as exc:
            raise CliError(str(exc)) from None
        db.commit()
        print(f"added user {user.username} (id {user.id}) with roles {', '.join(args.role)}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select  # noqa: PLC0415

    from ccsim.services.models import User  # noqa: PLC0415

    with _session(args) as db:
        for u in db.scalars(select(User).order_by(User.id)):
            state = "active" if u.active else "disabled"
            print(f"{u.id}\t{u.username}\t{state}\t{','.join(sorted(u.role_names))}")
    return 0


def run_disable(args: argparse.Namespace) -> int:
    from sqlalchemy import delete, select  # noqa: PLC0415

    from ccsim.services.models import AuthSession, User  # noqa: PLC0415

    with _session(args) as db:
        user = db.scalar(select(User).where(User.username == args.username))
        if user is None:
            raise CliError(f"no user {args.username!r}")
        user.active = False
        db.execute(delete(AuthSession).where(AuthSession.user_id == user.id))
        db.commit()
        print(f"disabled {args.username}; sessions revoked")
    return 0
