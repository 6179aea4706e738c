"""Simulation-based staffing: the fewest agents per group that meet every target in the full model.

Erlang formulas assume one skill, Poisson arrivals, exponential handle times
and patience, no IVR, no overflow and no redials. Simulation drops those
assumptions; this module searches group sizes against *simulated* KPIs,
starting from the Erlang answer.

**Per interval (the default).** The usual planning approach: each interval is
simulated as a *stationary* system — its own arrival rates held constant, all
agents of the searched sizes logged on throughout (no shifts, breaks or
scripted supervisor actions), a warm-up discarded, then ``run_length``
seconds measured — with ``replications`` independent runs. Queues do carry
over from one interval to the next in a real day; the stationary model
ignores that, exactly as interval-by-interval Erlang staffing does, and so
staffs the steady state of each interval's load.

**Whole horizon** (``per_interval=False``): the scenario itself (its arrival
profile over the horizon, its routing, IVR and redials) with group sizes
searched against the KPIs of the whole horizon; its groups must not work
shifts, since a group size then has one meaning.

**The search** is greedy marginal analysis over group sizes (as in the
multi-skill staffing literature): from the start (the Erlang answer), while
some target is missed, add the one agent — to whichever group — that most
reduces the *worst* target gap per unit of cost (ties: the total gap); then a
removal pass takes agents away, one at a time, while every target is still
met. At the end every target is met and removing any single agent breaks at
least one — both checked on simulations with the same seeds (common random
numbers), so the comparison between neighbouring sizes is not blurred by
independent noise. With one group this is the single-skill rule: step up
from the Erlang answer until the targets are met, then down until N − 1
misses.

**"Met"** is decided on the point estimate: the mean over replications of
each target KPI (service level, ASA, abandonment, occupancy) against its
goal. The 95% confidence intervals are reported with it; where a goal lies
inside the interval of the answer or of the next smaller staffing, the two
differ by less than the noise, and more replications decide.

The Erlang column is Erlang A (exponential patience with the services' mean;
Erlang C when nobody abandons) per *skill*, from the load of the services
whose first queue is that skill (IVR exits included, redials not), given to
the group or groups best at that skill (lowest level). For a single-skill
center it is the textbook answer; for a multi-skill center it is a starting
point, not a multi-skill answer.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ccsim.planning.erlang import ServiceLevelDefinition
from ccsim.planning.staffing import (
    AbandonmentTarget,
    AsaTarget,
    OccupancyTarget,
    QueueModel,
    ServiceLevelTarget,
    Target,
    required_agents,
)
from ccsim.planning.sweep import Progress, executor_scope

if TYPE_CHECKING:
    from ccsim.pbx.run import ReplicationResult
    from ccsim.scenario import AgentGroup, Scenario

__all__ = [
    "SimStaffing",
    "erlang_group_sizes",
    "erlang_staffing",
    "interval_rates",
    "sim_staffing",
    "stationary_scenario",
    "with_group_sizes",
]

DAY = 86_400.0
_SL_KPI = {
    ServiceLevelDefinition.OFFERED: "sl",
    ServiceLevelDefinition.ANSWERED: "sl_answered",
    ServiceLevelDefinition.OFFERED_MINUS_SHORT_ABANDONS: "sl_short_abandons_excluded",
}

Sizes = tuple[int, ...]


# ----------------------------------------------------------------------------- scenarios


def interval_rates(scenario: Scenario, interval: float = 1800.0) -> list[dict[str, float]]:
    """Mean arrival rate (calls/s) of every service with arrivals, per interval of the day.

    One entry per ``interval`` seconds from midnight; each rate is the exact
    average of the service's piecewise-constant profile over the interval
    (``daily_cv`` does not change the expected rate).
    """
    if not (math.isfinite(interval) and interval > 0) or DAY % interval:
        raise ValueError(f"interval must divide a day into whole intervals, got {interval!r}")
    count = round(DAY / interval)
    out: list[dict[str, float]] = [{} for _ in range(count)]
    for svc in scenario.services:
        arr = svc.arrivals
        if arr is None:
            continue
        if arr.calls is None:
            rate = (arr.rate_per_hour or 0.0) / 3600.0
            for row in out:
                row[svc.name] = rate
            continue
        # breakpoints of the profile and of the planning intervals; rate is flat between them
        edges = sorted(
            {arr.start + k * arr.interval for k in range(len(arr.calls) + 1)}
            | {k * interval for k in range(count + 1)}
        )
        edges = [e for e in edges if 0.0 <= e <= DAY]
        area = np.zeros(count)
        for lo, hi in itertools.pairwise(edges):
            if hi > lo:
                area[min(int(lo // interval), count - 1)] += arr.rate_at((lo + hi) / 2) * (hi - lo)
        for k, row in enumerate(out):
            row[svc.name] = float(area[k] / interval)
    return out


def stationary_scenario(scenario: Scenario, rates: Mapping[str, float]) -> Scenario:
    """The center under constant arrival ``rates`` (calls/s per service), everyone on duty.

    Shifts, breaks and scripted supervisor actions are dropped (all agents of
    each group are logged on throughout) and the day-to-day volume factor is
    off: the stationary system that per-interval staffing plans for.
    """
    services = []
    for svc in scenario.services:
        if svc.arrivals is None:
            services.append(svc)
            continue
        arr = svc.arrivals.model_copy(
            update={
                "rate_per_hour": float(rates.get(svc.name, 0.0)) * 3600.0,
                "calls": None,
                "interval": 1800.0,
                "start": 0.0,
                "daily_cv": 0.0,
            }
        )
        services.append(svc.model_copy(update={"arrivals": arr}))
    groups = tuple(g.model_copy(update={"shifts": ()}) for g in scenario.agent_groups)
    return scenario.model_copy(
        update={"services": tuple(services), "agent_groups": groups, "supervisor": ()}
    )


def _resized(group: AgentGroup, size: int) -> AgentGroup:
    changes: dict[str, Any] = {"size": size}
    if group.stations is not None:
        stations = group.stations[:size]
        extra = size - len(stations)
        changes["stations"] = (*stations, *(f"{group.name}-x{k + 1:03d}" for k in range(extra)))
    return group.model_copy(update=changes)


def with_group_sizes(scenario: Scenario, sizes: Mapping[str, int]) -> Scenario:
    """The same center with the named groups resized (size 0 removes a group).

    Groups must not work shifts (a size would not say who works when).
    Scripted supervisor actions on agents or groups that no longer exist are
    dropped.
    """
    known = {g.name for g in scenario.agent_groups}
    unknown = sorted(set(sizes) - known)
    if unknown:
        raise ValueError(f"unknown agent group(s) {unknown}; known: {sorted(known)}")
    groups = []
    for g in scenario.agent_groups:
        n = sizes.get(g.name, g.size)
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise ValueError(f"size of agent group {g.name!r} must be an int >= 0, got {n!r}")
        if n == g.size:
            groups.append(g)
            continue
        if g.shifts:
            raise ValueError(
                f"agent group {g.name!r} works shifts: simulation staffing sizes groups that "
                "are on duty throughout; use per-interval staffing (stationary intervals)"
            )
        if n > 0:
            groups.append(_resized(g, int(n)))
    if not groups:
        raise ValueError("at least one agent is needed")
    ids = {a for g in groups for a in g.agent_ids()}
    names = {g.name for g in groups}
    actions = tuple(
        s
        for s in scenario.supervisor
        if (s.agent is not None and s.agent in ids) or (s.group is not None and s.group in names)
    )
    return scenario.model_copy(update={"agent_groups": tuple(groups), "supervisor": actions})


# ----------------------------------------------------------------------------- targets


@dataclass(frozen=True, slots=True)
class _Goal:
    """One target on one simulated KPI: met when the mean's slack is >= 0."""

    kpi: str
    target: Target

    @property
    def goal(self) -> float:
        """The goal in the KPI's own unit (a fraction, or seconds for ASA)."""
        t = self.target
        return t.seconds if isinstance(t, AsaTarget) else t.fraction

    def inside(self, ci: tuple[float, float, float]) -> bool:
        """Whether the goal lies inside a (mean, low, high) interval: the verdict is noisy."""
        return ci[1] <= self.goal <= ci[2]

    def slack(self, value: float) -> float:
        """Signed, like ``staffing``: >= 0 exactly when met; NaN (no calls) counts as met."""
        if math.isnan(value):
            return 0.0
        t = self.target
        if isinstance(t, ServiceLevelTarget):
            return value - t.fraction
        if isinstance(t, AsaTarget):
            return (t.seconds - value) / t.seconds
        return t.fraction - value  # abandonment, occupancy


