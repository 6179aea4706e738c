"""Routing: the policies the ACD applies, over read-only views (DESIGN.md §1, §4.5).

* agent selection -- which READY agent takes a call (``LongestIdle`` ...);
* call selection -- which waiting call a freed agent takes (``Fifo`` ...);
* queue disciplines -- the order inside one queue (``PriorityFifo`` ...);
* EWT estimators -- expected wait for scripts and announcements (``PositionEwt`` ...);
* routing scripts -- per-routing-point steps in the spirit of Avaya vectors.

``make_policy`` builds any of them by name; ``docs/routing-policies.md``
describes each one and its Asterisk / FreeSWITCH equivalent.
"""

from ccsim.routing.agent_selection import (
    FewestCalls,
    HighestSkill,
    LeastOccupied,
    LeastTalkTime,
    LongestIdle,
    RoundRobin,
    TopDown,
    WeightedRandom,
)
from ccsim.routing.base import Policy, as_generator
from ccsim.routing.call_selection import (
    Fifo,
    GreatestNeed,
    LongestWeightedWait,
    PriorityAging,
    SkillLevelFirst,
    fifo_before,
)
from ccsim.routing.disciplines import LinearAging, PriorityFifo, StrictFifo
from ccsim.routing.ewt import PositionEwt, QuantileEwt
from ccsim.routing.registry import BUILTIN_POLICIES, PolicyKind, make_policy, policy_kinds
from ccsim.routing.script import (
    AgentsAvailable,
    All,
    Announce,
    Any,
    Attribute,
    Condition,
    Disconnect,
    EwtAbove,
    Goto,
    Label,
    Not,
    OfferCallback,
    Overflow,
    QueueLengthAbove,
    QueueTo,
    Script,
    StaffedBelow,
    Step,
    Stop,
    TimeOfDay,
    Wait,
    validate_script,
)
from ccsim.routing.views import (
    AgentSelector,
    AgentView,
    CallSelector,
    CallView,
    Candidate,
    EwtEstimator,
    QueueDiscipline,
    QueueView,
    RoutingContext,
)

__all__ = [
    "BUILTIN_POLICIES",
    "AgentSelector",
    "AgentView",
    "AgentsAvailable",
    "All",
    "Announce",
    "Any",
    "Attribute",
    "CallSelector",
    "CallView",
    "Candidate",
    "Condition",
    "Disconnect",
    "EwtAbove",
    "EwtEstimator",
    "FewestCalls",
    "Fifo",
    "Goto",
    "GreatestNeed",
    "HighestSkill",
    "Label",
    "LeastOccupied",
    "LeastTalkTime",
    "LinearAging",
    "LongestIdle",
    "LongestWeightedWait",
    "Not",
    "OfferCallback",
    "Overflow",
    "Policy",
    "PolicyKind",
    "PositionEwt",
    "PriorityAging",
    "PriorityFifo",
    "QuantileEwt",
    "QueueDiscipline",
    "QueueLengthAbove",
    "QueueTo",
    "QueueView",
    "RoundRobin",
    "RoutingContext",
    "Script",
    "SkillLevelFirst",
    "StaffedBelow",
    "Step",
    "Stop",
    "StrictFifo",
    "TimeOfDay",
    "TopDown",
    "Wait",
    "WeightedRandom",
    "as_generator",
    "fifo_before",
    "make_policy",
    "policy_kinds",
    "validate_script",
]
