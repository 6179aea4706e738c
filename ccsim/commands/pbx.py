"""``ccsim pbx``: run a scenario's center as a CSTA switch (the PBX emulator).

The SimPy model of the scenario runs in scaled real time and exposes its
devices over CSTA (ECMA-323 XML over TCP): CTI applications, a live ACD or a
supervisor console connect to it as to a real PBX. See docs/emulator.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import signal
import sys
from pathlib import Path
from typing import Any

from ccsim.cli import CliError

DESCRIPTION = """\
Run the scenario's center as a PBX speaking CSTA over TCP. Prints
'listening on HOST:PORT' once ready (--port 0 picks a free port) and serves
any number of clients until SIGINT or SIGTERM. --speed scales time (60 = one
simulated minute per second). Device numbers: agent stations are the agent ids,
routing points their names (or the service name), plain stations 9001-9010.

examples:
  ccsim pbx --scenario hotline --start 08:00 --speed 60
  ccsim pbx --scenario my.toml --port 5060 --trace csta.jsonl
  ccsim pbx --scenario hotline --require-session --session-duration 60
"""


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "pbx",
        help="run a scenario as a CSTA PBX emulator",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--scenario", required=True, metavar="PATH", help="scenario TOML file or example name"
    )
    p.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback)")
    p.add_argument("--port", type=int, default=0, help="TCP port (default 0: any free port)")
    p.add_argument(
        "--speed", type=float, default=1.0, help="simulated seconds per second (default 1)"
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--start", default="00:00", metavar="HH:MM", help="simulated start time (default 00:00)"
    )
    p.add_argument("--trace", metavar="FILE", help="write every CSTA frame in and out (JSON lines)")
    p.add_argument(
        "--ring-time",
        type=float,
        default=3.0,
        metavar="SECS",
        help="simulated agents answer after SECS (default 3)",
    )
    p.add_argument(
        "--route-timeout",
        type=float,
        default=30.0,
        metavar="SECS",
        help="simulated seconds a router may take before internal distribution (30; 0 = none)",
    )
    p.add_argument(
        "--routed-ring-timeout",
        type=float,
        default=None,
        metavar="SECS",
        help="ring-no-answer for routed calls (default: the scenario's; 0 = the router's job)",
    )
    p.add_argument(
        "--answer-probability",
        type=float,
        default=0.8,
        metavar="P",
        help="chance an external number answers a MakeCall (0.8)",
    )
    p.add_argument(
        "--answer-delay",
        type=float,
        default=8.0,
        metavar="SECS",
        help="mean seconds before an external number answers (8)",
    )
    p.add_argument("--edition", type=int, default=None, help="ECMA-323 edition emitted (2-6)")
    p.add_argument(
        "--require-session",
        action="store_true",
        help="refuse every request but StartApplicationSession/SystemStatus until an "
        "ECMA-354 application session is started (operation/securityViolation)",
    )
    p.add_argument(
        "--session-duration",
        type=int,
        default=180,
        metavar="SECS",
        help="longest application session granted; unrenewed sessions expire (180)",
    )
    p.set_defaults(func=run)


def _scenario(spec: str) -> Any:
    from ccsim.scenario import ScenarioError, example, example_names, load_scenario  # noqa: PLC0415

    path = Path(spec)
    try:
        if path.exists():
            return load_scenario(path)
        if spec in example_names():
            return example(spec)
    except ScenarioError as exc:
        raise CliError(str(exc)) from None
    raise CliError(f"--scenario: no file {spec!r} (examples: {', '.join(example_names())})")


def run(args: argparse.Namespace) -> int:
    from ccsim.live.emulator import Emulator, SwitchOptions  # noqa: PLC0415
    from ccsim.scenario import parse_clock  # noqa: PLC0415

    if not 0 <= args.port < 65536:
        raise CliError(f"--port must be 0..65535, got {args.port}")
    if not args.speed > 0:
        raise CliError(f"--speed must be > 0, got {args.speed}")
    if args.seed < 0:
        raise CliError(f"--seed must be >= 0, got {args.seed}")
    if args.ring_time < 0 or args.route_timeout < 0 or (args.routed_ring_timeout or 0) < 0:
        raise CliError("--ring-time, --route-timeout and --routed-ring-timeout must be >= 0")
    if not 0 <= args.answer_probability <= 1 or args.answer_delay < 0:
        raise CliError("--answer-probability must be in [0, 1] and --answer-delay >= 0")
    if args.edition is not None and args.edition not in range(2, 7):
        raise CliError(f"--edition must be 2..6, got {args.edition}")
    if args.session_duration < 1:
        raise CliError(f"--session-duration must be >= 1, got {args.session_duration}")
    try:
        text = args.start.strip()
        start = float(parse_clock(float(text) if text.replace(".", "", 1).isdigit() else text))
    except (ValueError, TypeError) as exc:
        raise CliError(f"--start: {exc}") from None
    scenario = _scenario(args.scenario)
    options = SwitchOptions(
        ring_time=args.ring_time,
        route_timeout=args.route_timeout,
        start=start,
        external_answer_probability=args.answer_probability,
        external_answer_delay=args.answer_delay,
        routed_ring_timeout=args.routed_ring_timeout,
        record=False,  # an endless run keeps no per-call rows
        require_session=args.require_session,
        session_duration=args.session_duration,
    )
    try:
        emulator = Emulator(
            scenario,
            host=args.host,
            port=args.port,
            speed=math.inf if math.isinf(args.speed) else args.speed,
            seed=args.seed,
            options=options,
            trace=args.trace,
            edition=args.edition,
        )
    except (ValueError, OSError) as exc:
        raise CliError(str(exc)) from None
    return asyncio.run(_serve(emulator, args.host))


async def _serve(emulator: Any, host: str) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await emulator.start()
    except OSError as exc:
        print(f"ccsim: error: cannot listen on {host}: {exc}", file=sys.stderr)
        return 2
    print(f"listening on {host}:{emulator.port}", flush=True)
    await stop.wait()
    await emulator.close()
    lag = emulator.clock.lag
    print(
        f"stopped at simulated t={emulator.env.now:.0f} s; "
        f"{emulator.switch.events_out} events sent; clock lag max {lag.max * 1000:.1f} ms",
        flush=True,
    )
    return 0