def _agent_services(scenario: Scenario) -> list[str]:
    return [s.name for s in scenario.services if s.reaches_agents]


def _apply_targets(
    scenario: Scenario, targets: Sequence[Target] | None
) -> tuple[Scenario, list[_Goal], dict[str, list[Target]]]:
    """Goals per agent-reaching service; a given SL target becomes every service's goal."""
    from ccsim.scenario import ServiceLevel  # noqa: PLC0415 - keep planning light

    services = _agent_services(scenario)
    per_service: dict[str, list[Target]] = {}
    if targets is None:
        for name in services:
            goal = scenario.service(name).service_level or scenario.service_level
            per_service[name] = [ServiceLevelTarget(goal.fraction, goal.seconds)]
    else:
        ts = list(targets)
        if not ts:
            raise ValueError("targets must contain at least one target")
        sls = [t for t in ts if isinstance(t, ServiceLevelTarget)]
        if len(sls) > 1:
            raise ValueError("simulation staffing takes at most one service-level target")
        if sls:
            level = ServiceLevel(fraction=sls[0].fraction, seconds=sls[0].within)
            scenario = scenario.model_copy(
                update={
                    "services": tuple(
                        s.model_copy(update={"service_level": level}) if s.reaches_agents else s
                        for s in scenario.services
                    )
                }
            )
        for name in services:
            per_service[name] = ts
    goals: list[_Goal] = []
    occupancy: OccupancyTarget | None = None
    for name, ts in per_service.items():
        for t in ts:
            if isinstance(t, ServiceLevelTarget):
                goals.append(_Goal(f"{name}.{_SL_KPI[t.definition]}", t))
            elif isinstance(t, AsaTarget):
                goals.append(_Goal(f"{name}.asa", t))
            elif isinstance(t, AbandonmentTarget):
                goals.append(_Goal(f"{name}.abandon_rate", t))
            elif isinstance(t, OccupancyTarget):
                occupancy = t
            else:
                raise ValueError(f"targets: not a target: {t!r}")
    if occupancy is not None:
        goals.append(_Goal("all.occupancy", occupancy))
    return scenario, goals, per_service


