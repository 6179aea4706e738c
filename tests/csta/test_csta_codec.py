"""The ECMA-323 codec: round trips, golden frames, liberal acceptance, strict errors."""

from __future__ import annotations

import pytest
from cstahelp import ALL_MESSAGE_TYPES, messages, struct_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccsim.csta import (
    MESSAGE_TYPES,
    NAMESPACES,
    Codec,
    DecodeError,
    EncodeError,
    decode,
    edition_of,
    encode,
    pack,
)
from ccsim.csta import messages as m
from ccsim.csta.messages import ConnectionID, DeviceID

ED4 = NAMESPACES[4]
DECL = '<?xml version="1.0" encoding="UTF-8"?>'


# ---------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------


def test_every_message_listed_in_the_issue_has_a_class() -> None:
    expected = [
        "SystemStatus",
        "SystemStatusResponse",
        "SystemRegister",
        "SystemRegisterResponse",
        "StartApplicationSession",
        "StartApplicationSessionPosResponse",
        "StartApplicationSessionNegResponse",
        "ResetApplicationSessionTimer",
        "StopApplicationSession",
        "MonitorStart",
        "MonitorStartResponse",
        "MonitorStop",
        "ServiceInitiatedEvent",
        "OriginatedEvent",
        "DeliveredEvent",
        "EstablishedEvent",
        "ConnectionClearedEvent",
        "DivertedEvent",
        "TransferedEvent",
        "ConferencedEvent",
        "HeldEvent",
        "RetrievedEvent",
        "QueuedEvent",
        "FailedEvent",
        "AgentLoggedOnEvent",
        "AgentLoggedOffEvent",
        "AgentReadyEvent",
        "AgentNotReadyEvent",
        "AgentBusyEvent",
        "AgentWorkingAfterCallEvent",
        "MakeCall",
        "AnswerCall",
        "ClearConnection",
        "DeflectCall",
        "SingleStepTransferCall",
        "ConsultationCall",
        "TransferCall",
        "HoldCall",
        "RetrieveCall",
        "SingleStepConferenceCall",
        "SetAgentState",
        "GetAgentState",
        "SnapshotDevice",
        "RouteRegister",
        "RouteRegisterResponse",
        "RouteRegisterCancel",
        "RouteRequest",
        "RouteSelect",
        "RouteUsed",
        "RouteEnd",
        "ReRoute",
        "RouteReject",
        "CSTAErrorCode",
    ]
    names = {cls.__name__ for cls in ALL_MESSAGE_TYPES}
    assert not set(expected) - names
    for request in (cls for cls in ALL_MESSAGE_TYPES if issubclass(cls, m.Request)):
        for response in request.RESPONSES:
            assert response in ALL_MESSAGE_TYPES


@pytest.mark.parametrize("cls", ALL_MESSAGE_TYPES, ids=lambda cls: cls.__name__)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip_of_every_message_type(cls: type[m.Message], data: st.DataObject) -> None:
    message = data.draw(struct_of(cls))
    assert decode(encode(message)) == message


@settings(max_examples=150, deadline=None)
@given(message=messages)
def test_round_trip_in_every_edition(message: m.Message) -> None:
    for edition in NAMESPACES:
        body = Codec(edition).encode(message)
        assert decode(body) == message
        if message.NAMESPACE is None:
            assert f'xmlns="{NAMESPACES[edition]}"'.encode() in body


def test_edition_is_configurable_and_ed4_by_default() -> None:
    assert NAMESPACES[4].encode() in encode(m.SystemStatusResponse())
    assert b"ecma.ch/standards/ecma-323/csta/ed2" in Codec(2).encode(m.SystemStatusResponse())
    assert edition_of(NAMESPACES[6]) == 6
    assert edition_of("urn:other") is None
    with pytest.raises(ValueError):
        Codec(7)


# ---------------------------------------------------------------------------
# Golden frames, written by hand. Framing: ECMA-323 Annex G ("CSTA XML without
# SOAP"): 0x0000, 2-byte big-endian length of the whole frame, 4-digit invoke ID.
# Shapes: the ECMA-323 schema of each message; clause numbers are ECMA-269's.
# ---------------------------------------------------------------------------

