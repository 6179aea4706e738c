"""The work-order lifecycle as data.

Everything that decides whether a transition may happen lives in
:data:`TRANSITIONS` (action, from-state) -> (to-state, roles allowed); the
API and the docs read it, nothing else encodes the lifecycle.
"""

from __future__ import annotations

from dataclasses import dataclass

STATES: tuple[str, ...] = (
    "draft",
    "dispatched",
    "accepted",
    "in_progress",
    "waiting_customer",
    "transferred",
    "returned",
    "replied",
    "closed",
    "cancelled",
)

AGENTS = frozenset({"agent", "team_leader"})
HANDLERS = frozenset({"department_handler"})
CANCELLERS = frozenset({"agent", "team_leader", "admin"})


@dataclass(frozen=True, slots=True)
class Transition:
    target: str
    roles: frozenset[str]


_OPEN = ("draft", "dispatched", "accepted", "in_progress", "waiting_customer", "transferred")

TRANSITIONS: dict[tuple[str, str], Transition] = {
    ("dispatch", "draft"): Transition("dispatched", AGENTS),
    ("accept", "dispatched"): Transition("accepted", HANDLERS),
    ("accept", "transferred"): Transition("accepted", HANDLERS),
    ("start", "accepted"): Transition("in_progress", HANDLERS),
    ("wait_customer", "in_progress"): Transition("waiting_customer", HANDLERS),
    ("resume", "waiting_customer"): Transition("in_progress", HANDLERS),
    ("transfer", "in_progress"): Transition("transferred", HANDLERS),
    ("return", "in_progress"): Transition("returned", HANDLERS),
    ("reply", "returned"): Transition("replied", AGENTS),
    ("close", "replied"): Transition("closed", AGENTS),
    ("reopen", "closed"): Transition("dispatched", AGENTS),
    ("reopen", "replied"): Transition("dispatched", AGENTS),
    **{("cancel", s): Transition("cancelled", CANCELLERS) for s in _OPEN},
}

ACTIONS: tuple[str, ...] = tuple(dict.fromkeys(a for a, _ in TRANSITIONS))

#: Actions whose effect needs a target department (given in the request).
NEEDS_DEPARTMENT = frozenset({"dispatch", "transfer"})
#: Actions that record a result text (the department's answer).
NEEDS_RESULT = frozenset({"return"})