# ----------------------------------------------------------------------------- Erlang start


def _exit_shares(
    scenario: Scenario, node: str, seen: frozenset[str] = frozenset()
) -> dict[str, float]:
    """Share of callers entering IVR ``node`` that leave it as each agent service."""
    from ccsim.scenario import AgentExitNode, MenuNode, SelfServiceNode  # noqa: PLC0415

    if scenario.ivr is None or node in seen:
        return {}
    n = scenario.ivr.node(node)
    seen = seen | {node}
    out: dict[str, float] = {}

    def add(target: str | None, p: float) -> None:
        if target is None or p <= 0:
            return
        for svc, share in _exit_shares(scenario, target, seen).items():
            out[svc] = out.get(svc, 0.0) + p * share

    if isinstance(n, AgentExitNode):
        return {n.service: 1.0}
    if isinstance(n, MenuNode):
        for b in n.branches:
            add(b.to, (1 - n.abandon) * b.probability)
    elif isinstance(n, SelfServiceNode):
        add(n.otherwise, (1 - n.abandon) * (1 - n.completion))
    return out


def _offered_rates(scenario: Scenario, rates: Mapping[str, float]) -> dict[str, float]:
    """Arrival rate reaching each agent service, IVR exits included (redials not)."""
    out = dict.fromkeys(_agent_services(scenario), 0.0)
    for svc in scenario.services:
        lam = float(rates.get(svc.name, 0.0))
        if lam <= 0:
            continue
        if svc.reaches_agents:
            out[svc.name] += lam
        elif svc.ivr is not None:
            for name, share in _exit_shares(scenario, svc.ivr).items():
                out[name] = out.get(name, 0.0) + lam * share
    return out


