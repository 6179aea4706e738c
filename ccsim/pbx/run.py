"""``simulate``: replications of a scenario, KPIs, and confidence intervals.

A single run of a loaded queue is not an estimate (DESIGN.md §5): waits are
autocorrelated. ``simulate`` runs independent replications (each with its own
streams from one seed, so policy comparisons get common random numbers),
computes each replication's KPIs, and reports means with Student-t 95%
confidence intervals across replications.

KPI definitions (per service and for all services; a call counts in the
interval it arrived in; attempts arriving before ``warmup`` are not counted):

* ``offered`` reached the ACD; ``answered``, ``abandoned``, ``overflowed``,
  ``disconnected``, ``callback`` are its outcomes; ``blocked`` (no trunk or
  IVR port), ``self_served`` and ``ivr_abandoned`` ended before the ACD;
* ``sl`` = answered within the service's threshold / offered — the default
  definition; ``sl_answered`` = ... / answered; ``sl_short_abandons_excluded``
  = ... / (offered − abandoned within the threshold);
* ``asa`` mean wait of answered calls; ``mean_wait_abandoned``;
  ``p_wait`` = share of offered calls that waited (were not answered at once);
  ``abandon_rate`` = abandoned / offered; ``aht`` = mean talk + wrap-up;
* ``occupancy`` = agent time ringing, talking or in wrap-up over agent time
  logged on and not "not ready"; trunk and IVR-port utilisation = mean busy /
  capacity; ``max_queue`` per skill.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ccsim.events import AgentState
from ccsim.pbx.model import DAY, Center
from ccsim.pbx.records import COUNTER_FIELDS, categorical, t_interval
from ccsim.pbx.streams import Streams
from ccsim.scenario import Scenario

__all__ = ["ReplicationResult", "SimulationResult", "derive_kpis", "simulate"]

_WORKING = ("reserved", "busy", "workingAfterCall")
_STAFFED = ("ready", *_WORKING)


def derive_kpis(sums: pd.DataFrame) -> pd.DataFrame:
    """Ratios from counter sums (one row per group); empty denominators give NaN."""

    def ratio(num: pd.Series, den: pd.Series) -> pd.Series:
        den = den.astype(float)
        return (num / den.where(den > 0)).astype(float)

    out = sums.copy()
    out["sl"] = ratio(sums["answered_in_sl"], sums["offered"])
    out["sl_answered"] = ratio(sums["answered_in_sl"], sums["answered"])
    out["sl_short_abandons_excluded"] = ratio(
        sums["answered_in_sl"], sums["offered"] - sums["abandoned_in_sl"]
    )
    out["asa"] = ratio(sums["wait_answered_sum"], sums["answered"])
    out["mean_wait_abandoned"] = ratio(sums["wait_abandoned_sum"], sums["abandoned"])
    out["p_wait"] = ratio(sums["waited"], sums["offered"])
    out["abandon_rate"] = ratio(sums["abandoned"], sums["offered"])
    out["aht"] = ratio(sums["talk_sum"] + sums["wrap_sum"], sums["answered"])
    out["mean_talk"] = ratio(sums["talk_sum"], sums["answered"])
    return out


@dataclass
class ReplicationResult:
    """What one replication produced."""

    replication: int
    intervals: pd.DataFrame
    levels: pd.DataFrame
    kpis: dict[str, float]
    cdr: pd.DataFrame | None = None
    agent_states: pd.DataFrame | None = None
    rejected: int = 0
    calls: int = 0


@dataclass
class SimulationResult:
    """Replications of one scenario and their summary with confidence intervals."""

    scenario: Scenario
    seed: int
    horizon: float
    warmup: float
    interval: float
    replications: list[ReplicationResult] = field(default_factory=list)

    def summary(self, confidence: float = 0.95) -> pd.DataFrame:
        """Mean and t-interval across replications of every scalar KPI."""
        keys = sorted({k for r in self.replications for k in r.kpis})
        rows = []
        for k in keys:
            values = [r.kpis.get(k, math.nan) for r in self.replications]
            mean, lo, hi = t_interval(values, confidence)
            rows.append((k, mean, lo, hi, len(values)))
        return pd.DataFrame(rows, columns=["kpi", "mean", "ci_low", "ci_high", "n"]).set_index(
            "kpi"
        )

    def kpi(self, name: str) -> tuple[float, float, float]:
        """(mean, ci_low, ci_high) of one KPI, e.g. ``'general.asa'`` or ``'all.sl'``."""
        values = [r.kpis.get(name, math.nan) for r in self.replications]
        return t_interval(values)

    @property
    def cdr(self) -> pd.DataFrame:
        """All replications' call detail records (column ``replication``)."""
        frames = [
            r.cdr.assign(replication=r.replication) for r in self.replications if r.cdr is not None
        ]
        if not frames:
            raise ValueError("records were not kept (simulate(..., record=False))")
        return pd.concat(frames, ignore_index=True)

    @property
    def agent_states(self) -> pd.DataFrame:
        frames = [
            r.agent_states.assign(replication=r.replication)
            for r in self.replications
            if r.agent_states is not None
        ]
        if not frames:
            raise ValueError("records were not kept (simulate(..., record=False))")
        return pd.concat(frames, ignore_index=True)

    def agent_occupancy(self) -> pd.DataFrame:
        """Per replication and agent: seconds in each state over [warmup, horizon), and occupancy.

        Occupancy is time ringing, talking or in wrap-up over time logged on and
        not "not ready" (the same definition as ``all.occupancy``).
        """
        frames = []
        for r in self.replications:
            if r.agent_states is None:
                raise ValueError("records were not kept (simulate(..., record=False))")
            frames.append(
                agent_state_times(r.agent_states, self.warmup, self.horizon).assign(
                    replication=r.replication
                )
            )
        return pd.concat(frames).reset_index().set_index(["replication", "agent"])

    def interval_kpis(self) -> pd.DataFrame:
        """Per interval and service: KPI means across replications."""
        frames = [r.intervals.assign(replication=r.replication) for r in self.replications]
        df = pd.concat(frames, ignore_index=True)
        sums = df.groupby(["interval", "service"], observed=True)[list(COUNTER_FIELDS)].sum()
        n = len(self.replications)
        out = derive_kpis(sums.reset_index())
        for c in COUNTER_FIELDS:
            out[c] = out[c] / n
        out.insert(1, "start", out["interval"] * self.interval)
        return out


