"""Error types of the pure core, in one place so callers catch one family."""

from __future__ import annotations

__all__ = ["ACDError", "IllegalTransitionError"]


class ACDError(ValueError):
    """An event the ACD cannot accept (unknown call or agent, wrong state).

    Raised before the ACD changes anything: the caller can log it, answer the
    peer with an error, and carry on with the ACD intact.
    """


class IllegalTransitionError(ACDError):
    """A trigger the agent state table does not allow in the agent's current state."""