def erlang_group_sizes(
    scenario: Scenario,
    rates: Mapping[str, float],
    targets: Sequence[Target] | None = None,
) -> dict[str, int]:
    """Erlang agents per group for arrival ``rates`` (calls/s per service): the search's start.

    Per skill: Erlang A (or C when nobody abandons) for the services whose
    first queue is that skill, with their load-weighted handle time (talk +
    wrap-up) and rate-weighted mean patience, against the skill's targets;
    the requirement goes to the group(s) best at the skill, split by size.
    """
    scenario, _, per_service = _apply_targets(scenario, targets)
    offered = _offered_rates(scenario, rates)
    by_skill: dict[str, list[str]] = {}
    for name in offered:
        skill = scenario.primary_skill(name)
        if skill is not None:
            by_skill.setdefault(skill, []).append(name)
    sizes = {g.name: 0 for g in scenario.agent_groups}
    for skill, names in by_skill.items():
        lam = sum(offered[n] for n in names)
        if lam <= 0:
            continue
        work = 0.0
        finite_lam, patience_sum = 0.0, 0.0
        for n in names:
            svc = scenario.service(n)
            wrap = svc.wrap_up if svc.wrap_up is not None else scenario.timing.wrap_up
            assert svc.aht is not None
            work += offered[n] * (svc.aht.mean + wrap.mean)
            if math.isfinite(svc.patience.mean):
                finite_lam += offered[n]
                patience_sum += offered[n] * svc.patience.mean
        ts = per_service[names[0]]
        if finite_lam > 0:
            model, patience = QueueModel.ERLANG_A, patience_sum / finite_lam
        else:
            model, patience = QueueModel.ERLANG_C, None
            ts = [t for t in ts if not isinstance(t, AbandonmentTarget)]
        need = (
            int(
                required_agents(
                    arrival_rate=lam, aht=work / lam, targets=ts, model=model, patience=patience
                )
            )
            if ts
            else math.ceil(work)
        )
        levels = [(g.skills[skill], g) for g in scenario.agent_groups if skill in g.skills]
        if not levels:
            continue
        best = min(lv for lv, _ in levels)
        groups = [g for lv, g in levels if lv == best]
        total = sum(g.size for g in groups)
        for g in groups:
            sizes[g.name] += math.ceil(need * g.size / total)
    return sizes


# ----------------------------------------------------------------------------- the search


@dataclass
class _Evaluation:
    """Mean and CI of every goal's KPI at one staffing (same seeds for every staffing)."""

    kpis: dict[str, tuple[float, float, float]]
    slacks: list[float]

    @property
    def met(self) -> bool:
        return min(self.slacks, default=0.0) >= 0

    @property
    def worst_gap(self) -> float:
        return max((max(0.0, -s) for s in self.slacks), default=0.0)

    @property
    def total_gap(self) -> float:
        return sum(max(0.0, -s) for s in self.slacks)


@dataclass
class _Outcome:
    sizes: Sizes
    evaluation: _Evaluation
    evaluations: int
    #: the best staffing one agent smaller in each group (what removing that agent gives)
    neighbours: dict[str, _Evaluation] = field(default_factory=dict)


