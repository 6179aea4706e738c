"""``ccsim erlang b|c|a``: one-off Erlang questions from the command line."""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np

from ccsim.cli import CliError
from ccsim.commands._table import Column, fraction, integer, num, pct, render
from ccsim.commands.staff import targets_from_args
from ccsim.planning.erlang import ServiceLevelDefinition, erlang_a, erlang_b, erlang_c
from ccsim.planning.staffing import QueueModel, ServiceLevelTarget, required_agents

DESCRIPTION = """\
One-off Erlang questions. Traffic is --rate (calls per second) or --calls
offered in an --interval of so many seconds; handling time and patience are in
seconds. --agents takes one or more values and prints a row for each;
--target / --max-* (c, a) or --max-blocking (b) ask for the smallest number
of agents or lines instead.

examples:
  ccsim erlang b --load 8.108 --max-blocking 1%
  ccsim erlang c --calls 100 --interval 1800 --aht 180 --agents 13 14 15
  ccsim erlang c --rate 0.2 --aht 240 --target 80/20
  ccsim erlang a --rate 0.2 --aht 240 --patience 90 --agents 45 --sl-definition answered
"""


def _nonneg(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (v >= 0 and math.isfinite(v)):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return v


def _positive(text: str) -> float:
    v = _nonneg(text)
    if v == 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return v


def _traffic_options(p: argparse.ArgumentParser, *, load: bool) -> None:
    g = p.add_argument_group("traffic (give --rate, or --calls with --interval)")
    if load:
        g.add_argument("--load", type=_nonneg, metavar="ERLANGS", help="offered load")
    g.add_argument("--rate", type=_nonneg, metavar="CALLS/S", help="arrival rate per second")
    g.add_argument("--calls", type=_nonneg, metavar="N", help="calls offered in the interval")
    g.add_argument("--interval", type=_positive, metavar="SECS", help="interval length, e.g. 1800")
    g.add_argument("--aht", type=_positive, metavar="SECS", required=not load, help="handling time")


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "erlang",
        help="Erlang B, C and A for one-off questions",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    models = p.add_subparsers(dest="model", metavar="{b,c,a}", required=True)

    b = models.add_parser("b", help="blocking with no queue (trunks, lines)")
    _traffic_options(b, load=True)
    b.add_argument(
        "--agents",
        "--lines",
        type=_nonneg,
        nargs="+",
        metavar="N",
        dest="agents",
        help="number(s) of lines to evaluate",
    )
    b.add_argument("--max-blocking", metavar="FRACTION", help="find lines for e.g. 1%%")
    b.set_defaults(func=run_b)

    for name, helptext in (("c", "queue, callers never hang up"), ("a", "queue with abandonment")):
        q = models.add_parser(name, help=helptext)
        _traffic_options(q, load=False)
        if name == "a":
            q.add_argument(
                "--patience",
                type=_positive,
                required=True,
                metavar="SECS",
                help="mean time a caller waits before hanging up",
            )
        q.add_argument(
            "--agents", type=_nonneg, nargs="+", metavar="N", help="agent count(s) to evaluate"
        )
        q.add_argument(
            "--sl-time", type=_nonneg, metavar="SECS", help="default: the --target time, else 20"
        )
        q.add_argument(
            "--sl-definition",
            choices=[d.value for d in ServiceLevelDefinition],
            default=ServiceLevelDefinition.OFFERED.value,
            help="service-level denominator (default: offered)",
        )
        q.add_argument("--target", metavar="PCT/SECS", help="find agents for e.g. 80/20")
        q.add_argument("--max-asa", type=float, metavar="SECS", help="find agents for this ASA")
        q.add_argument("--max-occupancy", metavar="FRACTION", help="e.g. 85%%")
        if name == "a":
            q.add_argument("--max-abandon", metavar="FRACTION", help="e.g. 5%%")
        else:
            q.set_defaults(max_abandon=None)
        q.set_defaults(func=run_queue)


def _rate(args: argparse.Namespace) -> float:
    if args.rate is not None:
        if args.calls is not None:
            raise CliError("give either --rate or --calls/--interval, not both")
        return float(args.rate)
    if args.calls is None or args.interval is None:
        raise CliError("give the traffic as --rate CALLS/S, or as --calls N with --interval SECS")
    return float(args.calls / args.interval)


def _lines_for(load: float, target: float) -> int:
    """Smallest N with B(N, load) <= target: gallop up, then bisect (B falls with N)."""
    lo, hi = -1, max(1, math.ceil(load))
    while float(erlang_b(load=load, servers=hi)) > target:
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if float(erlang_b(load=load, servers=mid)) > target:
            lo = mid
        else:
            hi = mid
    return hi


def run_b(args: argparse.Namespace) -> int:
    if args.load is not None:
        if args.rate is not None or args.calls is not None:
            raise CliError("give either --load or the traffic as rate/calls with --aht")
        load = float(args.load)
    else:
        if args.aht is None:
            raise CliError("give --load ERLANGS, or the traffic with --aht")
        load = _rate(args) * args.aht
    if args.max_blocking is not None:
        target = fraction(args.max_blocking, "--max-blocking")
        n = _lines_for(load, target)
        lines = [float(v) for v in sorted({max(n - 1, 0), n})]
        print(
            f"offered load {load:.4g} erlangs: {n} lines keep blocking "
            f"at or below {100 * target:g}%"
        )
    elif args.agents:
        lines = [float(v) for v in args.agents]
    else:
        raise CliError("give --agents N [N ...] or --max-blocking FRACTION")
    rows = [
        {"n": n, "blocking": float(erlang_b(load=load, servers=n)), "carried": 0.0} for n in lines
    ]
    for r in rows:
        r["carried"] = load * (1 - r["blocking"])
    cols = [
        Column("n", "lines", num(2) if any(n != int(n) for n in lines) else integer),
        Column("blocking", "blocking %", pct(3)),
        Column("carried", "carried erl", num(3)),
    ]
    print(f"Erlang B, offered load {load:.4g} erlangs")
    print(render(rows, cols))
    return 0


def run_queue(args: argparse.Namespace) -> int:
    rate = _rate(args)
    aht = float(args.aht)
    load = rate * aht
    model = QueueModel(args.model)
    pat = float(args.patience) if model is QueueModel.ERLANG_A else math.inf
    wanted = [args.target, args.max_asa, args.max_occupancy, args.max_abandon]
    header = ""
    t = 20.0 if args.sl_time is None else float(args.sl_time)
    if any(v is not None for v in wanted):
        targets = targets_from_args(args)
        sl_targets = [x for x in targets if isinstance(x, ServiceLevelTarget)]
        if sl_targets and args.sl_time is None:
            t = sl_targets[0].within
        need = int(
            required_agents(
                arrival_rate=rate,
                aht=aht,
                targets=targets,
                model=model,
                patience=pat if model is QueueModel.ERLANG_A else None,
            )
        )
        header = f"smallest staffing meeting the targets: {need} agents\n"
        agents = [float(v) for v in sorted({max(need - 1, 0), need, need + 1})]
    elif args.agents:
        agents = [float(v) for v in args.agents]
    else:
        raise CliError("give --agents N [N ...], or a target such as --target 80/20")
    n_arr = np.asarray(agents)
    rows: list[dict[str, Any]] = []
    if model is QueueModel.ERLANG_C:
        c = erlang_c(arrival_rate=rate, aht=aht, servers=n_arr)
        sl = c.service_level(t)
        for i, n_i in enumerate(agents):
            rows.append(
                {
                    "n": n_i,
                    "p_wait": c.p_wait[i],
                    "asa": c.asa[i],
                    "sl": sl[i],
                    "lq": c.mean_queue_length[i],
                    "occ": c.occupancy[i],
                    "status": "ok" if c.stable[i] else "UNSTABLE",
                }
            )
        title = f"Erlang C, {rate:.5g} calls/s x {aht:g} s = {load:.4g} erlangs"
        extra: list[Column] = []
    else:
        a = erlang_a(arrival_rate=rate, aht=aht, patience=pat, servers=n_arr)
        sl = a.service_level(t, args.sl_definition)
        for i, n_i in enumerate(agents):
            rows.append(
                {
                    "n": n_i,
                    "p_wait": a.p_wait[i],
                    "asa": a.mean_wait_served[i],
                    "wait_all": a.mean_wait[i],
                    "sl": sl[i],
                    "ab": a.p_abandon[i],
                    "lq": a.mean_queue_length[i],
                    "occ": a.occupancy[i],
                    "status": "ok",
                }
            )
        title = (
            f"Erlang A, {rate:.5g} calls/s x {aht:g} s = {load:.4g} erlangs, "
            f"mean patience {pat:g} s; SL {args.sl_definition}"
        )
        extra = [Column("wait_all", "wait(all) s", num(2)), Column("ab", "aband %", pct(2))]
    frac = any(n != int(n) for n in agents)
    cols = [
        Column("n", "agents", num(2) if frac else integer),
        Column("p_wait", "P(wait) %", pct(2)),
        Column("sl", f"SL({t:g}s) %", pct(2)),
        Column("asa", "ASA s", num(2)),
        *extra,
        Column("lq", "queue", num(3)),
        Column("occ", "occ %", pct(1)),
    ]
    if model is QueueModel.ERLANG_C:
        cols.append(Column("status", "status", str))
    print(header + title)
    print(render(rows, cols))
    if model is QueueModel.ERLANG_C and not all(r["status"] == "ok" for r in rows):
        print("UNSTABLE: load >= agents, the queue grows without bound (infinite wait)")
    return 0
