"""Capacity studies built on ``ccsim.simulate``: overflow, expansion, policy comparison.

* **Overflow study** (话务溢出): scale a scenario's traffic over a range of
  multipliers and measure where it breaks — blocking, abandonment, service
  level, occupancy, trunk and IVR-port utilisation — with confidence intervals.
* **Expansion study** (扩容): along a growth path, find the cheapest additions
  of agents per group, trunks and IVR ports that keep every service's target.
* **Policy comparison**: the same scenario under several routing policies with
  common random numbers, reported as paired differences with confidence
  intervals against a baseline.

All replications of a study go through one executor
(``ccsim.planning.sweep``): a local process pool of 2 workers by default,
reused for the whole study, or Dask distributed with ``executor=`` (a
``Client`` or ``"tcp://host:8786"``). An 8-level x 10-replication study keeps
both cores busy, and the results are the same whatever the executor.
Results are DataFrames; ``save``/``load`` keep a study as a folder of CSV and
JSON, readable without ccsim.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ccsim.pbx.records import t_interval
from ccsim.pbx.run import ReplicationResult, _run_one
from ccsim.planning.sweep import Executor, Progress, executor_scope
from ccsim.scenario import AgentGroup, Scenario

__all__ = [
    "ExpansionStep",
    "ExpansionStudy",
    "OverflowStudy",
    "compare_policies",
    "expansion_study",
    "load_study",
    "overflow_study",
    "scale_traffic",
]

#: KPIs an overflow study reports per multiplier (``all.*`` and per service).
OVERFLOW_KPIS = (
    "offered",
    "answered",
    "blocked",
    "abandon_rate",
    "sl",
    "asa",
    "occupancy",
    "trunk_utilisation",
    "ivr_utilisation",
)


def scale_traffic(scenario: Scenario, factor: float) -> Scenario:
    """The same center with every service's arrivals multiplied by ``factor``."""
    if not factor > 0 or not math.isfinite(factor):
        raise ValueError(f"factor must be a positive number, got {factor!r}")
    services = []
    for svc in scenario.services:
        arr = svc.arrivals
        if arr is None:
            services.append(svc)
            continue
        if arr.calls is not None:
            arr = arr.model_copy(update={"calls": tuple(c * factor for c in arr.calls)})
        else:
            assert arr.rate_per_hour is not None
            arr = arr.model_copy(update={"rate_per_hour": arr.rate_per_hour * factor})
        services.append(svc.model_copy(update={"arrivals": arr}))
    return scenario.model_copy(update={"services": tuple(services)})


def with_capacity(
    scenario: Scenario,
    *,
    agents: Mapping[str, int] | None = None,
    trunks: int | None = None,
    ivr_ports: int | None = None,
) -> Scenario:
    """The same center with ``agents`` added to groups (by name) and new trunk/port counts.

    Added agents work like the group's others; in a group with shifts they
    join its first shift.
    """
    update: dict[str, Any] = {}
    if agents:
        groups: list[AgentGroup] = []
        for g in scenario.agent_groups:
            extra = agents.get(g.name, 0)
            if extra:
                changes: dict[str, Any] = {"size": g.size + extra}
                if g.stations is not None:
                    changes["stations"] = (
                        *g.stations,
                        *(f"{g.name}-x{k + 1:03d}" for k in range(extra)),
                    )
                if g.shifts and g.shifts[0].agents is not None:
                    first = g.shifts[0].model_copy(update={"agents": g.shifts[0].agents + extra})
                    changes["shifts"] = (first, *g.shifts[1:])
                groups.append(g.model_copy(update=changes))
            else:
                groups.append(g)
        update["agent_groups"] = tuple(groups)
    if trunks is not None and scenario.trunks is not None:
        update["trunks"] = scenario.trunks.model_copy(update={"count": trunks})
    if ivr_ports is not None and scenario.ivr is not None:
        update["ivr"] = scenario.ivr.model_copy(update={"ports": ivr_ports})
    return scenario.model_copy(update=update)


def _run_jobs(
    jobs: list[tuple[Scenario, int, int, dict[str, Any]]],
    executor: Executor,
    progress: Progress | None = None,
) -> list[ReplicationResult]:
    """Every replication job through the study's one executor, results in job order."""
    return executor.map(_run_one, jobs, progress=progress)


def _sim_kwargs(horizon: float | None, warmup: float, interval: float) -> dict[str, Any]:
    return {
        "horizon": 86_400.0 if horizon is None else float(horizon),
        "warmup": warmup,
        "interval": interval,
        "record": False,
        "ring_time": 0.0,
        "policies": None,
    }