_Search = Generator[list[Sizes], list[_Evaluation], _Outcome]


def _greedy(
    groups: Sequence[str],
    start: Sizes,
    costs: Sequence[float],
    max_agents: int,
) -> _Search:
    """Greedy marginal analysis, then a removal pass (see module docstring).

    A coroutine: it yields the staffings it needs simulated and receives their
    evaluations, so that many searches (one per interval) share each batch.
    """
    cache: dict[Sizes, _Evaluation] = {}

    def need(cands: list[Sizes]) -> Generator[list[Sizes], list[_Evaluation], None]:
        todo = [c for c in dict.fromkeys(cands) if c not in cache]
        if todo:
            got = yield todo
            cache.update(zip(todo, got, strict=True))

    def step(sizes: Sizes, g: int, by: int) -> Sizes:
        return (*sizes[:g], sizes[g] + by, *sizes[g + 1 :])

    sizes = tuple(max(0, s) for s in start)
    if sum(sizes) == 0:
        sizes = step(sizes, 0, 1)
    yield from need([sizes])
    while not cache[sizes].met:
        if sum(sizes) >= max_agents:
            break
        cands = [step(sizes, g, 1) for g in range(len(groups))]
        yield from need(cands)
        cur = cache[sizes]

        def score(
            i: int, cur: _Evaluation = cur, cands: list[Sizes] = cands
        ) -> tuple[float, float]:
            ev = cache[cands[i]]
            return (
                (cur.worst_gap - ev.worst_gap) / costs[i],
                (cur.total_gap - ev.total_gap) / costs[i],
            )

        best = max(range(len(cands)), key=score)
        if score(best) <= (0.0, 0.0):
            break  # no single agent helps any more: report the gap
        sizes = cands[best]
    if cache[sizes].met:
        while True:  # removal pass: drop agents while every target stays met
            cands = [step(sizes, g, -1) for g in range(len(groups)) if sizes[g] > 0]
            cands = [c for c in cands if sum(c) > 0]
            yield from need(cands)
            ok = [c for c in cands if cache[c].met]
            if not ok:
                break

            def saving(c: Sizes, sizes: Sizes = sizes) -> tuple[float, float]:
                g = next(i for i in range(len(groups)) if c[i] != sizes[i])
                return (costs[g], min(cache[c].slacks, default=0.0))

            sizes = max(ok, key=saving)
    neighbours = {
        groups[g]: cache[step(sizes, g, -1)]
        for g in range(len(groups))
        if step(sizes, g, -1) in cache
    }
    return _Outcome(sizes, cache[sizes], len(cache), neighbours)


def _drive(
    searches: list[_Search], evaluate: Callable[[list[tuple[int, Sizes]]], list[_Evaluation]]
) -> list[_Outcome]:
    """Run the searches in lockstep: every round's requests go out as one batch."""
    outcomes: list[_Outcome | None] = [None] * len(searches)
    pending: dict[int, list[Sizes]] = {}
    for i, s in enumerate(searches):
        try:
            pending[i] = next(s)
        except StopIteration as stop:
            outcomes[i] = stop.value
    while pending:
        flat = [(i, sz) for i, req in pending.items() for sz in req]
        results = evaluate(flat)
        at = 0
        nxt: dict[int, list[Sizes]] = {}
        for i, req in pending.items():
            mine, at = results[at : at + len(req)], at + len(req)
            try:
                nxt[i] = searches[i].send(mine)
            except StopIteration as stop:
                outcomes[i] = stop.value
        pending = nxt
    return [o for o in outcomes if o is not None]


# ----------------------------------------------------------------------------- result


