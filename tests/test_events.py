"""Events validate at construction: a bad value fails where it was made."""

from __future__ import annotations

import math

import pytest

from ccsim.events import AgentLoggedOn, CallOffered, Deliver


@pytest.mark.parametrize("at", [math.nan, math.inf, -math.inf, True, "1", None])
def test_time_must_be_a_finite_number(at: object) -> None:
    with pytest.raises(ValueError, match="at must be a finite number"):
        CallOffered(at=at, call_id="c", service="s")  # type: ignore[arg-type]


@pytest.mark.parametrize("call_id", ["", 3, None])
def test_ids_must_be_non_empty_strings(call_id: object) -> None:
    with pytest.raises(ValueError, match="call_id must be a non-empty string"):
        CallOffered(at=1.0, call_id=call_id, service="s")  # type: ignore[arg-type]


def test_valid_values_and_immutability() -> None:
    ev = CallOffered(at=2, call_id="c1", service="billing", attributes={"tier": "gold"})
    assert ev.at == 2 and ev.attributes["tier"] == "gold"
    with pytest.raises(TypeError):
        ev.attributes["tier"] = "x"  # type: ignore[index]
    with pytest.raises(AttributeError):
        ev.call_id = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Deliver("c", "a")  # type: ignore[misc]  # keyword-only


@pytest.mark.parametrize("level", [0, 17, True, 2.0])
def test_skill_levels_are_1_to_16(level: object) -> None:
    with pytest.raises(ValueError, match=r"level 1\.\.16"):
        AgentLoggedOn(at=0.0, agent_id="a", skills={"gen": level})  # type: ignore[dict-item]
