"""CSTA messages as frozen, slotted, keyword-only value objects.

Every message of ECMA-269 that ccsim speaks is one dataclass here; the class *is*
the schema. The codec (:mod:`ccsim.csta.codec`) reads the field annotations once
at import time and derives the ECMA-323 XML shape from them:

* the element name of a field is its Python name in camelCase with ``id`` written
  ``ID`` (``monitor_cross_ref_id`` -> ``monitorCrossRefID``), unless an
  :class:`Xml` marker in ``Annotated[...]`` says otherwise;
* the value kind follows the type: ``str`` (an identifier, whitespace-stripped),
  ``int``, ``bool``, :class:`DeviceID`, :class:`ConnectionID`, :class:`Failure`,
  a nested :class:`Struct`, or a ``tuple`` of those (a list element);
* field order is schema element order; ``private_data`` always goes last, inside
  ``<extensions><privateData><private>``.

So adding a message is writing a dataclass, not an encoder and a decoder. Names
follow the standards, including their spellings (``Transfered``, ``Routeing``,
``systemResourceAvailibility`` in ECMA-323's error schema).

Enumerated values (``cause``, ``localConnectionInfo``, agent states, ...) are kept
as plain strings: peers send values from later editions and vendor extensions, and
a decoder that rejected them would drop real traffic. Constants for the common
values are provided as ``frozenset`` tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, ClassVar, Final

__all__ = [
    "AGENT_STATES",
    "ECMA354_NAMESPACE",
    "ERROR_VALUES",
    "REQUESTED_AGENT_STATES",
    "AgentBusyEvent",
    "AgentInfo",
    "AgentLoggedOffEvent",
    "AgentLoggedOnEvent",
    "AgentNotReadyEvent",
    "AgentReadyEvent",
    "AgentStateEntry",
    "AgentWorkingAfterCallEvent",
    "AnswerCall",
    "AnswerCallResponse",
    "CSTAErrorCode",
    "ClearConnection",
    "ClearConnectionResponse",
    "ConferencedEvent",
    "ConnectionClearedEvent",
    "ConnectionID",
    "ConnectionListItem",
    "ConsultationCall",
    "ConsultationCallResponse",
    "DeflectCall",
    "DeflectCallResponse",
    "DeliveredEvent",
    "DeviceID",
    "DivertedEvent",
    "EstablishedEvent",
    "Event",
    "FailedEvent",
    "Failure",
    "GetAgentState",
    "GetAgentStateResponse",
    "HeldEvent",
    "HoldCall",
    "HoldCallResponse",
    "MakeCall",
    "MakeCallResponse",
    "Message",
    "MonitorStart",
    "MonitorStartResponse",
    "MonitorStop",
    "MonitorStopResponse",
    "OriginatedEvent",
    "PrivateData",
    "QueuedEvent",
    "ReRoute",
    "Request",
    "ResetApplicationSessionTimer",
    "ResetApplicationSessionTimerNegResponse",
    "ResetApplicationSessionTimerPosResponse",
    "Response",
    "RetrieveCall",
    "RetrieveCallResponse",
    "RetrievedEvent",
    "RouteEnd",
    "RouteRegister",
    "RouteRegisterAbort",
    "RouteRegisterCancel",
    "RouteRegisterCancelResponse",
    "RouteRegisterResponse",
    "RouteReject",
    "RouteRequest",
    "RouteSelect",
    "RouteUsed",
    "ServiceInitiatedEvent",
    "SetAgentState",
    "SetAgentStateResponse",
    "SingleStepConferenceCall",
    "SingleStepConferenceCallResponse",
    "SingleStepTransferCall",
    "SingleStepTransferCallResponse",
    "SnapshotDevice",
    "SnapshotDeviceItem",
    "SnapshotDeviceResponse",
    "StartApplicationSession",
    "StartApplicationSessionNegResponse",
    "StartApplicationSessionPosResponse",
    "StopApplicationSession",
    "StopApplicationSessionNegResponse",
    "StopApplicationSessionPosResponse",
    "Struct",
    "SystemRegister",
    "SystemRegisterResponse",
    "SystemStatus",
    "SystemStatusResponse",
    "TransferCall",
    "TransferCallResponse",
    "TransferedEvent",
    "Xml",
]

ECMA354_NAMESPACE: Final = "http://www.ecma-international.org/standards/ecma-354/appl_session"

#: Vendor private data as ordered ``(element, text)`` pairs: hashable, so messages stay
#: hashable, and ordered, so what was received is what is re-sent.
PrivateData = tuple[tuple[str, str], ...]

_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")


@dataclass(frozen=True, slots=True)
class Xml:
    """Field marker for ``Annotated[...]``: overrides what the codec derives.

    ``name`` may be a ``/``-separated path for values nested in wrapper elements
    (``monitorObject/deviceObject``). ``aliases`` are further paths accepted when
    decoding (other editions, vendor spellings). ``item`` names the element of each
    list entry. ``wrapped`` selects the ExtendedDeviceID form
    ``<x><deviceIdentifier>..</deviceIdentifier></x>``; ``raw`` keeps whitespace;
    ``flags`` encodes a tuple of names as ``<name>true</name>`` children; ``inline``
    puts a :class:`Failure` choice directly into the parent element.
    """

    name: str | None = None
    aliases: tuple[str, ...] = ()
    item: str | None = None
    wrapped: bool = False
    raw: bool = False
    flags: bool = False
    inline: bool = False


_WRAPPED: Final = Xml(wrapped=True)
_RAW: Final = Xml(raw=True)


# ---------------------------------------------------------------------------
# Identifiers
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceID:
    """A device identifier exactly as the switch spelled it.

    ``value`` keeps decorations such as ``N<3021061290002>;noa=nk`` untouched, so
    that an identifier echoed back to the switch is the one it issued; use
    :attr:`number` for the bare digits. ``kind`` is the ExtendedDeviceID choice
    (``deviceIdentifier``, or ``notKnown`` / ``notRequired`` / ``restricted`` ... with
    an empty value). ``type_of_number`` is the ``typeOfNumber`` attribute.
    """

    value: str = ""
    type_of_number: str | None = None
    kind: str = "deviceIdentifier"

    @property
    def number(self) -> str:
        """The identifier without decorations: ``N<301>;noa=nk`` -> ``301``."""
        value = self.value
        start = value.find("<")
        if start != -1:
            end = value.find(">", start)
            if end != -1:
                return value[start + 1 : end]
        return value.split(";", 1)[0]

    @property
    def known(self) -> bool:
        """False for the ``notKnown`` / ``restricted`` / ... placeholders."""
        return self.kind == "deviceIdentifier" or bool(self.value)


@dataclass(frozen=True, slots=True)
class ConnectionID:
    """A connection: one call at one device (``<callID>`` + ``<deviceID>``)."""

    call_id: str | None = None
    device_id: DeviceID | None = None


@dataclass(frozen=True, slots=True)
class Failure:
    """A ``UniversalFailure`` choice: an error category and the value within it."""

    category: str
    value: str = ""

    def __post_init__(self) -> None:
        if not _XML_NAME.match(self.category):
            raise ValueError(f"invalid error category {self.category!r}")

    @property
    def code(self) -> int | None:
        """The numeric ECMA-269 value, when the name is a standard one."""
        return ERROR_VALUES.get(self.category, {}).get(self.value)


# ---------------------------------------------------------------------------
# Base classes
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Struct:
    """A nested value with its own fields (list entries such as AgentStateEntry)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """Any CSTA message. ``private_data`` is the vendor ``<private>`` content."""

    #: XML element name when it differs from the class name.
    ELEMENT: ClassVar[str] = ""
    #: Further element names accepted when decoding.
    ALIASES: ClassVar[tuple[str, ...]] = ()
    #: None: the CSTA namespace of the configured edition.
    NAMESPACE: ClassVar[str | None] = None
    #: Who may send it: "app" (computing function, client), "switch" (server), "both".
    SENDER: ClassVar[str] = "both"

    private_data: PrivateData = ()

    def __post_init__(self) -> None:
        for pair in self.private_data:
            if len(pair) != 2 or not _XML_NAME.match(pair[0]):
                raise ValueError(f"private data keys must be XML names: {pair!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Request(Message):
    """An operation invocation. ``RESPONSES`` are its positive results; empty means the
    operation never responds (route dialogue messages)."""

    RESPONSES: ClassVar[tuple[type[Message], ...]] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Response(Message):
    """A positive or negative result, sent with the invoke ID of its request."""

    #: Name of the list field that may be split across segments, if any.
    SEGMENT_FIELD: ClassVar[str | None] = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Event(Message):
    """An unsolicited event report for a monitor (invoke ID 9999)."""

    SENDER: ClassVar[str] = "switch"


# Type shorthands used in the field declarations below.
SubjectDevice = Annotated[DeviceID, _WRAPPED]
"""ECMA-323 ExtendedDeviceID form (Subject/Calling/Called/Redirection device IDs)."""
OptSubjectDevice = Annotated[DeviceID | None, _WRAPPED]
CorrelatorData = Annotated[str | None, Xml("correlatorData/string", raw=True)]
UserData = Annotated[str | None, Xml("userData/string", raw=True)]
CrossRefIdentifier = Annotated[
    str, Xml("crossRefIdentifier", aliases=("routeingCrossRefID", "routingCrossRefID"))
]


# ---------------------------------------------------------------------------
# Session and system services (ECMA-269 clause 11.2, ECMA-354)
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemStatusResponse(Response):
    """Acknowledges a SystemStatus (also the answer to a heartbeat)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemStatus(Request):
    """Switch status report; the switch sends one first after connect, and either
    side may send it as a heartbeat."""

    RESPONSES: ClassVar[tuple[type[Message], ...]] = (SystemStatusResponse,)

    system_status: str = "normal"


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemRegisterResponse(Response):
    sys_stat_register_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemRegister(Request):
    """Register for system status reports; ``request_types`` are the report kinds."""

    SENDER: ClassVar[str] = "app"
    RESPONSES: ClassVar[tuple[type[Message], ...]] = (SystemRegisterResponse,)

    request_types: Annotated[tuple[str, ...], Xml(flags=True)] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class StartApplicationSessionPosResponse(Response):
    NAMESPACE: ClassVar[str | None] = ECMA354_NAMESPACE

    session_id: str
    actual_protocol_version: str | None = None
    actual_session_duration: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StartApplicationSessionNegResponse(Response):
    NAMESPACE: ClassVar[str | None] = ECMA354_NAMESPACE

    error_code: Annotated[str, Xml("errorCode/definedError")] = "unspecified"


@dataclass(frozen=True, slots=True, kw_only=True)
class StartApplicationSession(Request):
    """ECMA-354 application session: a lease the application renews by heartbeat."""

    NAMESPACE: ClassVar[str | None] = ECMA354_NAMESPACE
    SENDER: ClassVar[str] = "app"
    RESPONSES: ClassVar[tuple[type[Message], ...]] = (
        StartApplicationSessionPosResponse,
        StartApplicationSessionNegResponse,
    )

    application_id: Annotated[str, Xml("applicationInfo/applicationID")]
    requested_protocol_versions: Annotated[tuple[str, ...], Xml(item="protocolVersion")] = ()
    requested_session_duration: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetApplicationSessionTimerPosResponse(Response):
    NAMESPACE: ClassVar[str | None] = ECMA354_NAMESPACE

    actual_session_duration: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetApplicationSessionTimerNegResponse(Response):
    NAMESPACE: ClassVar[str | None] = ECMA354_NAMESPACE

    error_code: Annotated[str, Xml("errorCode/definedError")] = "unspecified"


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetApplicationSessionTimer(Request):
    """The application-session heartbeat."""

    NAMESPACE: ClassVar[str | None] = ECMA354_NAMESPACE
    SENDER: ClassVar[str] = "app"
    RESPONSES: ClassVar[tuple[type[Message], ...]] = (
        ResetApplicationSessionTimerPosResponse,
        ResetApplicationSessionTimerNegResponse,
    )

    session_id: str
    requested_session_duration: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StopApplicationSessionPosResponse(Response):
    NAMESPACE: ClassVar[str | None] = ECMA354_NAMESPACE


@dataclass(frozen=True, slots=True, kw_only=True)
class StopApplicationSessionNegResponse(Response):
    NAMESPACE: ClassVar[str | None] = ECMA354_NAMESPACE

    error_code: Annotated[str, Xml("errorCode/definedError")] = "unspecified"


@dataclass(frozen=True, slots=True, kw_only=True)
class StopApplicationSession(Request):
    NAMESPACE: ClassVar[str | None] = ECMA354_NAMESPACE
    SENDER: ClassVar[str] = "app"
    RESPONSES: ClassVar[tuple[type[Message], ...]] = (
        StopApplicationSessionPosResponse,
        StopApplicationSessionNegResponse,
    )

    session_id: str
    session_end_reason: Annotated[str, Xml("sessionEndReason/definedEndReason")] = "normal"


# ---------------------------------------------------------------------------
# Monitoring (ECMA-269 clause 15)
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorStartResponse(Response):
    monitor_cross_ref_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorStart(Request):
    """Monitor a device or a call; exactly one of ``device`` and ``call``."""

    SENDER: ClassVar[str] = "app"
    RESPONSES: ClassVar[tuple[type[Message], ...]] = (MonitorStartResponse,)

    device: Annotated[DeviceID | None, Xml("monitorObject/deviceObject")] = None
    call: Annotated[ConnectionID | None, Xml("monitorObject/callObject")] = None
    monitor_type: str | None = None

    def __post_init__(self) -> None:
        Message.__post_init__(self)
        if (self.device is None) == (self.call is None):
            raise ValueError("MonitorStart needs exactly one of device and call")


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorStopResponse(Response):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorStop(Request):
    RESPONSES: ClassVar[tuple[type[Message], ...]] = (MonitorStopResponse,)

    monitor_cross_ref_id: str


# ---------------------------------------------------------------------------
# Call control events (ECMA-269 clause 17.2)
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceInitiatedEvent(Event):
    monitor_cross_ref_id: str
    initiated_connection: ConnectionID
    initiating_device: OptSubjectDevice = None
    local_connection_info: str | None = None
    cause: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OriginatedEvent(Event):
    monitor_cross_ref_id: str
    originated_connection: ConnectionID
    calling_device: OptSubjectDevice = None
    called_device: OptSubjectDevice = None
    local_connection_info: str | None = None
    cause: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveredEvent(Event):
    """A call alerts at a device (ringing at an agent, or entering distribution)."""

    monitor_cross_ref_id: str
    connection: ConnectionID
    alerting_device: OptSubjectDevice = None
    calling_device: OptSubjectDevice = None
    called_device: OptSubjectDevice = None
    last_redirection_device: OptSubjectDevice = None
    local_connection_info: str | None = None
    correlator_data: CorrelatorData = None
    user_data: UserData = None
    cause: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EstablishedEvent(Event):
    monitor_cross_ref_id: str
    established_connection: ConnectionID
    answering_device: OptSubjectDevice = None
    calling_device: OptSubjectDevice = None
    called_device: OptSubjectDevice = None
    last_redirection_device: OptSubjectDevice = None
    local_connection_info: str | None = None
    correlator_data: CorrelatorData = None
    user_data: UserData = None
    cause: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionClearedEvent(Event):
    monitor_cross_ref_id: str
    dropped_connection: ConnectionID
    releasing_device: OptSubjectDevice = None
    local_connection_info: str | None = None
    cause: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DivertedEvent(Event):
    monitor_cross_ref_id: str
    connection: ConnectionID
    diverting_device: OptSubjectDevice = None
    new_destination: OptSubjectDevice = None
    calling_device: OptSubjectDevice = None
    called_device: OptSubjectDevice = None
    last_redirection_device: OptSubjectDevice = None
    local_connection_info: str | None = None
    cause: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionListItem(Struct):
    """One entry of a transfer/conference connection list."""

    new_connection: ConnectionID | None = None
    old_connection: ConnectionID | None = None
    endpoint: Annotated[DeviceID | None, Xml("endpoint/deviceID")] = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferedEvent(Event):
    """Transfer completed (ECMA-269 spells it ``Transfered``)."""

    ALIASES: ClassVar[tuple[str, ...]] = ("TransferredEvent",)

    monitor_cross_ref_id: str
    primary_old_call: ConnectionID
    secondary_old_call: ConnectionID | None = None
    transferring_device: OptSubjectDevice = None
    transferred_to_device: OptSubjectDevice = None
    transferred_connections: Annotated[
        tuple[ConnectionListItem, ...], Xml(item="connectionListItem")
    ] = ()
    local_connection_info: str | None = None
    cause: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConferencedEvent(Event):
    monitor_cross_ref_id: str
    primary_old_call: ConnectionID
    secondary_old_call: ConnectionID | None = None
    conferencing_device: OptSubjectDevice = None
    added_party: OptSubjectDevice = None
    conference_connections: Annotated[
        tuple[ConnectionListItem, ...], Xml(item="connectionListItem")
    ] = ()
    local_connection_info: str | None = None
    cause: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldEvent(Event):
    monitor_cross_ref_id: str
    held_connection: ConnectionID
    holding_device: OptSubjectDevice = None
    local_connection_info: str | None = None
    cause: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RetrievedEvent(Event):
    monitor_cross_ref_id: str
    retrieved_connection: ConnectionID
    retrieving_device: OptSubjectDevice = None
    local_connection_info: str | None = None
    cause: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class QueuedEvent(Event):
    monitor_cross_ref_id: str
    queued_connection: ConnectionID
    queue: OptSubjectDevice = None
    calling_device: OptSubjectDevice = None
    called_device: OptSubjectDevice = None
    last_redirection_device: OptSubjectDevice = None
    number_queued: int | None = None
    calls_in_front: int | None = None
    local_connection_info: str | None = None
    cause: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FailedEvent(Event):
    monitor_cross_ref_id: str
    failed_connection: ConnectionID
    failing_device: OptSubjectDevice = None
    called_device: OptSubjectDevice = None
    local_connection_info: str | None = None
    cause: str | None = None


# ---------------------------------------------------------------------------
# ACD agent events (ECMA-269 clause 21.2)
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _AgentEvent(Event):
    """Shared head of the agent events. Subclasses add ``cause`` and
    ``agent_state_condition`` (``forcedPause`` for a supervisor-imposed state) in
    schema order; a not-ready reason code travels in ``private_data``."""

    monitor_cross_ref_id: str
    agent_device: SubjectDevice
    agent_id: str | None = None
    acd_group: DeviceID | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentLoggedOnEvent(_AgentEvent):
    cause: str | None = None
    agent_state_condition: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentLoggedOffEvent(_AgentEvent):
    cause: str | None = None
    agent_state_condition: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentReadyEvent(_AgentEvent):
    cause: str | None = None
    agent_state_condition: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentNotReadyEvent(_AgentEvent):
    cause: str | None = None
    agent_state_condition: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentBusyEvent(_AgentEvent):
    pending_agent_state: str | None = None
    cause: str | None = None
    agent_state_condition: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentWorkingAfterCallEvent(_AgentEvent):
    pending_agent_state: str | None = None
    cause: str | None = None
    agent_state_condition: str | None = None


# ---------------------------------------------------------------------------
# Call control services (ECMA-269 clause 17.1)
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MakeCallResponse(Response):
    calling_device: ConnectionID


@dataclass(frozen=True, slots=True, kw_only=True)
class MakeCall(Request):
    SENDER: ClassVar[str] = "app"
    RESPONSES: ClassVar[tuple[type[Message], ...]] = (MakeCallResponse,)

    calling_device: DeviceID
    called_directory_number: DeviceID
    auto_originate: str | None = None
    correlator_data: CorrelatorData = None
    user_data: UserData = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerCallResponse(Response):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerCall(Request):
    SENDER: ClassVar[str] = "app"
    RESPONSES: ClassVar[tuple[type[Message], ...]] = (AnswerCallResponse,)

    call_to_be_answered: ConnectionID


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearConnectionResponse(Response):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearConnection(Request):
    SENDER: ClassVar[str] = "app"
    RESPONSES: ClassVar[tuple[type[Message], ...]] = (ClearConnectionResponse,)

    connection_to_be_cleared: ConnectionID
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeflectCallResponse(Response):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class DeflectCall(Request):
    SENDER: ClassVar[str] = "app"
    RESPONSES: ClassVar[tuple[type[Message], ...]] = (DeflectCallResponse,)

    call_to_be_diverted: ConnectionID
    new_destination: DeviceID


@dataclass(frozen=True, slots=True, kw_only=True)
class SingleStepTransferCallResponse(Response):
    transferred_call: ConnectionID | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SingleStepTransferCall(Request):
    SENDER: ClassVar[str] = "app"
    RESPONSES: ClassVar[tuple[type[Message], ...]] = (SingleStepTransferCallResponse,)

    active_call: ConnectionID
    transferred_to: DeviceID


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsultationCallResponse(Response):
    initiated_call: ConnectionID


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsultationCall(Request):
    SENDER: ClassVar[str] = "app"
    RESPONSES: ClassVar[tuple[type[Message], ...]] = (ConsultationCallResponse,)

    existing_call: ConnectionID
    consulted_device: DeviceID


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferCallResponse(Response):
    transferred_call: ConnectionID | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferCall(Request):
    SENDER: ClassVar[str] = "app"
    RESPONSES: ClassVar[tuple[type[Message], ...]] = (TransferCallResponse,)

    held_call: ConnectionID
    active_call: ConnectionID


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldCallResponse(Response):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldCall(Request):
    SENDER: ClassVar[str] = "app"
    RESPONSES: ClassVar[tuple[type[Message], ...]] = (HoldCallResponse,)

    call_to_be_held: ConnectionID


@dataclass(frozen=True, slots=True, kw_only=True)
class RetrieveCallResponse(Response):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class RetrieveCall(Request):
    SENDER: ClassVar[str] = "app"
    RESPONSES: ClassVar[tuple[type[Message], ...]] = (RetrieveCallResponse,)

    call_to_be_retrieved: ConnectionID


@dataclass(frozen=True, slots=True, kw_only=True)
class SingleStepConferenceCallResponse(Response):
    conferenced_call: ConnectionID | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SingleStepConferenceCall(Request):
    """Join a device to a call: ``participation_type`` ``silent`` is a supervisor's
    silent monitor, ``active`` a barge-in."""

    SENDER: ClassVar[str] = "app"
    RESPONSES: ClassVar[tuple[type[Message], ...]] = (SingleStepConferenceCallResponse,)

    active_call: ConnectionID
    device_to_join: DeviceID
    participation_type: str | None = None


# ---------------------------------------------------------------------------
# ACD agent services and snapshots (ECMA-269 clauses 21.1, 16)
# ---------------------------------------------------------------------------

#: ``requestedAgentState`` values of SetAgentState.
REQUESTED_AGENT_STATES: Final = frozenset(
    {"loggedOn", "loggedOff", "notReady", "ready", "workingAfterCall"}
)
#: ``agentState`` values reported by GetAgentState.
AGENT_STATES: Final = frozenset(
    {"agentNotReady", "agentNull", "agentReady", "agentBusy", "agentWorkingAfterCall"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SetAgentStateResponse(Response):
    """``pending_agent_state`` is set when the change waits for the current call."""

    pending_agent_state: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SetAgentState(Request):
    """Change an agent's state; a not-ready reason code goes in ``private_data``."""

    SENDER: ClassVar[str] = "app"
    RESPONSES: ClassVar[tuple[type[Message], ...]] = (SetAgentStateResponse,)

    device: DeviceID
    requested_agent_state: str
    agent_id: str | None = None
    password: str | None = None
    group: DeviceID | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentInfo(Struct):
    acd_group: DeviceID | None = None
    agent_state: str
    pending_agent_state: str | None = None
    agent_state_condition: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentStateEntry(Struct):
    agent_id: str | None = None
    logged_on: Annotated[bool, Xml(aliases=("loggedOnState",))]
    agent_info: Annotated[tuple[AgentInfo, ...], Xml(item="agentInfoItem")] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class GetAgentStateResponse(Response):
    """Large lists are split into segments (``segment_id`` from 1, ``last_segment``);
    the receiving connection reassembles them into one response."""

    SEGMENT_FIELD: ClassVar[str | None] = "agent_state_list"

    agent_state_list: Annotated[tuple[AgentStateEntry, ...], Xml(item="agentStateEntry")] = ()
    segment_id: int | None = None
    last_segment: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GetAgentState(Request):
    SENDER: ClassVar[str] = "app"
    RESPONSES: ClassVar[tuple[type[Message], ...]] = (GetAgentStateResponse,)

    device: DeviceID
    acd_group: DeviceID | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotDeviceItem(Struct):
    connection_identifier: ConnectionID
    local_call_state: Annotated[
        str | None, Xml("localCallState/compoundCallState/localConnectionState")
    ] = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotDeviceResponse(Response):
    SEGMENT_FIELD: ClassVar[str | None] = "snapshot_data"

    service_cross_ref_id: str | None = None
    snapshot_data: Annotated[
        tuple[SnapshotDeviceItem, ...], Xml(item="snapshotDeviceResponseInfo")
    ] = ()
    segment_id: int | None = None
    last_segment: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotDevice(Request):
    SENDER: ClassVar[str] = "app"
    RESPONSES: ClassVar[tuple[type[Message], ...]] = (SnapshotDeviceResponse,)

    snapshot_object: DeviceID


# ---------------------------------------------------------------------------
# Routeing services (ECMA-269 clause 20)
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteRegisterResponse(Response):
    route_register_req_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteRegister(Request):
    """Become the routeing server for a device (None: every routeing device)."""

    SENDER: ClassVar[str] = "app"
    RESPONSES: ClassVar[tuple[type[Message], ...]] = (RouteRegisterResponse,)

    routeing_device: DeviceID | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteRegisterCancelResponse(Response):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteRegisterCancel(Request):
    SENDER: ClassVar[str] = "app"
    RESPONSES: ClassVar[tuple[type[Message], ...]] = (RouteRegisterCancelResponse,)

    route_register_req_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteRegisterAbort(Request):
    """The switch withdraws a registration."""

    SENDER: ClassVar[str] = "switch"

    route_register_req_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteRequest(Request):
    """The switch asks where to send a call; opens a routeing dialogue."""

    SENDER: ClassVar[str] = "switch"

    cross_ref_identifier: CrossRefIdentifier
    route_register_req_id: str | None = None
    current_route: SubjectDevice
    calling_device: OptSubjectDevice = None
    routeing_device: OptSubjectDevice = None
    routed_call: ConnectionID | None = None
    route_sel_algorithm: str | None = None
    priority: bool | None = None
    reply_timeout: int | None = None
    correlator_data: CorrelatorData = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteSelect(Request):
    """The application's answer to a RouteRequest."""

    ELEMENT: ClassVar[str] = "RouteSelectRequest"
    ALIASES: ClassVar[tuple[str, ...]] = ("RouteSelect",)
    SENDER: ClassVar[str] = "app"

    cross_ref_identifier: CrossRefIdentifier
    route_register_req_id: str | None = None
    route_selected: DeviceID
    remain_retries: int | None = None
    route_used_req: bool | None = None
    correlator_data: CorrelatorData = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteUsed(Request):
    ELEMENT: ClassVar[str] = "RouteUsedRequest"
    ALIASES: ClassVar[tuple[str, ...]] = ("RouteUsed",)
    SENDER: ClassVar[str] = "switch"

    cross_ref_identifier: CrossRefIdentifier
    route_register_req_id: str | None = None
    route_used: SubjectDevice
    calling_device: OptSubjectDevice = None
    domain: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteEnd(Request):
    """Closes a routeing dialogue (either side); ``error_value`` says why, if failed."""

    ELEMENT: ClassVar[str] = "RouteEndRequest"
    ALIASES: ClassVar[tuple[str, ...]] = ("RouteEnd",)

    cross_ref_identifier: CrossRefIdentifier
    route_register_req_id: str | None = None
    error_value: Failure | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReRoute(Request):
    """The selected route failed; the switch asks for another."""

    ELEMENT: ClassVar[str] = "ReRouteRequest"
    ALIASES: ClassVar[tuple[str, ...]] = ("ReRoute",)
    SENDER: ClassVar[str] = "switch"

    cross_ref_identifier: CrossRefIdentifier
    route_register_req_id: str | None = None
    reply_timeout: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteReject(Request):
    """The application refuses to route the call (send it back to the network)."""

    SENDER: ClassVar[str] = "app"

    cross_ref_identifier: CrossRefIdentifier
    route_register_req_id: str | None = None
    reject_cause: str | None = None


# ---------------------------------------------------------------------------
# Errors (ECMA-269 clause 9.3, ECMA-323 CSTAErrorCode)
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CSTAErrorCode(Response):
    """The negative result of any CSTA service: one category element holding a value,
    e.g. ``<operation>invalidParameterValue</operation>``. Either side may send one:
    the application, too, can refuse a switch-invoked request."""

    error: Annotated[Failure, Xml(inline=True)]

    @classmethod
    def of(cls, category: str, value: str = "generic") -> CSTAErrorCode:
        """Shorthand: ``CSTAErrorCode.of("operation", "invalidDeviceID")``."""
        return cls(error=Failure(category=category, value=value))


def _enum(text: str) -> dict[str, int]:
    pairs = (item.split("=") for item in text.split())
    return {name: int(number) for name, number in pairs}


#: ECMA-269 error values by ECMA-323 category element (ECMA-285 CSTA-error-definition).
#: ``systemResourceAvailibility`` is the ECMA-323 schema's spelling.
ERROR_VALUES: Final[dict[str, dict[str, int]]] = {
    "operation": _enum(
        """generic=1 requestIncompatibleWithObject=2 valueOutOfRange=3 objectNotKnown=4
        invalidCallingDeviceID=5 invalidCalledDeviceID=6 invalidForwardingDestination=7
        privilegeViolationSpecifiedDevice=8 privilegeViolationCalledDevice=9
        privilegeViolationCallingDevice=10 invalidCallID=11 invalidDeviceID=12
        invalidConnectionID=13 invalidDestination=14 invalidFeature=15
        invalidAllocationState=16 invalidCrossRefID=17 invalidObjectType=18
        securityViolation=19 invalidCorrelatorData=20 invalidAccountCode=21
        invalidAuthCode=22 requestIncompatibleWithCallingDevice=23
        requestIncompatibleWithCalledDevice=24 invalidMsgID=25 messageIDRequired=26
        requestIncompatibleWithMedia=27 invalidFile=28
        atLeastOneConditionalParameterNotProvided=29 featureAlreadySet=30
        invalidParameterValue=31 invalidAgentGroup=32 invalidAgentIdentifier=33
        invalidAgentPassword=34 invalidAgentState=35 invalidAlertTime=36
        invalidAutoAnswer=37 invalidBitRate=38 invalidButtonIdentifier=39
        invalidCallType=42 invalidConnectionRate=43 invalidConsultPurpose=44
        invalidDelayTolerance=45 invalidDestinationDetect=46 invalidDoNotDisturb=47
        invalidEscapeCrossRefID=48 invalidFlowDirection=49 serviceNotSupported=50
        invalidForwardingFlag=51 invalidForwardingType=52 invalidMonitorCrossRefID=60
        invalidMonitorFilter=61 invalidMonitorObject=62 invalidMonitorType=63
        invalidParticipationType=65 invalidRemainRetry=66 invalidRouteingAlgorithm=70
        invalidRouteingCrossRefID=71 invalidRouteRegistrationCrossRefID=72
        invalidActiveCallObject=76 invalidCalledDeviceObjectType=77
        invalidCallingDeviceObjectType=78 invalidMonitorObjectType=83
        notDifferentDevices=85 notSameDevice=86 invalidActiveCallID=87
        invalidHeldCallID=88 invalidActiveConnectionID=89 invalidHeldConnectionID=90
        invalidActiveDeviceID=91 invalidDestinationDeviceID=93
        invalidDivertingDeviceID=94 invalidHeldDeviceID=95 parameterNotSupported=98
        agentGroupNotSupported=100 agentStateNotSupported=102
        monitorTypeNotSupported=122 privateDataNotSupported=126
        remainRetryNotSupported=129 routeUsedNotSupported=131
        sysStatRegIDNotSupported=135 userDataNotSupported=136
        privilegeViolationActiveDevice=137 privilegeViolationDestinationDevice=139
        routeingTimerExpired=144 requestIncompatibleWithConnection=145
        requestIncompatibleWithDevice=148 requestIncompatibleWithSubjectDevice=149
        agentStateOutOfRange=157 monitorTypeOutOfRange=180
        participationTypeOutOfRange=182 routeingAlgorithmOutOfRange=188
        systemStatusOutOfRange=192"""
    ),
    "security": _enum(
        "generic=0 sequenceNumberViolated=1 timeStampViolated=2 securityInfoViolated=4"
    ),
    "stateIncompatibility": _enum(
        """generic=1 invalidObjectState=2 invalidConnectionIDForActiveCall=3
        noActiveCall=4 noHeldCall=5 noCallToClear=6 noConnectionToClear=7
        noCallToAnswer=8 noCallToComplete=9 invalidDeviceState=15
        connectedCallExists=16 invalidActiveDeviceState=17 invalidCalledDeviceState=18
        invalidCallingDeviceState=19 invalidDestinationDeviceState=21
        invalidDivertingDeviceState=22 invalidHeldDeviceState=23
        invalidConnectionState=25 invalidActiveConnectionState=26
        invalidHeldConnectionState=27"""
    ),
    "systemResourceAvailibility": _enum(
        """generic=1 resourceBusy=2 internalResourceBusy=3 resourceOutOfService=4
        networkBusy=5 networkOutOfService=6 overallMonitorLimitExceeded=7
        conferenceMemberLimitExceeded=8 deviceOutOfService=15
        calledDeviceOutOfService=17 callingDeviceOutOfService=18
        destinationDeviceOutOfService=20 otherResourceOutOfService=25
        resourceLimitExceeded=26 registrationLimitExceeded=27
        conferenceResourceCannotBeSatisfied=28 maxDevicesExceeded=29"""
    ),
    "subscribedResourceAvailability": _enum(
        """generic=1 objectMonitorLimitExceeded=2 trunkLimitExceeded=3
        outstandingReqLimitExceeded=4 objectRegistrationLimitExceeded=5"""
    ),
    "performanceManagement": _enum("generic=1 performanceLimitExceeded=2"),
    "privateData": _enum("cSTAPrivateDataInfoError=1"),
    "unspecified": {},
}