@dataclass
class SimStaffing:
    """Per interval: Erlang and simulation agents per group, and the KPIs achieved.

    ``table`` has one row per staffed interval: ``interval``, ``start`` (s
    after midnight), ``time`` (HH:MM), ``offered`` (calls expected in the
    interval), ``erlang.<group>`` and ``sim.<group>`` agents with their
    totals ``erlang`` and ``sim``, every target KPI at the simulation answer
    as ``<kpi>`` (mean over replications) with ``<kpi>.ci_low`` /
    ``<kpi>.ci_high`` (95%), ``met`` (every target met on the means),
    ``borderline`` (a goal lies inside the interval of the answer or of a
    staffing one agent smaller: more replications could move the answer by
    one) and ``evaluations`` (staffings simulated). ``scenario_at(row)`` rebuilds a
    row's simulated center, and ``sim_kwargs`` the ``simulate`` arguments,
    so any row can be re-run (``ccsim.simulate(..., **res.sim_kwargs)``)
    and gives exactly the same KPIs.
    """

    table: pd.DataFrame
    groups: list[str]
    goals: dict[str, str]
    scenarios: list[Scenario]
    sim_kwargs: dict[str, Any]
    per_interval: bool

    def scenario_at(self, row: int, sizes: Mapping[str, int] | None = None) -> Scenario:
        """The simulated center of table row ``row``, at the simulation answer or at ``sizes``."""
        r = self.table.iloc[row]
        chosen = {g: int(r[f"sim.{g}"]) for g in self.groups}
        chosen.update(sizes or {})
        return with_group_sizes(self.scenarios[row], chosen)


