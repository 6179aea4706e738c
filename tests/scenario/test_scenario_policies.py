"""Policy specs are data; ``resolve_policy`` builds objects lazily and explains failures."""

from __future__ import annotations

from fractions import Fraction

import pytest

from ccsim.scenario import Policies, PolicySpec, ScenarioError, resolve_policy


class Longest:
    def __init__(self, *, weight: float = 1.0) -> None:
        self.weight = weight


REGISTRY = {"longest_idle": Longest}


def test_bare_string_is_a_name_without_params() -> None:
    p = Policies.model_validate({"agent_selector": "longest_idle"})
    assert p.agent_selector == PolicySpec(name="longest_idle")
    assert p.call_selector is None


def test_builds_a_registered_policy_with_params() -> None:
    policy = resolve_policy(PolicySpec(name="longest_idle", params={"weight": 2.0}), REGISTRY)
    assert isinstance(policy, Longest)
    assert policy.weight == 2.0


def test_imports_a_user_class_by_path() -> None:
    spec = PolicySpec(name="fractions:Fraction", params={"numerator": 1, "denominator": 3})
    assert spec.is_import_path
    assert resolve_policy(spec, REGISTRY) == Fraction(1, 3)


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(ScenarioError) as info:
        resolve_policy(
            PolicySpec(name="longst_idle"),
            REGISTRY,
            where="policies.agent_selector",
            source="c.toml",
        )
    assert str(info.value) == (
        "c.toml: policies.agent_selector.name: unknown policy 'longst_idle'; "
        "did you mean 'longest_idle'? (known: longest_idle; or give 'module:Class')"
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("no_such_module_xyz:Cls", "cannot import module 'no_such_module_xyz'"),
        ("fractions:Fractoin", "module 'fractions' has no attribute 'Fractoin'"),
        ("math:pi", "'math:pi' is not a class or callable"),
    ],
)
def test_bad_import_paths(name: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=f"^<scenario>: policy.name: {message}"):
        resolve_policy(PolicySpec(name=name), REGISTRY)


def test_rejected_params_name_the_params_field() -> None:
    with pytest.raises(ScenarioError, match=r"^<scenario>: ewt\.params: 'longest_idle' rejected"):
        resolve_policy(PolicySpec(name="longest_idle", params={"wieght": 2}), REGISTRY, where="ewt")


def test_loading_never_imports_user_code() -> None:
    p = Policies.model_validate({"ewt": {"name": "no_such_module_xyz:Estimator"}})
    assert p.ewt is not None and p.ewt.name == "no_such_module_xyz:Estimator"
