"""``ccsim acd``: the live ACD routing a switch's calls over CSTA (see docs/live-acd.md).

The scenario's ACD (the very ``ccsim.acd.ACD`` the simulation uses) registers as
router of the scenario's routing points, monitors every agent station and
answers each ``RouteRequest`` with the agent its policies choose.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from typing import Any

from ccsim.cli import CliError
from ccsim.commands.pbx import _scenario

DESCRIPTION = """\
Route a switch's calls with the scenario's ACD over CSTA (ECMA-323 XML over TCP):
RouteRegister for every routing point, MonitorStart on every agent station, then
RouteRequest -> RouteSelect to the agent the ACD chooses. --speed and --start
must match a scaled-time emulator's (ACD time = start + wall seconds x speed).
Runs until SIGINT or SIGTERM; --record keeps the ACD's input for offline replay;
--db writes the call log (calls, deliveries, agent states) to a database.
--api serves the supervisor / wallboard HTTP API on the same event loop
(bearer tokens from --api-tokens and $CCSIM_API_TOKENS; see docs/live-api.md).

examples:
  ccsim pbx --scenario hotline --port 4000 --route-timeout 0 --routed-ring-timeout 0
  ccsim acd --pbx 127.0.0.1:4000 --scenario hotline --record acd-events.jsonl
  ccsim acd --pbx 127.0.0.1:4000 --scenario hotline --db sqlite:///acd.sqlite
  ccsim acd --pbx 127.0.0.1:4000 --scenario hotline --api 127.0.0.1:8080 --api-tokens tokens.toml
"""


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "acd",
        help="route a CSTA switch's calls with the scenario's ACD",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--pbx", required=True, metavar="HOST:PORT", help="the switch's CSTA address")
    p.add_argument(
        "--scenario", required=True, metavar="PATH", help="scenario TOML file or example name"
    )
    p.add_argument(
        "--speed", type=float, default=1.0, help="the switch's simulated seconds per second (1)"
    )
    p.add_argument(
        "--start", default="00:00", metavar="HH:MM", help="time of day at start-up (00:00)"
    )
    p.add_argument("--record", metavar="FILE", help="write the ACD's input events (JSON lines)")
    p.add_argument(
        "--api",
        metavar="[HOST:]PORT",
        help="serve the supervisor / wallboard HTTP API there (a bare PORT: 127.0.0.1:PORT)",
    )
    p.add_argument(
        "--api-tokens",
        metavar="FILE",
        help="API bearer tokens: TOML or JSON, [[tokens]] with token (or sha256), name, role;"
        " required for a non-loopback --api",
    )
    p.add_argument(
        "--api-open-reads",
        action="store_true",
        help="let reads and the stream through without a token (wallboards on a trusted LAN)",
    )
    p.add_argument("--api-audit", metavar="FILE", help="append the API audit log here (JSON lines)")
    p.add_argument(
        "--db",
        metavar="URL",
        help="call log database, e.g. sqlite:///acd.sqlite or postgresql://... (none)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log every warning")
    p.set_defaults(func=run)


def _address(text: str, option: str = "--pbx", *, zero: bool = False) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    low = 0 if zero else 1
    if not sep or not host or not port.isdigit() or not low <= int(port) < 65536:
        raise CliError(f"{option} must be HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


def _api(args: argparse.Namespace) -> tuple[str, int, Any] | None:
    """The API's address and tokens, checked before anything connects (None: no API)."""
    if args.api is None:
        for flag in ("api_tokens", "api_audit"):
            if getattr(args, flag) is not None:
                raise CliError(f"--{flag.replace('_', '-')} needs --api")
        return None
    from ccsim.live.api import TokenStore, is_loopback  # noqa: PLC0415

    text = args.api.strip()
    # a bare port is served on loopback: the safe default
    host, port = _address(f"127.0.0.1:{text}" if text.isdigit() else text, "--api", zero=True)
    if not is_loopback(host) and args.api_tokens is None:
        raise CliError(
            f"--api {args.api} is not a loopback address: refusing to serve it"
            " without --api-tokens FILE"
        )
    try:
        tokens = TokenStore.configured(args.api_tokens)
    except ValueError as exc:
        raise CliError(f"--api-tokens: {exc}") from None
    if not tokens:
        print(
            "ccsim: warning: no API tokens (--api-tokens, $CCSIM_API_TOKENS):"
            + (" reads only" if args.api_open_reads else " every request will be refused"),
            file=sys.stderr,
        )
    return host, port, tokens


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415

    from ccsim.live.acd import LiveACD  # noqa: PLC0415
    from ccsim.scenario import parse_clock  # noqa: PLC0415

    host, port = _address(args.pbx)
    api = _api(args)
    if not 0 < args.speed < float("inf"):
        raise CliError(f"--speed must be a finite number > 0, got {args.speed}")
    try:
        text = args.start.strip()
        start = float(parse_clock(float(text) if text.replace(".", "", 1).isdigit() else text))
    except (ValueError, TypeError) as exc:
        raise CliError(f"--start: {exc}") from None
    scenario = _scenario(args.scenario)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR, format="%(name)s: %(message)s"
    )
    try:
        live = LiveACD(
            scenario,
            host,
            port,
            speed=args.speed,
            start=start,
            record=args.record,
            db=args.db,
        )
    except (ValueError, OSError) as exc:
        raise CliError(str(exc)) from None
    except (SQLAlchemyError, ImportError) as exc:
        raise CliError(f"--db {args.db}: {exc}") from None
    return asyncio.run(_serve(live, args.pbx, api, args))


async def _start_api(live: Any, api: tuple[str, int, Any], args: argparse.Namespace) -> Any:
    from ccsim.live.api import ApiServer, Audit, create_api  # noqa: PLC0415

    host, port, tokens = api
    audit = Audit(args.api_audit, call_log=live.call_log)
    app = create_api(live, tokens=tokens, audit=audit, open_reads=args.api_open_reads)
    server = ApiServer(app, host, port)
    try:
        await server.start()
    except OSError:
        audit.close()
        raise
    print(f"API on http://{host}:{server.port}", file=sys.stderr, flush=True)
    return server, audit


async def _serve(
    live: Any, where: str, api: tuple[str, int, Any] | None = None, args: Any = None
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    print(f"connecting to {where} (retrying with backoff until it answers)", file=sys.stderr)
    try:
        await live.start()
    except OSError as exc:
        print(f"ccsim: error: cannot connect to {where}: {exc}", file=sys.stderr)
        return 2
    served: Any = None
    if api is not None:
        try:
            served = await _start_api(live, api, args)
        except OSError as exc:
            await live.close()
            print(f"ccsim: error: --api {args.api}: {exc}", file=sys.stderr)
            return 2
    await live.ready.wait()
    print(f"routing for {where}", flush=True)
    await stop.wait()
    if served is not None:
        await served[0].close()
        served[1].close()
    await live.close()
    print(f"stopped: {live.status()}", flush=True)
    return 0