def agent_state_times(states: pd.DataFrame, start: float, end: float) -> pd.DataFrame:
    """Seconds each agent spent in each state within [start, end), plus ``occupancy``.

    ``states`` is an agent-state timeline (columns t, agent, state): each row
    holds until the agent's next row (or ``end``).
    """
    df = states.sort_values(["agent", "t"], kind="stable")
    t = df["t"].to_numpy(dtype=float)
    agent = df["agent"].to_numpy()
    nxt = np.append(t[1:], end)
    last = np.append(agent[1:] != agent[:-1], True)
    nxt = np.where(last, end, nxt)
    held = np.clip(nxt, start, end) - np.clip(t, start, end)
    out = (
        pd.DataFrame({"agent": df["agent"].to_numpy(), "state": df["state"].astype(str), "s": held})
        .groupby(["agent", "state"], observed=True)["s"]
        .sum()
        .unstack(fill_value=0)
    )
    for state in (s.value for s in AgentState):
        if state not in out.columns:
            out[state] = 0.0
    working = out[list(_WORKING)].sum(axis=1)
    staffed = out[list(_STAFFED)].sum(axis=1)
    out["occupancy"] = working / staffed.where(staffed > 0)
    out.columns.name = None
    return out


def _replication_kpis(
    center: Center, warmup: float
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    intervals = center.counters.frame(center.services)
    levels = center.levels.frame()
    kpis: dict[str, float] = {}
    if len(intervals):
        per_service = intervals.groupby("service")[list(COUNTER_FIELDS)].sum()
        total = per_service.sum().to_frame("all").T
        derived = derive_kpis(pd.concat([per_service, total]))
        for svc, row in derived.iterrows():
            for col, v in row.items():
                kpis[f"{svc}.{col}"] = float(v)
    # time-weighted levels over exactly [warmup, horizon): the drain after the
    # horizon (agents idling while the last calls finish) is excluded
    area = center.levels.window_area
    staffed = sum(area.get("agents:" + s, 0.0) for s in _STAFFED)
    working = sum(area.get("agents:" + s, 0.0) for s in _WORKING)
    kpis["all.occupancy"] = working / staffed if staffed > 0 else math.nan
    span = max(center.horizon - warmup, 1e-9)
    if center.trunks is not None:
        kpis["all.trunk_utilisation"] = area.get("trunks", 0.0) / span / center.trunks
    if center.ivr_ports is not None:
        kpis["all.ivr_utilisation"] = area.get("ivr_ports", 0.0) / span / center.ivr_ports
    iv = center.interval
    first = math.floor(warmup / iv)
    last = math.ceil(center.horizon / iv)
    measured = levels[(levels["interval"] >= first) & (levels["interval"] < last)]
    for q in center.queues:
        peaks = measured.loc[measured["key"] == "queue:" + q, "max"]
        kpis[f"{q}.max_queue"] = float(peaks.max()) if len(peaks) else 0.0
    return intervals, levels, kpis


def _run_one(args: tuple[Scenario, int, int, dict[str, Any]]) -> ReplicationResult:
    scenario, seed, rep, kw = args
    center = Center(scenario, streams=Streams(seed, rep), **kw)
    center.run()
    intervals, levels, kpis = _replication_kpis(center, kw.get("warmup", 0.0))
    cdr = states = None
    if center.cdr is not None:
        cdr = center.cdr.frame(center.services, center.agents, center.queues)
        center.cdr = None  # free the packed rows before building the next frame (peak memory)
        tl = center.timeline()
        center.drop_timeline()
        states = pd.DataFrame(
            {
                "t": tl["t"],
                "agent": categorical(tl["agent"], center.agents),
                "state": categorical(tl["state"], [s.value for s in AgentState]),
            }
        )
    return ReplicationResult(
        replication=rep,
        intervals=intervals,
        levels=levels,
        kpis=kpis,
        cdr=cdr,
        agent_states=states,
        rejected=len(center.rejected),
        calls=center._rows,
    )


def simulate(
    scenario: Scenario,
    *,
    seed: int = 0,
    replications: int = 1,
    horizon: float | None = None,
    warmup: float = 0.0,
    interval: float = 1800.0,
    record: bool = True,
    ring_time: float = 0.0,
    processes: int = 1,
    policies: dict[str, Any] | None = None,
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
    executor: Any = None,
    engine: str = "full",
) -> SimulationResult:
    """Simulate ``replications`` independent runs of ``scenario``.

    ``horizon`` (seconds, default one day) ends arrivals; ``warmup`` excludes
    early arrivals from KPIs; ``processes`` > 1 runs replications in a process
    pool; ``policies`` overrides the scenario's policy objects (keys
    ``agent_selector``, ``call_selector``, ``discipline``, ``ewt``);
    ``progress`` wraps the replication iterator (e.g. ``tqdm.tqdm``);
    ``executor`` runs the replications instead (anything
    ``ccsim.planning.sweep.make_executor`` accepts: ``"processes:2"``, a Dask
    ``Client`` or ``"tcp://host:8786"``, an executor reused across calls) —
    the results are the same whichever executor runs them. ``engine="fast"``
    runs the compiled fast path (``ccsim.pbx.fast``: exact for one FCFS agent
    pool; other scenarios are refused with the feature named).
    """
    if engine == "fast":
        from ccsim.pbx.fast import simulate_fast  # noqa: PLC0415 - numba loads on demand

        return simulate_fast(
            scenario,
            seed=seed,
            replications=replications,
            horizon=horizon,
            warmup=warmup,
            interval=interval,
            record=record,
            ring_time=ring_time,
            processes=processes,
            policies=policies,
            progress=progress,
            executor=executor,
        )
    if engine != "full":
        raise ValueError(f"engine must be 'full' or 'fast', got {engine!r}")
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise ValueError(f"replications must be an int >= 1, got {replications!r}")
    if processes < 1:
        raise ValueError(f"processes must be >= 1, got {processes!r}")
    horizon = DAY if horizon is None else float(horizon)
    kw: dict[str, Any] = {
        "horizon": horizon,
        "warmup": warmup,
        "interval": interval,
        "record": record,
        "ring_time": ring_time,
        "policies": policies,
    }
    # Validate once, before any replication starts (errors name the argument).
    Center(scenario, streams=Streams(seed, 0), **kw)
    jobs = [(scenario, seed, rep, kw) for rep in range(replications)]
    result = SimulationResult(scenario, seed, horizon, warmup, interval)
    from ccsim.planning.sweep import executor_scope  # noqa: PLC0415 - keeps pbx imports light

    spec = executor if executor is not None else (processes if replications > 1 else 1)
    with executor_scope(spec) as ex:
        result.replications = ex.map(_run_one, jobs, progress=progress)
    return result


def paired_difference(
    a: SimulationResult, b: SimulationResult, kpi: str, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Mean of ``b - a`` for one KPI over paired replications (common random numbers)."""
    if a.seed != b.seed or len(a.replications) != len(b.replications):
        raise ValueError("paired comparison needs the same seed and number of replications")
    diffs: Sequence[float] = [
        rb.kpis.get(kpi, math.nan) - ra.kpis.get(kpi, math.nan)
        for ra, rb in zip(a.replications, b.replications, strict=True)
    ]
    return t_interval(np.asarray(diffs), confidence)
