"""What the fast driver relies on, checked against slow, obvious recomputations.

The driver buffers level changes and folds them into interval sums with numpy
(``LevelTimes``), schedules payload-carrying SimPy events instead of
``env.timeout`` + closures, and counts KPIs with precomputed column indexes.
Each check below recomputes a result the plain way and must agree:

* the buffered fold against adding one change at a time (bit for bit) and
  against integrating the piecewise-constant levels directly;
* a run's interval counters against the same counts taken from its CDR;
* a run's level integrals (trunks, IVR ports, agent states) and per-interval
  maxima against sweeps over the CDR and the agent timeline.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import simpy

from ccsim.events import AgentState
from ccsim.pbx.model import Center
from ccsim.pbx.records import COUNTER_FIELDS, OUTCOMES, LevelTimes
from ccsim.pbx.run import agent_state_times
from ccsim.pbx.streams import Streams
from ccsim.scenario import Scenario


class _OneAtATime:
    """The pre-buffering ``LevelTimes.change``: every change added to its interval at once."""

    def __init__(self, interval: float, window: tuple[float, float], keys: int) -> None:
        self.iv = interval
        self.window = window
        self.level = [0] * keys
        self.win = [0.0] * keys
        self.partial: list[list[float]] = [[] for _ in range(keys)]
        self.net: list[list[int]] = [[] for _ in range(keys)]
        self.peak: list[list[int]] = [[] for _ in range(keys)]

    def change(self, k: int, delta: int, t: float) -> None:
        i = int(t // self.iv)
        grow = i + 1 - len(self.partial[k])
        if grow > 0:
            self.partial[k].extend([0.0] * grow)
            self.net[k].extend([0] * grow)
            self.peak[k].extend([0] * grow)
        self.partial[k][i] += delta * ((i + 1) * self.iv - t)
        self.net[k][i] += delta
        self.level[k] += delta
        self.peak[k][i] = max(self.peak[k][i], self.level[k])
        w0, w1 = self.window
        if t < w1:
            self.win[k] += delta * (w1 - (t if t > w0 else w0))

    def frame(self, names: list[str], end: float) -> pd.DataFrame:
        rows = []
        for k, name in enumerate(names):
            level = 0
            for i, (part, net, peak) in enumerate(
                zip(self.partial[k], self.net[k], self.peak[k], strict=True)
            ):
                if i * self.iv >= end:
                    break
                area = level * self.iv + part
                top = max(peak, level)
                level += net
                if area or top:
                    rows.append((name, i, area / self.iv, top))
        return pd.DataFrame(rows, columns=["key", "interval", "mean", "max"])


def _random_changes(seed: int, n: int, keys: int) -> list[tuple[int, int, float]]:
    """Changes at non-decreasing times, many on interval boundaries and many tied."""
    rng = np.random.default_rng(seed)
    t = 0.0
    level = [0] * keys
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.2:
            t = (math.floor(t / 10.0) + 1) * 10.0  # exactly on the next boundary
        elif r < 0.8:
            t += float(rng.exponential(1.7))
        k = int(rng.integers(keys))
        delta = int(rng.integers(1, 4)) if level[k] == 0 or rng.random() < 0.5 else -1
        level[k] += delta
        out.append((k, delta, t))
    return out


@pytest.mark.parametrize("fold_every", [1, 7, 1 << 16])
def test_buffered_levels_equal_one_change_at_a_time(fold_every: int) -> None:
    keys, window = 4, (25.0, 700.0)
    changes = _random_changes(3, 3000, keys)
    lv = LevelTimes(10.0, window)
    lv.FOLD_EVERY = fold_every
    ids = [lv.key(f"k{j}") for j in range(keys)]
    ref = _OneAtATime(10.0, window, keys)
    for k, delta, t in changes:
        lv.change(ids[k], delta, t)
        ref.change(k, delta, t)
        assert len(lv.codes) < fold_every  # the buffer stays bounded
    end = changes[-1][2] + 3.0
    for k in range(keys):
        if ref.level[k]:
            ref.change(k, -ref.level[k], end)
    lv.close(end)
    # the same float operations in the same order: equal, not merely close
    pd.testing.assert_frame_equal(lv.frame(), ref.frame(lv.names, end), check_exact=True)
    assert lv.window_area == dict(zip(lv.names, ref.win, strict=True))
    assert lv.level == [0] * keys


def test_buffered_levels_against_direct_integration() -> None:
    """Interval means, maxima and window areas from a plain sweep of the step function."""
    keys, iv, window = 3, 10.0, (15.0, 480.0)
    changes = _random_changes(8, 800, keys)
    lv = LevelTimes(iv, window)
    lv.FOLD_EVERY = 50
    for j in range(keys):
        lv.key(f"k{j}")
    for k, delta, t in changes:
        lv.change(k, delta, t)
    end = changes[-1][2] + 1.0
    lv.close(end)
    frame = lv.frame()
    rows = {
        (key, i): (mean, peak)
        for key, i, mean, peak in zip(
            frame["key"].tolist(),
            frame["interval"].tolist(),
            frame["mean"].tolist(),
            frame["max"].tolist(),
            strict=True,
        )
    }
    for k in range(keys):
        mine = [(t, d) for kk, d, t in changes if kk == k]
        times = np.array([t for t, _ in mine] + [end])
        levels = np.cumsum([d for _, d in mine])  # level from times[j] to times[j + 1]
        area_win = np.sum(levels * (np.clip(times[1:], *window) - np.clip(times[:-1], *window)))
        assert lv.window_area[f"k{k}"] == pytest.approx(area_win, rel=1e-12)
        for i in range(math.ceil(end / iv)):
            lo, hi = i * iv, (i + 1) * iv
            held = np.clip(times[1:], lo, hi) - np.clip(times[:-1], lo, hi)
            area = float(np.sum(levels * held))
            # level at the interval's start (changes before it), and after every change inside
            before = levels[times[:-1] < lo]
            at_start = before[-1] if len(before) else 0
            inside = levels[(times[:-1] >= lo) & (times[:-1] < hi)]
            top = int(max([at_start, *inside.tolist()]))
            if (f"k{k}", i) in rows:
                mean, peak = rows[(f"k{k}", i)]
                assert mean == pytest.approx(area / iv, rel=1e-12, abs=1e-12)
                assert peak == top
            else:
                assert area == pytest.approx(0.0, abs=1e-9) and top == 0


# --------------------------------------------------------------------------- a whole run

SCENARIO = """
skills = ["gen", "vip"]
trunks = 9

