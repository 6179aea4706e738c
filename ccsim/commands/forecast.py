"""``ccsim forecast HISTORY.csv``: forecast a day or a week of calls and AHT per interval."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from ccsim.cli import CliError
from ccsim.commands._table import Column, num, pct, render_frame
from ccsim.planning.forecast import (
    Backtest,
    ForecastModel,
    HistoryError,
    backtest,
    fit_forecast,
    read_history,
)

DAILY = (
    Column("date", "date", str),
    Column("weekday", "day", str),
    Column("offered", "calls", num(0)),
    Column("aht", "aht s", num(1)),
)
BACKTEST = (
    Column("date", "date", str),
    Column("weekday", "day", str),
    Column("actual", "actual", num(0)),
    Column("forecast", "forecast", num(0)),
    Column("wape", "WAPE %", pct(1)),
    Column("mape", "MAPE %", pct(1)),
    Column("bias", "bias %", pct(1)),
)


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "forecast",
        help="forecast calls and AHT per interval from a history CSV",
        description=(
            "Fit day-of-week and intra-day profiles, a trend and the over-dispersion to a "
            "history CSV (columns interval_start as ISO date-time, offered, aht; several "
            "weeks of 15- or 30-min intervals) and forecast the following days. The output "
            "CSV is input for 'ccsim staff'."
        ),
    )
    p.add_argument("history", type=Path, metavar="HISTORY.csv")
    span = p.add_mutually_exclusive_group()
    span.add_argument(
        "--days", type=int, default=1, metavar="N", help="days to forecast (default 1)"
    )
    span.add_argument("--week", action="store_true", help="forecast the next 7 days")
    p.add_argument(
        "--backtest-weeks", type=int, default=0, metavar="K",
        help="also hold out the last K weeks and report WAPE/MAPE/bias per day",
    )  # fmt: skip
    p.add_argument("--out", type=Path, metavar="FILE.csv", help="write the forecast intervals here")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    days = 7 if args.week else args.days
    if days < 1:
        raise CliError(f"--days: must be >= 1, got {days}")
    if args.backtest_weeks < 0:
        raise CliError(f"--backtest-weeks: must be >= 0, got {args.backtest_weeks}")
    steps = ["read", "fit", "forecast"] + (["backtest"] if args.backtest_weeks else [])
    bar = tqdm(steps, desc="forecast", file=sys.stderr, disable=args.quiet or None)
    it = iter(bar)
    bt: Backtest | None = None
    try:
        next(it)
        hist = read_history(args.history)
        next(it)
        model = fit_forecast(hist)
        next(it)
        fc = model.predict(days=days)
        if args.backtest_weeks:
            next(it)
            bt = backtest(hist, weeks=args.backtest_weeks, interval=model.interval)
        for _ in it:
            pass
    except HistoryError as exc:
        msg = str(exc)
        raise CliError(msg if exc.source is not None else f"{args.history}: {msg}") from None
    except ValueError as exc:
        raise CliError(f"{args.history}: {exc}") from None
    finally:
        bar.close()
    print(describe(model))
    print()
    daily = fc.daily().reset_index()
    daily["date"] = [d.strftime("%Y-%m-%d") for d in daily["date"]]
    print(render_frame(daily, DAILY))
    if bt is not None:
        print()
        print(f"backtest: last {args.backtest_weeks} week(s) held out")
        per_day = bt.per_day.assign(date=bt.per_day["date"].astype(str))
        print(render_frame(per_day, BACKTEST))
        o = bt.overall
        print(
            f"overall: WAPE {100 * o['wape']:.1f}%, MAPE {100 * o['mape']:.1f}%, "
            f"bias {100 * o['bias']:+.1f}%"
        )
    if args.out is not None:
        try:
            fc.to_csv(args.out)
        except OSError as exc:
            raise CliError(f"--out: cannot write {args.out}: {exc.strerror}") from None
        print(f"\nwrote {args.out}")
    return 0


def describe(model: ForecastModel) -> str:
    """What was fitted: history span, trend, weekday factors and dispersion."""
    names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    factors = ", ".join(f"{n} {w:.2f}" for n, w in zip(names, model.weekly, strict=True))
    shape = "inf (Poisson)" if math.isinf(model.gamma_shape) else f"{model.gamma_shape:.0f}"
    lines = [
        f"history: {(model.end - model.origin).days} days of {model.interval / 60:g}-min "
        f"intervals, {model.origin.date()} to {(model.end - pd.Timedelta(days=1)).date()}"
        + (
            f"; {len(model.days_excluded)} day(s) without calls left out"
            if model.days_excluded
            else ""
        ),
        f"trend: {100 * model.trend_per_week:+.1f}% per week",
        f"weekday factors: {factors}",
        f"daily volume cv: {model.daily_cv:.3f} (gamma shape {shape}); "
        f"interval dispersion index {model.dispersion_index:.2f}",
    ]
    return "\n".join(lines)
