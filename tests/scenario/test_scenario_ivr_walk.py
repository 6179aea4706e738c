"""``Ivr.walk``: the one IVR walk the simulation and the PBX emulator share.

The exit probabilities of the shipped hotline's menu tree are computed exactly
by recursion over the tree (a second method), and 20,000 walks must agree with
them within 4 standard errors.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from ccsim.scenario import AgentExitNode, HangupNode, MenuNode, SelfServiceNode, example


def exact_exits(ivr, name: str) -> dict[tuple[str, str | None], float]:  # type: ignore[no-untyped-def]
    node = ivr.node(name)
    if isinstance(node, AgentExitNode):
        return {("agent", node.service): 1.0}
    if isinstance(node, HangupNode):
        return {("self_served", None): 1.0}
    out: Counter[tuple[str, str | None]] = Counter()
    stay = 1.0 - node.abandon
    out[("ivr_abandoned", None)] += node.abandon
    if isinstance(node, MenuNode):
        for br in node.branches:
            for k, p in exact_exits(ivr, br.to).items():
                out[k] += stay * br.probability * p
    else:
        assert isinstance(node, SelfServiceNode)
        done = 1.0 if node.otherwise is None else node.completion
        out[("self_served", None)] += stay * done
        if node.otherwise is not None:
            for k, p in exact_exits(ivr, node.otherwise).items():
                out[k] += stay * (1.0 - done) * p
    return dict(out)


def test_walk_frequencies_match_the_tree() -> None:
    scenario = example("hotline")
    ivr = scenario.ivr
    assert ivr is not None
    entry = next(s.ivr for s in scenario.services if s.ivr is not None)
    exact = exact_exits(ivr, entry)
    assert math.isclose(sum(exact.values()), 1.0)
    rng = np.random.default_rng(11)
    n = 20_000
    seen = Counter()
    for _ in range(n):
        path = ivr.walk(entry, rng)
        assert path.duration >= 0
        seen[(path.outcome, path.service)] += 1
    assert set(seen) <= set(exact)
    for key, p in exact.items():
        se = math.sqrt(p * (1 - p) / n) or 1 / n
        assert abs(seen[key] / n - p) < 4 * se + 1e-9, (key, seen[key] / n, p)