[[services]]
name = "line"
ivr = "menu"
arrivals = { rate_per_hour = 420 }
redial_probability = 0.5
redial_delay = { kind = "exponential", mean = 200 }

[[services]]
name = "gen"
routing_point = "gen"
aht = { kind = "exponential", mean = 150 }
wrap_up = { kind = "exponential", mean = 10 }
patience = { kind = "exponential", mean = 60 }
redial_probability = 0.3
redial_delay = { kind = "exponential", mean = 300 }

[[services]]
name = "vip"
priority = 5
arrivals = { rate_per_hour = 40 }
aht = 120
patience = { kind = "exponential", mean = 120 }

[ivr]
ports = 4

[[ivr.nodes]]
kind = "menu"
name = "menu"
duration = { kind = "exponential", mean = 20 }
abandon = 0.1
branches = [
    { key = "1", to = "self", probability = 0.3 },
    { key = "0", to = "agent", probability = 0.7 },
]

[[ivr.nodes]]
kind = "self_service"
name = "self"
duration = 30
completion = 0.6
otherwise = "agent"

[[ivr.nodes]]
kind = "agent"
name = "agent"
service = "gen"

[[routing_points]]
name = "gen"
steps = [
    { op = "queue", queue = "gen" },
    { op = "wait", seconds = 20 },
    { op = "queue", queue = "vip" },
]