GOLDEN = [
    pytest.param(
        # ECMA-269 §15.1 Monitor Start, device object with typeOfNumber. 0x0118 = 280.
        b"\x00\x00\x01\x180001" + DECL.encode() + b'<MonitorStart xmlns="' + ED4.encode() + b'">'
        b'<monitorObject><deviceObject typeOfNumber="dialingNumber">3021061290002'
        b"</deviceObject></monitorObject><monitorType>device</monitorType></MonitorStart>",
        1,
        m.MonitorStart(device=DeviceID("3021061290002", "dialingNumber"), monitor_type="device"),
        id="MonitorStart",
    ),
    pytest.param(
        # Monitor Start positive result: the cross-reference ID events will carry.
        b"\x00\x00\x00\xd20001"
        + DECL.encode()
        + b'<MonitorStartResponse xmlns="'
        + ED4.encode()
        + b'"><monitorCrossRefID>1173673890</monitorCrossRefID></MonitorStartResponse>',
        1,
        m.MonitorStartResponse(monitor_cross_ref_id="1173673890"),
        id="MonitorStartResponse",
    ),
    pytest.param(
        # ECMA-269 §17.2.5 Delivered event, unsolicited (9999); 0x02c5 = 709 bytes.
        # Subject/calling/called devices in the ExtendedDeviceID form, one with the
        # N<...>;noa=nk decoration OpenScape sends; lastRedirectionDevice notRequired.
        b"\x00\x00\x02\xc59999"
        + DECL.encode()
        + b'<DeliveredEvent xmlns="'
        + ED4.encode()
        + b'"><monitorCrossRefID>1173673890</monitorCrossRefID><connection>'
        b"<callID>FF00010000000000EC6114647E570000</callID><deviceID>3021061290002</deviceID>"
        b"</connection><alertingDevice><deviceIdentifier>N&lt;3021061290002&gt;;noa=nk"
        b"</deviceIdentifier></alertingDevice><callingDevice><deviceIdentifier>7868772298"
        b"</deviceIdentifier></callingDevice><calledDevice><deviceIdentifier>3021061290002"
        b"</deviceIdentifier></calledDevice><lastRedirectionDevice><notRequired/>"
        b"</lastRedirectionDevice><localConnectionInfo>alerting</localConnectionInfo>"
        b"<cause>enteringDistribution</cause></DeliveredEvent>",
        9999,
        m.DeliveredEvent(
            monitor_cross_ref_id="1173673890",
            connection=ConnectionID("FF00010000000000EC6114647E570000", DeviceID("3021061290002")),
            alerting_device=DeviceID("N<3021061290002>;noa=nk"),
            calling_device=DeviceID("7868772298"),
            called_device=DeviceID("3021061290002"),
            last_redirection_device=DeviceID(kind="notRequired"),
            local_connection_info="alerting",
            cause="enteringDistribution",
        ),
        id="DeliveredEvent",
    ),
    pytest.param(
        # ECMA-269 §20.2.4 Route Request from the switch; 0x01fc = 508.
        b"\x00\x00\x01\xfc0012"
        + DECL.encode()
        + b'<RouteRequest xmlns="'
        + ED4.encode()
        + b'"><crossRefIdentifier>77</crossRefIdentifier><routeRegisterReqID>5'
        b"</routeRegisterReqID><currentRoute><deviceIdentifier>8000</deviceIdentifier>"
        b"</currentRoute><callingDevice><deviceIdentifier>13912345678</deviceIdentifier>"
        b"</callingDevice><routedCall><callID>C42</callID><deviceID>8000</deviceID>"
        b"</routedCall><priority>false</priority><replyTimeout>5000</replyTimeout>"
        b"</RouteRequest>",
        12,
        m.RouteRequest(
            cross_ref_identifier="77",
            route_register_req_id="5",
            current_route=DeviceID("8000"),
            calling_device=DeviceID("13912345678"),
            routed_call=ConnectionID("C42", DeviceID("8000")),
            priority=False,
            reply_timeout=5000,
        ),
        id="RouteRequest",
    ),
    pytest.param(
        # ECMA-269 §20.2.5 Route Select (XML element RouteSelectRequest); 0x0135 = 309.
        b"\x00\x00\x01\x350013"
        + DECL.encode()
        + b'<RouteSelectRequest xmlns="'
        + ED4.encode()
        + b'"><crossRefIdentifier>77</crossRefIdentifier><routeRegisterReqID>5'
        b"</routeRegisterReqID><routeSelected>301</routeSelected><routeUsedReq>true"
        b"</routeUsedReq></RouteSelectRequest>",
        13,
        m.RouteSelect(
            cross_ref_identifier="77",
            route_register_req_id="5",
            route_selected=DeviceID("301"),
            route_used_req=True,
        ),
        id="RouteSelect",
    ),
    pytest.param(
        # ECMA-269 §21.2 Agent Ready event; 0x0118 = 280.
        b"\x00\x00\x01\x189999"
        + DECL.encode()
        + b'<AgentReadyEvent xmlns="'
        + ED4.encode()
        + b'"><monitorCrossRefID>9</monitorCrossRefID><agentDevice><deviceIdentifier>301'
        b"</deviceIdentifier></agentDevice><agentID>A17</agentID></AgentReadyEvent>",
        9999,
        m.AgentReadyEvent(monitor_cross_ref_id="9", agent_device=DeviceID("301"), agent_id="A17"),
        id="AgentReadyEvent",
    ),
    pytest.param(
        # ECMA-269 §9.3 error: the state incompatibility category; 0x00d2 = 210.
        b"\x00\x00\x00\xd20002"
        + DECL.encode()
        + b'<CSTAErrorCode xmlns="'
        + ED4.encode()
        + b'"><stateIncompatibility>invalidDeviceState</stateIncompatibility>'
        b"</CSTAErrorCode>",
        2,
        m.CSTAErrorCode.of("stateIncompatibility", "invalidDeviceState"),
        id="CSTAErrorCode",
    ),
    pytest.param(
        # ECMA-269 §21.1 Set Agent State, reason code and a Chinese note in private
        # data: 369 bytes (0x0171) although the text is 6 characters shorter.
        b"\x00\x00\x01q0003"
        + DECL.encode()
        + b'<SetAgentState xmlns="'
        + ED4.encode()
        + b'"><device>301</device><requestedAgentState>notReady</requestedAgentState>'
        b"<agentID>A17</agentID><extensions><privateData><private><reasonCode>12</reasonCode>"
        b"<reasonText>" + "午休".encode() + b"</reasonText></private></privateData>"
        b"</extensions></SetAgentState>",
        3,
        m.SetAgentState(
            device=DeviceID("301"),
            requested_agent_state="notReady",
            agent_id="A17",
            private_data=(("reasonCode", "12"), ("reasonText", "午休")),
        ),
        id="SetAgentState-Chinese",
    ),
]


