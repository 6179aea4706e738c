"""Agent state machine (a transition table), reason codes and agent records."""

from ccsim.agents.states import (
    PEND,
    RESOLVE,
    TRANSITIONS,
    AgentCore,
    AgentTransitionError,
    Outcome,
    Target,
    Trigger,
    apply,
    plan,
)

__all__ = [
    "PEND",
    "RESOLVE",
    "TRANSITIONS",
    "AgentCore",
    "AgentTransitionError",
    "Outcome",
    "Target",
    "Trigger",
    "apply",
    "plan",
]