def _label(seconds: float) -> str:
    h, m = divmod(round(seconds) // 60, 60)
    return f"{h:02d}:{m:02d}"


@dataclass
class _Plan:
    """What a staffing run works on: one row per staffed interval (or one for the horizon)."""

    base: Scenario
    goals: list[_Goal]
    groups: list[str]
    rows: list[dict[str, Any]]
    scenarios: list[Scenario]
    starts: list[Sizes]
    sim_kwargs: dict[str, Any]


def _plan(
    scenario: Scenario,
    targets: Sequence[Target] | None,
    *,
    interval: float,
    per_interval: bool,
    run_length: float,
    warmup: float,
    horizon: float | None,
    intervals: Iterable[int] | None,
    start: Mapping[str, int] | None,
) -> _Plan:
    if not (math.isfinite(run_length) and run_length > 0):
        raise ValueError(f"run_length must be > 0 seconds, got {run_length!r}")
    if not (math.isfinite(warmup) and warmup >= 0):
        raise ValueError(f"warmup must be >= 0 seconds, got {warmup!r}")
    base, goals, _ = _apply_targets(scenario, targets)
    groups = [g.name for g in base.agent_groups]
    unknown = sorted(set(start or {}) - set(groups))
    if unknown:
        raise ValueError(f"start: unknown agent group(s) {unknown}; known: {groups}")
    given = None if targets is None else list(targets)
    all_rates = interval_rates(base, interval)
    rows: list[dict[str, Any]] = []
    scenarios: list[Scenario] = []
    starts: list[Sizes] = []

    def add(row: dict[str, Any], sc: Scenario, rates: Mapping[str, float], first: Sizes) -> None:
        erlang = erlang_group_sizes(sc, rates, given)
        row.update({f"erlang.{g}": erlang[g] for g in groups})
        rows.append(row)
        scenarios.append(sc)
        chosen = (
            {**erlang, **(start or {})} if first == () else dict(zip(groups, first, strict=True))
        )
        starts.append(tuple(int(chosen[g]) for g in groups))

    if per_interval:
        constant = all(
            s.arrivals is None or (s.arrivals.calls is None and s.arrivals.daily_cv == 0)
            for s in base.services
        )
        wanted = [0] if constant else list(range(len(all_rates)))
        if intervals is not None:
            wanted = sorted(set(intervals))
            bad = [k for k in wanted if not 0 <= k < len(all_rates)]
            if bad:
                raise ValueError(f"intervals must be in 0..{len(all_rates) - 1}, got {bad}")
        span = DAY if constant else interval
        end = warmup + run_length
        kw: dict[str, Any] = {"horizon": end, "warmup": warmup, "interval": end}
        for k in wanted:
            rates = all_rates[k]
            if sum(rates.values()) <= 0:
                continue
            row = {
                "interval": k,
                "start": k * interval,
                "time": "all day" if constant else _label(k * interval),
                "offered": sum(rates.values()) * span,
            }
            add(row, stationary_scenario(base, rates), rates, ())
    else:
        h = DAY if horizon is None else float(horizon)
        if not (math.isfinite(h) and 0 <= warmup < h):
            raise ValueError(f"warmup must be in [0, horizon), got {warmup!r}")
        kw = {"horizon": h, "warmup": warmup, "interval": 1800.0}
        for grp in base.agent_groups:
            if grp.shifts:
                raise ValueError(
                    f"agent group {grp.name!r} works shifts: whole-horizon staffing needs groups "
                    "on duty throughout; use per-interval staffing"
                )
        # the Erlang column: the mean arrival rates over the horizon
        covered = [all_rates[k % len(all_rates)] for k in range(max(1, math.ceil(h / interval)))]
        names = {n for r in covered for n in r}
        rates = {n: sum(r.get(n, 0.0) for r in covered) / len(covered) for n in names}
        row = {"interval": 0, "start": 0.0, "time": "horizon", "offered": sum(rates.values()) * h}
        current = {g.name: g.size for g in base.agent_groups}
        first = tuple(int({**current, **(start or {})}[g]) for g in groups)
        add(row, base, rates, first)
    sim_kwargs: dict[str, Any] = {**kw, "record": False, "ring_time": 0.0, "policies": None}
    return _Plan(base, goals, groups, rows, scenarios, starts, sim_kwargs)


def _table(rows: list[dict[str, Any]], groups: list[str], sim: bool) -> pd.DataFrame:
    order = ["interval", "start", "time", "offered"] + [f"erlang.{g}" for g in groups]
    if sim:
        order += [f"sim.{g}" for g in groups] + ["erlang", "sim"]
    else:
        order += ["erlang"]
    for row in rows:
        row["erlang"] = sum(row[f"erlang.{g}"] for g in groups)
    table = pd.DataFrame(rows) if rows else pd.DataFrame(columns=order)
    return table[order + [c for c in table.columns if c not in order]]


def erlang_staffing(
    scenario: Scenario,
    *,
    targets: Sequence[Target] | None = None,
    interval: float = 1800.0,
    intervals: Iterable[int] | None = None,
) -> pd.DataFrame:
    """The Erlang column of :func:`sim_staffing` alone (no simulation): agents per group.

    One row per interval with traffic (one row when every rate is constant):
    ``interval``, ``start``, ``time``, ``offered``, ``erlang.<group>`` and
    their total ``erlang``.
    """
    plan = _plan(
        scenario,
        targets,
        interval=interval,
        per_interval=True,
        run_length=1.0,
        warmup=0.0,
        horizon=None,
        intervals=intervals,
        start=None,
    )
    return _table(plan.rows, plan.groups, sim=False)


def sim_staffing(
    scenario: Scenario,
    *,
    targets: Sequence[Target] | None = None,
    replications: int = 5,
    seed: int = 0,
    interval: float = 1800.0,
    per_interval: bool = True,
    run_length: float = 3600.0,
    warmup: float = 900.0,
    horizon: float | None = None,
    intervals: Iterable[int] | None = None,
    costs: Mapping[str, float] | None = None,
    start: Mapping[str, int] | None = None,
    max_agents: int = 2000,
    executor: Any = None,
    processes: int = 1,
    progress: Progress | None = None,
) -> SimStaffing:
    """Minimum agents per group meeting every target on simulated KPIs (see module docstring).

    ``targets`` (default: each service's own service-level goal) apply to
    every service that reaches agents; a service-level target's threshold
    becomes the services' goal in the simulated center. Per interval (the
    default): ``interval`` seconds per planning interval, ``run_length``
    measured seconds after ``warmup`` per replication, ``intervals`` a
    subset of interval numbers (default every interval with traffic; one row
    when every arrival rate is constant). Whole horizon
    (``per_interval=False``): ``horizon`` (default one day) and ``warmup`` as
    for ``simulate``, starting from the scenario's own group sizes. ``costs``
    per group (default 1 per agent); ``start`` overrides the start sizes.
    All simulations go through one executor (``executor`` or ``processes``,
    see ``ccsim.planning.sweep``), with ``progress`` wrapping each batch.
    """
    from ccsim.pbx.run import _run_one  # noqa: PLC0415 - the simulation world, loaded on use

    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 2:
        raise ValueError(f"replications must be an int >= 2 (for a CI), got {replications!r}")
    plan = _plan(
        scenario,
        targets,
        interval=interval,
        per_interval=per_interval,
        run_length=run_length,
        warmup=warmup,
        horizon=horizon,
        intervals=intervals,
        start=start,
    )
    groups, goals, sim_kwargs = plan.groups, plan.goals, plan.sim_kwargs
    unknown = sorted(set(costs or {}) - set(groups))
    if unknown:
        raise ValueError(f"costs: unknown agent group(s) {unknown}; known: {groups}")
    price = [float((costs or {}).get(g, 1.0)) for g in groups]
    for g, c in zip(groups, price, strict=True):
        if not (math.isfinite(c) and c > 0):
            raise ValueError(f"cost of agent group {g!r} must be > 0, got {c!r}")

    def evaluate(batch: list[tuple[int, Sizes]]) -> list[_Evaluation]:
        centers = [
            with_group_sizes(plan.scenarios[i], dict(zip(groups, sz, strict=True)))
            for i, sz in batch
        ]
        jobs = [(sc, seed, r, sim_kwargs) for sc in centers for r in range(replications)]
        reps: list[ReplicationResult] = ex.map(_run_one, jobs, progress=progress)
        out = []
        for b in range(len(batch)):
            mine = reps[b * replications : (b + 1) * replications]
            kpis = {g.kpi: _mean_ci([r.kpis.get(g.kpi, math.nan) for r in mine]) for g in goals}
            out.append(_Evaluation(kpis, [g.slack(kpis[g.kpi][0]) for g in goals]))
        return out

    with executor_scope(executor, processes=processes) as ex:
        outcomes = _drive([_greedy(groups, s, price, max_agents) for s in plan.starts], evaluate)

    for row, out in zip(plan.rows, outcomes, strict=True):
        for g, n in zip(groups, out.sizes, strict=True):
            row[f"sim.{g}"] = n
        row["sim"] = sum(out.sizes)
        for kpi, (mean, lo, hi) in out.evaluation.kpis.items():
            row[kpi] = mean
            row[f"{kpi}.ci_low"] = lo
            row[f"{kpi}.ci_high"] = hi
        row["met"] = out.evaluation.met
        row["borderline"] = any(
            g.inside(ev.kpis[g.kpi])
            for ev in (out.evaluation, *out.neighbours.values())
            for g in goals
        )
        row["evaluations"] = out.evaluations
    table = _table(plan.rows, groups, sim=True)
    table.attrs.update(replications=replications, seed=seed, per_interval=per_interval)
    described = {g.kpi: _describe(g.target) for g in goals}
    return SimStaffing(table, groups, described, plan.scenarios, sim_kwargs, per_interval)


def _mean_ci(values: Sequence[float]) -> tuple[float, float, float]:
    from ccsim.pbx.records import t_interval  # noqa: PLC0415 - pbx loads on use

    return t_interval(values)


def _describe(t: Target) -> str:
    if isinstance(t, ServiceLevelTarget):
        return f">= {100 * t.fraction:g}% within {t.within:g} s ({t.definition.value})"
    if isinstance(t, AsaTarget):
        return f"<= {t.seconds:g} s"
    return f"<= {100 * t.fraction:g}%"
