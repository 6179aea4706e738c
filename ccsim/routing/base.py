"""The policy base class: scikit-learn's parameter conventions for routing policies.

``__init__`` only stores its keyword arguments under the same names; nothing
is derived there. That makes every policy introspectable (``get_params``),
re-configurable (``set_params``) and therefore grid-searchable by experiments,
and lets ``ccsim.testing.check_policy`` reconstruct a policy from its params.
Randomised policies take ``random_state`` (an int seed or a
``numpy.random.Generator``) and build their generator lazily on first use.
"""

from __future__ import annotations

import inspect
from typing import Any, Self

import numpy as np

__all__ = ["Policy", "as_generator"]


def as_generator(random_state: int | np.random.Generator | None) -> np.random.Generator:
    """Turn a seed or a generator into a generator (never the global RNG)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(random_state)


class Policy:
    """Base for agent selectors, call selectors, queue disciplines and EWT estimators."""

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [
            p.name
            for p in sig.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        ]

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters and their current values."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Self:
        """Change parameters in place; unknown names raise ``ValueError``."""
        valid = set(self._param_names())
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"{type(self).__name__} has no parameter {name!r}; valid: {sorted(valid)}"
                )
            setattr(self, name, value)
        self._reset()
        return self

    def _reset(self) -> None:
        """Drop derived state (e.g. a lazily built RNG) after ``set_params``."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
