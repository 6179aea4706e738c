"""``ccsim serve``: run the back-office services (work orders, ...) under uvicorn."""

from __future__ import annotations

import argparse
from typing import Any

from ccsim.cli import CliError

DESCRIPTION = """\
Serve the back-office HTTP API (OpenAPI at /docs). The database is migrated
on start. --db takes a SQLAlchemy URL; default $CCSIM_DB, else the SQLite
file ccsim-services.db in the current directory. Create the first
administrator with 'ccsim users add NAME --role admin' before logging in.

examples:
  ccsim serve
  ccsim serve --db sqlite:////var/lib/ccsim/services.db --port 8080
"""


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "serve",
        help="serve the back-office HTTP API (work orders)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--db", metavar="URL", help="database URL (default: $CCSIM_DB or SQLite)")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default: 8000)")
    p.add_argument(
        "--sweep-every",
        type=float,
        default=300.0,
        metavar="SECS",
        help="seconds between SLA-escalation and cleanup sweeps (default 300; 0 = off)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn  # noqa: PLC0415 - the services extra is optional

        from ccsim.services import Settings, create_app  # noqa: PLC0415
    except ImportError as exc:
        raise CliError(f"the services extra is not installed ({exc.name})") from None
    if not 0 < args.port < 65536:
        raise CliError(f"--port must be 1..65535, got {args.port}")
    if args.sweep_every < 0:
        raise CliError(f"--sweep-every must be >= 0, got {args.sweep_every}")
    app = create_app(args.db, Settings(maintenance_interval=args.sweep_every))
    uvicorn.run(app, host=args.host, port=args.port)
    return 0