[[agent_groups]]
name = "team"
size = 6
skills = { gen = 1 }
no_answer_probability = 0.05
shifts = [
    { start = "00:00", end = "03:00", agents = 4, breaks = [
        { start = "01:00", duration = 600, reason = "tea", stagger = 120 },
    ] },
    { start = "01:30", end = "04:00", agents = 2 },
]

[[agent_groups]]
name = "vips"
size = 2
skills = { vip = 1, gen = 5 }

[timing]
ring_timeout = 8
wrap_up = 5
"""

HORIZON, WARMUP, INTERVAL = 4 * 3600.0, 1200.0, 900.0


@pytest.fixture(scope="module")
def run() -> Center:
    c = Center(
        Scenario.from_toml_string(SCENARIO),
        streams=Streams(21),
        horizon=HORIZON,
        warmup=WARMUP,
        interval=INTERVAL,
        ring_time=2.0,
    )
    c.run()
    return c


def _cdr(c: Center) -> pd.DataFrame:
    assert c.cdr is not None
    return c.cdr.frame(c.services, c.agents, c.queues)


def test_the_run_exercises_every_path(run: Center) -> None:
    outcomes = set(_cdr(run)["outcome"].astype(str))
    assert {"answered", "abandoned", "blocked", "self_served", "ivr_abandoned"} <= outcomes
    assert (_cdr(run)["attempt"] > 1).any()  # redials
    tl = run.timeline()
    codes = {s: i for i, s in enumerate(AgentState)}
    assert (tl["state"] == codes[AgentState.NOT_READY]).any()  # breaks and RONA
    assert (tl["state"] == codes[AgentState.WORKING_AFTER_CALL]).any()


def test_interval_counters_equal_counts_from_the_cdr(run: Center) -> None:
    df = _cdr(run)
    df = df[df["arrival"] >= WARMUP].assign(interval=(df["arrival"] // INTERVAL).astype(int))
    got = run.counters.frame(run.services).set_index(["interval", "service"])
    want: dict[tuple[int, str], dict[str, float]] = {}

    def cell(i: int, svc: str) -> dict[str, float]:
        return want.setdefault((i, svc), dict.fromkeys(COUNTER_FIELDS, 0.0))

    columns = zip(
        df["interval"].tolist(),
        df["entry_service"].astype(str).tolist(),
        df["service"].astype(str).tolist(),
        df["outcome"].astype(str).tolist(),
        df["offered"].tolist(),
        df["wait"].tolist(),
        df["talk"].tolist(),
        df["wrap"].tolist(),
        strict=True,
    )
    sl = 20.0  # the scenario's default service level threshold
    for interval, entry, service, outcome, offered, wait, talk, wrap in columns:
        cell(interval, entry)["arrived"] += 1
        c = cell(interval, service)
        if outcome != "open":
            c[outcome] += 1
        if math.isnan(offered):
            continue
        c["offered"] += 1
        if outcome == "answered":
            c["wait_answered_sum"] += wait
            c["talk_sum"] += talk
            c["wrap_sum"] += wrap
            c["answered_in_sl"] += wait <= sl
            c["waited"] += wait > 0
        elif outcome == "abandoned":
            c["wait_abandoned_sum"] += wait
            c["waited"] += 1
            c["abandoned_in_sl"] += wait <= sl
    assert sorted(got.index) == sorted(want)
    for key, fields in want.items():
        for name, value in fields.items():
            if name.endswith("_sum"):  # float sums, added in a different order
                assert got.loc[key, name] == pytest.approx(value, rel=1e-12), (key, name)
            else:
                assert got.loc[key, name] == value, (key, name)
    assert set(OUTCOMES) - {"open"} <= set(COUNTER_FIELDS)


def _sweep(
    starts: np.ndarray, ends: np.ndarray, iv: float, end: float, window: tuple[float, float]
) -> tuple[dict[int, tuple[float, int]], float]:
    """Per interval (mean, max) of the number of open spans, and its area over ``window``."""
    points = sorted([(s, 1) for s in starts] + [(e, -1) for e in ends])
    out: dict[int, tuple[float, int]] = {}
    area_win = 0.0
    level, last = 0, 0.0
    peaks: dict[int, int] = {}
    areas: dict[int, float] = {}
    for t, d in [*points, (end, 0)]:
        i0 = int(last // iv)
        for i in range(i0, int(min(t, end - 1e-9) // iv) + 1):
            lo, hi = max(last, i * iv), min(t, (i + 1) * iv)
            if hi > lo:
                areas[i] = areas.get(i, 0.0) + level * (hi - lo)
            peaks[i] = max(peaks.get(i, 0), level)
        area_win += level * max(0.0, min(t, window[1]) - max(last, window[0]))
        level += d
        peaks[int(t // iv)] = max(peaks.get(int(t // iv), 0), level)
        last = t
    for i in areas.keys() | peaks.keys():
        if i * iv < end and (areas.get(i, 0.0) or peaks.get(i, 0)):
            out[i] = (areas.get(i, 0.0) / iv, peaks.get(i, 0))
    return out, area_win


@pytest.mark.parametrize("key", ["trunks", "ivr_ports"])
def test_trunk_and_port_levels_equal_a_sweep_over_the_cdr(run: Center, key: str) -> None:
    df = _cdr(run)
    end = run.levels.end
    if key == "trunks":  # held from arrival to the end of the attempt (blocked: not at all)
        held = df[df["outcome"].astype(str) != "blocked"]
        starts, ends = held["arrival"].to_numpy(), held["ended"].to_numpy()
    else:
        held = df[df["ivr_start"].notna()]
        starts, ends = held["ivr_start"].to_numpy(), held["ivr_end"].fillna(end).to_numpy()
    want, area = _sweep(starts, ends, INTERVAL, end, (WARMUP, HORIZON))
    got = run.levels.frame()
    got = got[got["key"] == key].set_index("interval")
    assert sorted(got.index) == sorted(want)
    for i, (mean, top) in want.items():
        assert got.loc[i, "mean"] == pytest.approx(mean, rel=1e-12, abs=1e-12)
        assert got.loc[i, "max"] == top
    assert run.levels.window_area[key] == pytest.approx(area, rel=1e-12)


def test_agent_state_levels_equal_the_agent_timeline(run: Center) -> None:
    tl = run.timeline()
    labels = [s.value for s in AgentState]
    states = pd.DataFrame(
        {
            "t": tl["t"],
            "agent": [run.agents[a] for a in tl["agent"]],
            "state": [labels[s] for s in tl["state"]],
        }
    )
    per_agent = agent_state_times(states, WARMUP, HORIZON)
    area = run.levels.window_area
    for state in labels:
        assert area["agents:" + state] == pytest.approx(per_agent[state].sum(), rel=1e-12)


def test_driver_events_share_the_environment_in_insertion_order() -> None:
    """Ties at one instant run in the order they were scheduled, as SimPy promises.

    Two outside timeouts due at t = 100 bracket the driver's scheduling of a
    traced arrival at t = 100: the first sees no call yet, the second sees it.
    """
    env = simpy.Environment()
    seen: list[tuple[str, int]] = []
    scenario = Scenario.from_toml_string(
        'skills = ["g"]\n[[services]]\nname = "g"\naht = 50\n'
        '[[agent_groups]]\nname = "a"\nsize = 1\nskills = ["g"]\n'
    )
    c = Center(scenario, streams=Streams(1), horizon=500.0, env=env, arrivals=[(100.0, "g")])
    env.timeout(100.0).callbacks.append(lambda _e: seen.append(("before", c._rows)))
    c.start()
    env.timeout(100.0).callbacks.append(lambda _e: seen.append(("after", c._rows)))
    env.run(until=1000.0)
    assert seen == [("before", 0), ("after", 1)]
    assert env.now == 1000.0  # the driver's events kept SimPy's clock moving forward only