@pytest.mark.parametrize(("frame", "invoke_id", "message"), GOLDEN)
def test_golden_frame(frame: bytes, invoke_id: int, message: m.Message) -> None:
    assert int.from_bytes(frame[2:4], "big") == len(frame)
    assert pack(invoke_id, encode(message)) == frame
    assert decode(frame[8:]) == message


# ---------------------------------------------------------------------------
# Liberal in what it accepts
# ---------------------------------------------------------------------------


def test_edition_2_with_schema_location_and_pretty_printing() -> None:
    body = b"""<?xml version="1.0" encoding="UTF-8"?>
<SystemStatus
  xmlns="http://www.ecma.ch/standards/ecma-323/csta/ed2"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.ecma.ch/standards/ecma-323/csta/ed2 system-status.xsd">
  <systemStatus>
     disabled
  </systemStatus>
</SystemStatus>"""
    assert decode(body) == m.SystemStatus(system_status="disabled")


def test_prefixed_namespace_and_no_namespace() -> None:
    prefixed = (
        b'<?xml version="1.0" standalone="yes"?><ns3:MonitorStart xmlns:ns3="'
        + ED4.encode()
        + b'"><ns3:monitorObject><ns3:deviceObject typeOfNumber="dialingNumber">3021033'
        b"</ns3:deviceObject></ns3:monitorObject></ns3:MonitorStart>"
    )
    bare = b"<MonitorStart><monitorObject><deviceObject>3021033</deviceObject>"
    bare += b"</monitorObject></MonitorStart>"
    assert decode(prefixed) == m.MonitorStart(device=DeviceID("3021033", "dialingNumber"))
    assert decode(bare) == m.MonitorStart(device=DeviceID("3021033"))


