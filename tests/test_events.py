"""Events validate at construction: a bad value fails where it was made."""

from __future__ import annotations

import copy
import math
import pickle

import pytest

from ccsim.events import (
    AgentLoggedOn,
    CallAnswered,
    CallOffered,
    Deliver,
    ForceNotReady,
    Retract,
    StartTimer,
    fields,
    replace,
)


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


def test_equality_is_by_type_and_values() -> None:
    # tuple storage must not make two kinds of command with the same values equal
    assert Deliver(call_id="c", agent_id="a", queue=None) != Retract(
        call_id="c",
        agent_id="a",
        reason=None,  # type: ignore[arg-type]
    )
    assert Deliver(call_id="c", agent_id="a") == Deliver(call_id="c", agent_id="a", queue=None)
    assert Deliver(call_id="c", agent_id="a") != ("c", "a", None)


def test_mapping_fields_stay_out_of_the_hash() -> None:
    a = CallOffered(at=1.0, call_id="c", service="s", attributes={"tier": "gold"})
    b = CallOffered(at=1.0, call_id="c", service="s", attributes={"tier": "gold"})
    assert a == b and hash(a) == hash(b)
    assert len({a, b, CallOffered(at=1.0, call_id="c2", service="s")}) == 2


def test_fields_put_base_fields_first_and_defaults_apply() -> None:
    assert fields(ForceNotReady) == ("at", "agent_id", "supervisor", "reason")
    ev = ForceNotReady(at=3.0, agent_id="a1")
    assert (ev.supervisor, ev.reason) == ("supervisor", "forced")
    assert CallOffered(at=0.0, call_id="c", service="s").attributes == {}


def test_replace_validates_again_and_make_does_not() -> None:
    ev = CallAnswered(at=1.0, call_id="c", agent_id="a")
    assert replace(ev, agent_id="b") == CallAnswered(at=1.0, call_id="c", agent_id="b")
    with pytest.raises(ValueError, match="agent_id must be a non-empty string"):
        replace(ev, agent_id="")
    unchecked = CallAnswered._make((1.0, "c", ""))  # trusted producers only
    assert unchecked.agent_id == ""


def test_values_survive_pickling_and_copying() -> None:
    cmd = StartTimer(key=("ring", "c1"), at=12.5)
    assert pickle.loads(pickle.dumps(cmd)) == cmd
    assert copy.deepcopy(cmd) == cmd and type(copy.copy(cmd)) is StartTimer