def _summarise(
    reps: Sequence[ReplicationResult], keys: Iterable[str]
) -> dict[str, tuple[float, float, float]]:
    return {k: t_interval([r.kpis.get(k, math.nan) for r in reps]) for k in keys}


# ---------------------------------------------------------------------------- overflow


@dataclass
class OverflowStudy:
    """KPIs against the traffic multiplier: ``summary`` has one row per (multiplier, kpi)."""

    scenario_name: str
    multipliers: list[float]
    replications: int
    seed: int
    summary: pd.DataFrame
    intervals: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: the scenario at forecast traffic (kept so a saved study can be reported on later)
    scenario: Scenario | None = None

    def curve(self, kpi: str) -> pd.DataFrame:
        """One KPI (e.g. ``'all.sl'``) with its CI for every multiplier."""
        return self.summary[self.summary["kpi"] == kpi].set_index("multiplier")[
            ["mean", "ci_low", "ci_high"]
        ]

    def breaking_point(self, kpi: str, limit: float, *, above: bool = False) -> float | None:
        """The smallest multiplier whose mean ``kpi`` falls below ``limit`` (or rises above it)."""
        c = self.curve(kpi)
        bad = c["mean"] > limit if above else c["mean"] < limit
        hits = c.index[bad.to_numpy()]
        return float(hits.min()) if len(hits) else None

    def save(self, path: str | Path) -> Path:
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        meta = {
            "kind": "overflow",
            "scenario": self.scenario_name,
            "multipliers": self.multipliers,
            "replications": self.replications,
            "seed": self.seed,
        }
        (out / "study.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        if self.scenario is not None:
            data = self.scenario.model_dump(mode="json", by_alias=True)
            text = json.dumps(data, indent=1, ensure_ascii=False)
            (out / "scenario.json").write_text(text, encoding="utf-8")
        self.summary.to_csv(out / "summary.csv", index=False)
        self.intervals.to_csv(out / "intervals.csv", index=False)
        return out


def overflow_study(
    scenario: Scenario,
    multipliers: Sequence[float] = (0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5),
    *,
    seed: int = 0,
    replications: int = 5,
    horizon: float | None = None,
    warmup: float = 0.0,
    interval: float = 1800.0,
    processes: int = 2,
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
    executor: Any = None,
) -> OverflowStudy:
    """Simulate ``scenario`` at each traffic multiplier (same seed: common random numbers).

    ``processes`` is a shortcut for a local pool; ``executor`` (see
    ``ccsim.planning.sweep.make_executor``) overrides it.
    """
    if not multipliers:
        raise ValueError("multipliers must not be empty")
    if replications < 1:
        raise ValueError(f"replications must be >= 1, got {replications!r}")
    kw = _sim_kwargs(horizon, warmup, interval)
    mults = [float(m) for m in multipliers]
    scaled = [scale_traffic(scenario, m) for m in mults]
    jobs = [(sc, seed, rep, kw) for sc in scaled for rep in range(replications)]
    with executor_scope(executor, processes=processes) as ex:
        results = _run_jobs(jobs, ex, progress)
    names = [s.name for s in scenario.services] + ["all"]
    rows = []
    frames = []
    for i, m in enumerate(mults):
        reps = results[i * replications : (i + 1) * replications]
        keys = [f"{n}.{k}" for n in names for k in OVERFLOW_KPIS]
        for key, (mean, lo, hi) in _summarise(reps, keys).items():
            if not math.isnan(mean):
                rows.append((m, key, mean, lo, hi))
        for r in reps:
            frames.append(r.intervals.assign(multiplier=m, replication=r.replication))
    summary = pd.DataFrame(rows, columns=["multiplier", "kpi", "mean", "ci_low", "ci_high"])
    intervals = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return OverflowStudy(scenario.name, mults, replications, seed, summary, intervals, scenario)


# ---------------------------------------------------------------------------- expansion


@dataclass
class ExpansionStep:
    """The cheapest capacity found for one year of the growth path."""

    year: int
    multiplier: float
    agents_added: dict[str, int]
    trunks: int | None
    ivr_ports: int | None
    cost: float
    meets_targets: bool
    kpis: dict[str, float]


@dataclass
class ExpansionStudy:
    scenario_name: str
    steps: list[ExpansionStep]

    def table(self) -> pd.DataFrame:
        """One row per year: additions, cost, and each service's service level."""
        rows = []
        for s in self.steps:
            row: dict[str, Any] = {
                "year": s.year,
                "traffic": s.multiplier,
                **{f"+{g}": n for g, n in s.agents_added.items()},
                "trunks": s.trunks,
                "ivr_ports": s.ivr_ports,
                "cost": s.cost,
                "meets_targets": s.meets_targets,
            }
            row.update({k: v for k, v in s.kpis.items() if k.endswith(".sl")})
            rows.append(row)
        return pd.DataFrame(rows)

    def save(self, path: str | Path) -> Path:
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        meta = {"kind": "expansion", "scenario": self.scenario_name}
        (out / "study.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        steps = [s.__dict__ for s in self.steps]
        (out / "steps.json").write_text(json.dumps(steps, indent=2), encoding="utf-8")
        self.table().to_csv(out / "table.csv", index=False)
        return out


def _shortfall(scenario: Scenario, kpis: Mapping[str, float]) -> float:
    """How far the services are below their service-level goals (0 when all are met)."""
    total = 0.0
    for svc in scenario.services:
        if not svc.reaches_agents:
            continue
        sl = kpis.get(f"{svc.name}.sl", math.nan)
        if math.isnan(sl):
            continue
        goal = (svc.service_level or scenario.service_level).fraction
        total += max(0.0, goal - sl)
    blocked = kpis.get("all.blocked", 0.0)
    arrived = kpis.get("all.arrived", 0.0)
    if arrived > 0:
        total += max(0.0, blocked / arrived - 0.01)  # blocking above 1% also counts
    return total


def expansion_study(
    scenario: Scenario,
    *,
    growth: float = 0.10,
    years: int = 3,
    costs: Mapping[str, float] | None = None,
    agent_step: int = 0,
    seed: int = 0,
    replications: int = 3,
    horizon: float | None = None,
    warmup: float = 0.0,
    max_steps: int = 60,
    processes: int = 2,
    executor: Any = None,
) -> ExpansionStudy:
    """Greedy marginal analysis: add the capacity unit that closes most shortfall per cost.

    Each year scales traffic by ``(1 + growth) ** year`` and starts from the
    previous year's capacity. Candidates are ``agent_step`` more agents in one
    group (default: 5% of the group, at least 1), 10% more trunks, 10% more IVR
    ports; ``costs`` gives the price of one ``agent``, ``trunk`` and ``ivr_port``
    (defaults 1.0, 0.1, 0.05). A service's target counts as met when its mean
    service level over the replications reaches the goal (and blocking stays
    under 1%). All evaluations share one executor (``processes`` workers, or
    ``executor``), started once for the whole study.
    """
    price = {"agent": 1.0, "trunk": 0.1, "ivr_port": 0.05, **(costs or {})}
    kw = _sim_kwargs(horizon, warmup, 1800.0)
    added = {g.name: 0 for g in scenario.agent_groups}
    trunks = scenario.trunks.count if scenario.trunks is not None else None
    ports = scenario.ivr.ports if scenario.ivr is not None else None
    base_trunks, base_ports = trunks, ports

    # one executor for the whole study: a pool starts once, not once per step
    stack = contextlib.ExitStack()
    ex = stack.enter_context(executor_scope(executor, processes=processes))

    def evaluate_all(scenarios: list[Scenario]) -> list[dict[str, float]]:
        """Mean KPIs of each scenario; all replications of all of them in one batch."""
        jobs = [(sc, seed, r, kw) for sc in scenarios for r in range(replications)]
        reps = _run_jobs(jobs, ex)
        out = []
        for i in range(len(scenarios)):
            mine = reps[i * replications : (i + 1) * replications]
            out.append({k: v[0] for k, v in _summarise(mine, mine[0].kpis.keys()).items()})
        return out

    def evaluate(sc: Scenario) -> dict[str, float]:
        return evaluate_all([sc])[0]

    def build(mult: float, add: Mapping[str, int], tr: int | None, pt: int | None) -> Scenario:
        return with_capacity(scale_traffic(scenario, mult), agents=add, trunks=tr, ivr_ports=pt)

    try:
        steps: list[ExpansionStep] = []
        for year in range(1, years + 1):
            mult = (1.0 + growth) ** year
            kpis = evaluate(build(mult, added, trunks, ports))
            gap = _shortfall(scenario, kpis)
            for _ in range(max_steps):
                if gap <= 0:
                    break
                best: tuple[float, dict[str, Any], dict[str, float], float] | None = None
                candidates: list[tuple[dict[str, Any], float]] = []
                for g in scenario.agent_groups:
                    k = agent_step or max(1, round(0.05 * g.size))
                    candidates.append(
                        ({"agents": {**added, g.name: added[g.name] + k}}, k * price["agent"])
                    )
                if trunks is not None:
                    k = max(1, round(0.1 * trunks))
                    candidates.append(({"trunks": trunks + k}, k * price["trunk"]))
                if ports is not None:
                    k = max(1, round(0.1 * ports))
                    candidates.append(({"ivr_ports": ports + k}, k * price["ivr_port"]))
                trials = [
                    build(
                        mult,
                        change.get("agents", added),
                        change.get("trunks", trunks),
                        change.get("ivr_ports", ports),
                    )
                    for change, _ in candidates
                ]
                for (change, cost), k2 in zip(candidates, evaluate_all(trials), strict=True):
                    gain = (gap - _shortfall(scenario, k2)) / cost
                    if best is None or gain > best[0]:
                        best = (gain, change, k2, cost)
                assert best is not None
                if best[0] <= 0:
                    break  # nothing helps any more: report the gap
                change = best[1]
                added = dict(change.get("agents", added))
                trunks = change.get("trunks", trunks)
                ports = change.get("ivr_ports", ports)
                kpis = best[2]
                gap = _shortfall(scenario, kpis)
            cost = sum(added.values()) * price["agent"]
            if trunks is not None and base_trunks is not None:
                cost += (trunks - base_trunks) * price["trunk"]
            if ports is not None and base_ports is not None:
                cost += (ports - base_ports) * price["ivr_port"]
            steps.append(
                ExpansionStep(year, mult, dict(added), trunks, ports, cost, gap <= 0, dict(kpis))
            )
    finally:
        stack.close()
    return ExpansionStudy(scenario.name, steps)


# ---------------------------------------------------------------------------- policies


def compare_policies(
    scenario: Scenario,
    variants: Mapping[str, Mapping[str, Any]],
    *,
    baseline: str | None = None,
    kpis: Sequence[str] | None = None,
    seed: int = 0,
    replications: int = 10,
    horizon: float | None = None,
    warmup: float = 0.0,
    processes: int = 2,
    confidence: float = 0.95,
    executor: Any = None,
) -> pd.DataFrame:
    """Paired differences ``variant − baseline`` per KPI, with common random numbers.

    ``variants`` maps a name to policy overrides (``agent_selector``,
    ``call_selector``, ``discipline``, ``ewt``); an empty mapping is the
    scenario's own policies. Rows: variant, kpi, baseline mean, variant mean,
    mean difference and its confidence interval.
    """
    if not variants:
        raise ValueError("variants must not be empty")
    names = list(variants)
    base = baseline or names[0]
    if base not in variants:
        raise ValueError(f"baseline {base!r} is not one of the variants {names}")
    jobs = []
    for name in names:
        kw = _sim_kwargs(horizon, warmup, 1800.0)
        kw["policies"] = dict(variants[name]) or None
        jobs += [(scenario, seed, rep, kw) for rep in range(replications)]
    with executor_scope(executor, processes=processes) as ex:
        results = _run_jobs(jobs, ex)
    by_name = {n: results[i * replications : (i + 1) * replications] for i, n in enumerate(names)}
    keys = list(kpis) if kpis is not None else sorted(by_name[base][0].kpis)
    rows = []
    for name in names:
        if name == base:
            continue
        for key in keys:
            a = np.array([r.kpis.get(key, math.nan) for r in by_name[base]])
            b = np.array([r.kpis.get(key, math.nan) for r in by_name[name]])
            mean, lo, hi = t_interval(b - a, confidence)
            rows.append((name, key, float(np.nanmean(a)), float(np.nanmean(b)), mean, lo, hi))
    return pd.DataFrame(
        rows, columns=["variant", "kpi", "baseline", "value", "difference", "ci_low", "ci_high"]
    )


# ---------------------------------------------------------------------------- persistence


def load_study(path: str | Path) -> OverflowStudy | ExpansionStudy:
    """Reload a study written by ``save``."""
    src = Path(path)
    meta = json.loads((src / "study.json").read_text(encoding="utf-8"))
    if meta["kind"] == "overflow":
        intervals_path = src / "intervals.csv"
        intervals = (
            pd.read_csv(intervals_path) if intervals_path.stat().st_size > 1 else pd.DataFrame()
        )
        scenario_path = src / "scenario.json"
        scenario = None
        if scenario_path.exists():
            data = json.loads(scenario_path.read_text(encoding="utf-8"))
            scenario = Scenario.from_dict(data, source=str(scenario_path))
        return OverflowStudy(
            meta["scenario"],
            [float(m) for m in meta["multipliers"]],
            int(meta["replications"]),
            int(meta["seed"]),
            pd.read_csv(src / "summary.csv"),
            intervals,
            scenario,
        )
    if meta["kind"] == "expansion":
        steps = json.loads((src / "steps.json").read_text(encoding="utf-8"))
        return ExpansionStudy(meta["scenario"], [ExpansionStep(**s) for s in steps])
    raise ValueError(f"{src}: unknown study kind {meta['kind']!r}")