def test_unknown_elements_attributes_and_vendor_private_data() -> None:
    body = (
        '<DeliveredEvent xmlns="' + NAMESPACES[5] + '" xmlns:scx="urn:vendor" vendor="x">'
        "<monitorCrossRefID>1</monitorCrossRefID><eventTime>2024-01-01</eventTime>"
        '<connection kind="?"><callID>C1</callID><deviceID>301</deviceID></connection>'
        "<servicesPermitted><callControlServices><clearConnection>true</clearConnection>"
        "</callControlServices></servicesPermitted><mediaCallCharacteristics/>"
        "<extensions><privateData><private><scx:cdrTrunkSeizure>2024/03/17 14:49:48"
        "</scx:cdrTrunkSeizure><scx:nested><scx:skill>vip</scx:skill></scx:nested>"
        "</private></privateData></extensions></DeliveredEvent>"
    ).encode()
    message = decode(body)
    assert message == m.DeliveredEvent(
        monitor_cross_ref_id="1",
        connection=ConnectionID("C1", DeviceID("301")),
        private_data=(("cdrTrunkSeizure", "2024/03/17 14:49:48"), ("skill", "vip")),
    )


def test_element_and_field_aliases() -> None:
    old_select = (
        "<RouteSelect><routeingCrossRefID>9</routeingCrossRefID>"
        "<routeSelected>301</routeSelected></RouteSelect>"
    )
    assert decode(old_select.encode()) == m.RouteSelect(
        cross_ref_identifier="9", route_selected=DeviceID("301")
    )
    transferred = (
        "<TransferredEvent><monitorCrossRefID>1</monitorCrossRefID>"
        "<primaryOldCall><callID>C1</callID></primaryOldCall></TransferredEvent>"
    )
    assert isinstance(decode(transferred.encode()), m.TransferedEvent)
    # ECMA-323 spells it "Availibility"; the ASN.1 spelling is accepted and normalised.
    error = "<CSTAErrorCode><systemResourceAvailability>resourceBusy</systemResourceAvailability>"
    decoded = decode((error + "</CSTAErrorCode>").encode())
    assert decoded == m.CSTAErrorCode.of("systemResourceAvailibility", "resourceBusy")
    assert isinstance(decoded, m.CSTAErrorCode)
    assert decoded.error.code == 2


def test_vendor_error_category_is_kept() -> None:
    body = b"<CSTAErrorCode><privateErrorCode>URM Denied</privateErrorCode></CSTAErrorCode>"
    assert decode(body) == m.CSTAErrorCode.of("privateErrorCode", "URM Denied")


def test_device_identifiers_in_either_form() -> None:
    wrapped = (
        "<AgentReadyEvent><monitorCrossRefID>1</monitorCrossRefID><agentDevice>"
        '<deviceIdentifier typeOfNumber="deviceNumber">N&lt;301&gt;;noa=nk</deviceIdentifier>'
        "</agentDevice><acdGroup><deviceIdentifier>800</deviceIdentifier></acdGroup>"
        "</AgentReadyEvent>"
    )
    message = decode(wrapped.encode())
    assert isinstance(message, m.AgentReadyEvent)
    assert message.agent_device == DeviceID("N<301>;noa=nk", "deviceNumber")
    assert message.agent_device.number == "301"
    assert message.acd_group == DeviceID("800")  # wrapped where the schema says plain
    plain = "<AgentReadyEvent><monitorCrossRefID>1</monitorCrossRefID>"
    plain += "<agentDevice>301</agentDevice></AgentReadyEvent>"
    assert decode(plain.encode()) == m.AgentReadyEvent(
        monitor_cross_ref_id="1", agent_device=DeviceID("301")
    )


