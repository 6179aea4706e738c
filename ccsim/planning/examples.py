"""Built-in example data, shared by ``ccsim demo``, the tests, docs and notebooks."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["EXAMPLE_DAY_CALLS", "example_day"]

#: Calls offered over the example day.
EXAMPLE_DAY_CALLS = 25_000


def _bump(hours: np.ndarray, centre: float, width: float) -> np.ndarray:
    return np.asarray(np.exp(-0.5 * ((hours - centre) / width) ** 2))


def example_day(date: str = "2024-05-06") -> pd.DataFrame:
    """A weekday at a provincial mobile operator's customer hotline.

    48 half-hour intervals with the shape such hotlines show: a night trough
    (02:00-06:00), a steep morning ramp, the daily peak late in the morning,
    a lunch dip, a broad afternoon and a second, evening peak when customers
    are home (20:00-21:30), then a fall towards midnight. About 25,000 calls;
    AHT near 240 s (a little longer at night, when calls are fewer but
    harder); mean caller patience 120 s.

    Columns: ``interval_start`` (Timestamp), ``offered`` (calls),
    ``aht`` (s), ``patience`` (s). Deterministic: no random numbers.
    """
    hours = (np.arange(48) + 0.5) / 2  # interval mid-points
    shape = (
        0.03
        + 1.00 * _bump(hours, 10.6, 1.5)
        + 0.70 * _bump(hours, 15.0, 1.9)
        + 0.80 * _bump(hours, 20.7, 1.2)
        + 0.25 * _bump(hours, 13.0, 4.0)
    )
    raw = shape / shape.sum() * EXAMPLE_DAY_CALLS
    offered = np.floor(raw).astype(np.int64)
    # largest remainders get the leftover calls, so the total is exact
    short = EXAMPLE_DAY_CALLS - int(offered.sum())
    offered[np.argsort(raw - offered)[::-1][:short]] += 1
    aht = np.round(232.0 + 22.0 * (1.0 - shape / shape.max()), 1)
    start = pd.Timestamp(date) + pd.to_timedelta(np.arange(48) * 30, unit="min")
    return pd.DataFrame(
        {
            "interval_start": start,
            "offered": offered,
            "aht": aht,
            "patience": np.full(48, 120.0),
        }
    )
