"""Collectors, checked against sums worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ccsim.pbx.records import CdrStore, LevelTimes, t_interval


def test_level_integrals_by_hand() -> None:
    lv = LevelTimes(50.0, window=(20.0, 80.0))
    k = lv.key("x")
    lv.change(k, 2, 10.0)
    lv.change(k, -1, 40.0)
    lv.change(k, 3, 70.0)
    lv.close(100.0)
    df = lv.frame()
    # [0,50): 0 until 10, 2 until 40, 1 until 50 -> 70 level-seconds; max 2
    # [50,100): 1 until 70, 4 until 100 -> 140 level-seconds; max 4 (carried level 1 < 4)
    assert df["mean"].tolist() == [70 / 50, 140 / 50]
    assert df["max"].tolist() == [2, 4]
    # window [20, 80): 2*20 + 1*30 + 4*10
    assert lv.window_area["x"] == pytest.approx(110.0)


def test_level_carried_into_quiet_interval() -> None:
    lv = LevelTimes(10.0)
    k = lv.key("q")
    lv.change(k, 5, 5.0)
    lv.close(35.0)
    df = lv.frame().set_index("interval")
    assert df.loc[1, "mean"] == 5.0 and df.loc[1, "max"] == 5  # no change inside, level 5 all along
    assert df.loc[3, "mean"] == pytest.approx(2.5)


def test_cdr_store_rows_by_attempt_id_and_growth() -> None:
    store = CdrStore(capacity=2)
    nan = math.nan
    for row in (3, 0, 2, 1):  # completion order differs from arrival order
        store.add(
            row,
            (
                float(row),
                nan,
                nan,
                float(row),
                nan,
                float(row) + 1,
                0.0,
                row,
                -1,
                -1,
                -1,
                0,
                0,
                1,
                1,
                0,
            ),
        )
    df = store.frame(["s"], [], [])
    assert df["attempt_id"].tolist() == [0, 1, 2, 3]
    assert df["arrival"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert df["outcome"].astype(str).tolist() == ["abandoned"] * 4
    assert np.allclose(df["wait"], 1.0)


def test_t_interval_matches_scipy_free_hand_value() -> None:
    mean, lo, hi = t_interval([1.0, 2.0, 3.0, 4.0])
    # t(0.975, 3) = 3.182446305284263, s = 1.2909944487358056, n = 4
    half = 3.182446305284263 * 1.2909944487358056 / 2
    assert mean == 2.5 and lo == pytest.approx(2.5 - half) and hi == pytest.approx(2.5 + half)
    assert t_interval([7.0])[1:] == (-math.inf, math.inf)