def test_ecma354_response_with_unqualified_children() -> None:
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?><StartApplicationSessionPosResponse '
        b'xmlns:aps="http://www.ecma-international.org/standards/ecma-354/appl_session">'
        b"<sessionID>009968951</sessionID><actualProtocolVersion>"
        + ED4.encode()
        + b"</actualProtocolVersion><actualSessionDuration>600</actualSessionDuration>"
        b"<extensions><actualHBT>0</actualHBT></extensions></StartApplicationSessionPosResponse>"
    )
    assert decode(body) == m.StartApplicationSessionPosResponse(
        session_id="009968951", actual_protocol_version=ED4, actual_session_duration=600
    )


@pytest.mark.parametrize("encoding", ["ISO-8859-1", "GB18030", "UTF-16"])
def test_declared_encodings_and_bom(encoding: str) -> None:
    text = f'<?xml version="1.0" encoding="{encoding}"?>'
    text += "<SystemStatus><systemStatus>normal</systemStatus>"
    text += "<extensions><privateData><private><n>é中</n></private></privateData></extensions>"
    text += "</SystemStatus>"
    if encoding == "ISO-8859-1":
        text = text.replace("中", "")
    message = decode(text.encode(encoding))
    assert isinstance(message, m.SystemStatus)
    assert message.private_data[0][1] in ("é", "é中")
    assert decode(b"\xef\xbb\xbf  \r\n" + encode(message)) == message


# ---------------------------------------------------------------------------
# Chinese text and byte lengths
# ---------------------------------------------------------------------------


def test_chinese_private_data_round_trips_with_byte_length() -> None:
    note = "客户投诉：话务员态度不好，要求回电 <紧急> & 加急"
    message = m.AgentNotReadyEvent(
        monitor_cross_ref_id="7",
        agent_device=DeviceID("301"),
        agent_state_condition="forcedPause",
        private_data=(("reasonCode", "42"), ("note", note)),
    )
    body = encode(message)
    frame = pack(9999, body)
    assert int.from_bytes(frame[2:4], "big") == 8 + len(body) == len(frame)
    assert len(body) > len(body.decode("utf-8"))  # bytes, not characters
    assert decode(frame[8:]) == message


# ---------------------------------------------------------------------------
# Strict in what it trusts and sends
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"<SystemStatus><systemStatus>normal</systemStatus>", "malformed_xml"),
        (b"", "malformed_xml"),
        (b"\xff\xfe\x00", "malformed_xml"),
        (b'<?xml version="1.0" encoding="no-such-codec"?><a/>', "malformed_xml"),
        (b'<?xml version="1.0" encoding="rot13"?><a/>', "malformed_xml"),
        (b"<CallInformationEvent/>", "unknown_message"),
        (b"<MonitorStartResponse/>", "invalid_message"),
        (b"<MonitorStart/>", "invalid_message"),  # neither device nor call
        (
            b"<GetAgentStateResponse><segmentID>x</segmentID></GetAgentStateResponse>",
            "invalid_message",
        ),
        (b"<RouteSelectRequest><priority>maybe</priority></RouteSelectRequest>", "invalid_message"),
        (b'<!DOCTYPE a [<!ENTITY x "y">]><SystemStatus/>', "hostile_xml"),
    ],
)
def test_decode_errors_have_kinds(body: bytes, kind: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode(body)
    assert info.value.kind == kind


def test_encoder_refuses_text_xml_cannot_carry() -> None:
    with pytest.raises(EncodeError):
        encode(m.MonitorStop(monitor_cross_ref_id="a\x00b"))
    with pytest.raises(ValueError):
        m.SystemStatus(private_data=(("not a name", "x"),))
    with pytest.raises(ValueError):
        m.MonitorStart(device=DeviceID("1"), call=ConnectionID("c"))


def test_table_maps_every_element_to_its_class() -> None:
    assert MESSAGE_TYPES["RouteSelectRequest"] is m.RouteSelect
    assert MESSAGE_TYPES["RouteSelect"] is m.RouteSelect
    assert MESSAGE_TYPES["TransferedEvent"] is m.TransferedEvent
    assert len(set(MESSAGE_TYPES.values())) == len(ALL_MESSAGE_TYPES) >= 70
