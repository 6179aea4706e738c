"""The ACD's hot-path specialisations change nothing but speed.

``ACD`` answers the three transitions of every answered call (deliver, answer,
end without wrap-up), the default ``LongestIdle`` choice and a service's
implicit one-step script inline. Here a second ACD with all of that switched
off (the state table's ``plan`` for every transition, a ``LongestIdle``
subclass the ACD does not recognise, every call through the script
interpreter) runs in lockstep with the stateful test's random event
sequences: after every event both must have emitted the same commands and
hold the same exported state (agents' reasons, forced flags, pending
requests, calls, queues, timers, counters).
"""

from __future__ import annotations

from typing import Any

import test_acd_stateful as base
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from ccsim.acd import ACD, ACDError
from ccsim.events import CallOffered, Command, Event
from ccsim.routing.agent_selection import LongestIdle


class _SameChoiceOtherType(LongestIdle):
    """Chooses exactly as ``LongestIdle`` but is not it, so the ACD asks the policy."""


def reference_acd() -> ACD:
    acd = ACD(base.config(), agent_selector=_SameChoiceOtherType())
    acd._fast = False  # transitions through the table's ``plan``
    acd._direct = {}  # implicit scripts through the interpreter
    return acd


def test_reference_really_takes_the_general_paths() -> None:
    fast, slow = ACD(base.config()), reference_acd()
    assert fast._fast and fast._first_idle and fast._direct
    assert not (slow._fast or slow._first_idle or slow._direct)


class FastSlowMachine(base.ACDMachine):
    def __init__(self) -> None:
        super().__init__()
        self.slow = reference_acd()

    def send(self, ev: Event, accepted: Any = None) -> list[Command] | None:
        try:
            expected: list[Command] | None = self.slow.handle(ev)
        except ACDError:
            expected = None
        out = super().send(ev, accepted)
        assert out == expected, f"{ev}: {out} != {expected}"
        assert self.acd.export_state() == self.slow.export_state()
        return out

    @rule(dt=st.floats(0, 10))
    def offer_direct(self, dt: float) -> None:
        """A service named after its queue: no routing point, the implicit script."""
        self.advance(dt)
        self.n += 1
        call = f"d{self.n}"
        self.offered.append(call)
        self.send(CallOffered(at=self.now, call_id=call, service="gen"))

    @invariant()
    def every_call_has_at_most_one_outcome_and_live_calls_have_none(self) -> None:
        live = set(self.acd.snapshot()["calls"])
        for call in self.offered:
            if call in self.outcome and self.outcome[call] != "answered":
                assert call not in live
            elif call not in self.outcome:
                assert call in live, f"{call} vanished without an outcome"


FastSlowMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestFastSlow = FastSlowMachine.TestCase
