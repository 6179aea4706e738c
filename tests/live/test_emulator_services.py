"""Services, error codes, routeing fallback, interoperability and the trace log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rawcsta import ED3, ED5, SPEED, EmulatorThread, Message, RawClient, connection, scenario

from ccsim.live.emulator import SwitchOptions, read_trace
from ccsim.scenario import Scenario

SLOW = SPEED / 2  # more wall time per simulated second for the longer dialogues


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorThread]:
    options = SwitchOptions(ring_time=2.0, route_timeout=5.0)
    with EmulatorThread(
        scenario(), speed=SLOW, options=options, trace=tmp_path / "trace.jsonl"
    ) as emu:
        yield emu


@pytest.fixture
def client(emulator: EmulatorThread) -> Iterator[RawClient]:
    c = RawClient(emulator.port)
    assert c.receive().name == "SystemStatus"
    yield c
    c.close()


def error_of(reply: Message) -> tuple[str, str | None]:
    assert reply.name == "CSTAErrorCode", reply.body
    [category] = list(reply.root)
    return category.tag.rsplit("}", 1)[-1], (category.text or "").strip()


def test_error_codes(client: RawClient) -> None:
    assert error_of(
        client.request(
            "MonitorStart", "<monitorObject><deviceObject>999</deviceObject></monitorObject>"
        )
    ) == ("operation", "invalidDeviceID")
    assert error_of(
        client.request(
            "AnswerCall", f"<callToBeAnswered>{connection('77', '301')}</callToBeAnswered>"
        )
    ) == ("stateIncompatibility", "noCallToAnswer")
    assert error_of(client.request("GetAgentState", "<device>4711</device>")) == (
        "operation",
        "invalidDeviceID",
    )
    # logged-off agents cannot be made ready; unknown requested states are out of range
    assert client.set_agent_state("302", "loggedOff").name == "SetAgentStateResponse"
    assert error_of(client.set_agent_state("302", "ready")) == (
        "stateIncompatibility",
        "invalidObjectState",
    )
    assert error_of(client.set_agent_state("301", "dancing")) == (
        "operation",
        "agentStateOutOfRange",
    )
    assert error_of(
        client.request(
            "MakeCall",
            "<callingDevice>sales</callingDevice>"
            "<calledDirectoryNumber>301</calledDirectoryNumber>",
        )
    ) == ("operation", "requestIncompatibleWithDevice")
    assert error_of(
        client.request("MonitorStop", "<monitorCrossRefID>nope</monitorCrossRefID>")
    ) == ("operation", "invalidMonitorCrossRefID")
    assert error_of(
        client.request("HoldCall", f"<callToBeHeld>{connection('1', '301')}</callToBeHeld>")
    ) == ("operation", "invalidCallID")
    # a RouteSelect outside any dialogue
    client.route_select("X99", "R1", "301")
    assert error_of(client.receive()) == ("operation", "invalidRouteingCrossRefID")


def test_agent_states_and_get_agent_state(client: RawClient) -> None:
    xref = client.monitor("302")
    info = "agentStateList/agentStateEntry/agentInfo/agentInfoItem"
    assert (
        client.request("GetAgentState", "<device>302</device>").get(f"{info}/agentState")
        == "agentReady"
    )
    client.set_agent_state("302", "notReady", reason="12")
    event = client.expect("AgentNotReadyEvent")[0]
    assert event.get("monitorCrossRefID") == xref
    assert event.get("agentStateCondition") == "forcedPause"
    client.set_agent_state("302", "loggedOff")
    client.expect("AgentLoggedOffEvent")
    reply = client.request("GetAgentState", "<device>302</device>")
    entry = "agentStateList/agentStateEntry"
    logged_on = reply.get(f"{entry}/loggedOnState") or reply.get(f"{entry}/loggedOn")
    assert logged_on in ("false", "0"), reply.body
    client.set_agent_state("302", "loggedOn")
    client.expect("AgentLoggedOnEvent", "AgentNotReadyEvent")
    client.set_agent_state("302", "ready")
    client.expect("AgentReadyEvent")


def test_hold_retrieve_consult_transfer(emulator: EmulatorThread, client: RawClient) -> None:
    client.monitor("301")
    call_id = emulator.inject("sales")
    client.expect("DeliveredEvent", "EstablishedEvent", "AgentBusyEvent")
    at_agent = connection(call_id, "301")
    assert (
        client.request("HoldCall", f"<callToBeHeld>{at_agent}</callToBeHeld>").name
        == "HoldCallResponse"
    )
    held = client.expect("HeldEvent")[0]
    assert (
        held.get("heldConnection/callID") == call_id and held.get("localConnectionInfo") == "hold"
    )
    assert (
        client.request("RetrieveCall", f"<callToBeRetrieved>{at_agent}</callToBeRetrieved>").name
        == "RetrieveCallResponse"
    )
    assert client.expect("RetrievedEvent")[0].get("localConnectionInfo") == "connected"
    # consult the supervisor station, which is answered by the client, then transfer
    client.monitor("9001")
    reply = client.request(
        "ConsultationCall",
        f"<existingCall>{at_agent}</existingCall><consultedDevice>9001</consultedDevice>",
    )
    assert reply.name == "ConsultationCallResponse"
    consult = reply.get("initiatedCall/callID")
    assert consult and consult != call_id
    names = [m.name for m in client.drain(0.3)]
    assert names[:1] == ["HeldEvent"] and "DeliveredEvent" in names
    answer = client.request(
        "AnswerCall", f"<callToBeAnswered>{connection(consult, '9001')}</callToBeAnswered>"
    )
    assert answer.name == "AnswerCallResponse"
    client.wait_for("EstablishedEvent", answeringDevice="9001")
    reply = client.request(
        "TransferCall",
        f"<heldCall>{at_agent}</heldCall><activeCall>{connection(consult, '301')}</activeCall>",
    )
    assert reply.name == "TransferCallResponse"
    assert reply.get("transferredCall/callID") == call_id
    transfered = client.wait_for("TransferedEvent")
    assert transfered.get("primaryOldCall/callID") == call_id
    assert transfered.get("secondaryOldCall/callID") == consult
    assert transfered.get("transferredToDevice") == "9001"
    snap = client.request("SnapshotDevice", "<snapshotObject>9001</snapshotObject>")
    assert (
        snap.get("snapshotData/snapshotDeviceResponseInfo/connectionIdentifier/callID") == call_id
    )
    snap = client.request("SnapshotDevice", "<snapshotObject>301</snapshotObject>")
    assert snap.get("snapshotData/snapshotDeviceResponseInfo") is None


def test_deflect_and_single_step_transfer(emulator: EmulatorThread, client: RawClient) -> None:
    client.monitor("302")
    for station in ("301", "302"):
        client.set_agent_state(station, "notReady")
    client.drain(0.2)
    call_id = emulator.inject("sales")
    # nobody ready: the call waits at the routing point; the client deflects it to 9001
    reply = client.request(
        "DeflectCall",
        f"<callToBeDiverted>{connection(call_id, 'sales')}</callToBeDiverted>"
        "<newDestination>9001</newDestination>",
    )
    assert reply.name == "DeflectCallResponse"
    client.monitor("9001")
    client.request(
        "AnswerCall", f"<callToBeAnswered>{connection(call_id, '9001')}</callToBeAnswered>"
    )
    client.wait_for("EstablishedEvent", answeringDevice="9001")
    client.set_agent_state("302", "ready")
    client.drain(0.2)
    reply = client.request(
        "SingleStepTransferCall",
        f"<activeCall>{connection(call_id, '9001')}</activeCall><transferredTo>302</transferredTo>",
    )
    assert reply.name == "SingleStepTransferCallResponse"
    assert reply.get("transferredCall/deviceID") == "302"
    transfered = client.wait_for("TransferedEvent")
    assert transfered.get("cause") == "singleStepTransfer"
    established = client.wait_for("EstablishedEvent", answeringDevice="302")
    assert established.get("establishedConnection/callID") == call_id


def test_router_timeout_falls_back_to_internal_distribution(
    emulator: EmulatorThread, client: RawClient
) -> None:
    client.register("sales")
    call_id = emulator.inject("sales")
    route = client.wait_for("RouteRequest")
    assert route.get("replyTimeout") == "5"
    end = client.wait_for("RouteEndRequest", timeout=5)
    assert end.get("crossRefIdentifier") == route.get("crossRefIdentifier")
    assert end.get("errorValue/operation") == "routeingTimerExpired"
    client.monitor("301")
    snap = client.request("SnapshotDevice", "<snapshotObject>301</snapshotObject>")
    assert (
        snap.get("snapshotData/snapshotDeviceResponseInfo/connectionIdentifier/callID") == call_id
    )


def test_sessions_registration_editions_and_reused_invoke_ids(emulator: EmulatorThread) -> None:
    a = RawClient(emulator.port, ED3)
    b = RawClient(emulator.port, ED5)
    try:
        assert a.receive().name == "SystemStatus" and b.receive().name == "SystemStatus"
        reg = a.request(
            "SystemRegister", "<requestTypes><systemStatus>true</systemStatus></requestTypes>"
        )
        assert reg.name == "SystemRegisterResponse" and reg.namespace.startswith("http://www.ecma")
        session = b.request(
            "StartApplicationSession",
            "<applicationInfo><applicationID>test</applicationID></applicationInfo>"
            f"<requestedProtocolVersions><protocolVersion>{ED5}</protocolVersion>"
            "</requestedProtocolVersions><requestedSessionDuration>60</requestedSessionDuration>",
        )
        assert session.name == "StartApplicationSessionPosResponse"
        assert session.get("sessionID")
        # unknown attributes and elements are ignored; invoke ID 0000 reused for everything
        for device in ("301", "302"):
            reply = a.request(
                "MonitorStart",
                '<monitorObject><deviceObject typeOfNumber="dialingNumber" vendor:x="1" '
                f'xmlns:vendor="urn:v">{device}</deviceObject></monitorObject>'
                "<vendorThing>1</vendorThing>",
                invoke_id=0,
            )
            assert reply.name == "MonitorStartResponse" and reply.invoke_id == 0
        # each client sees only its own monitors' events
        emulator.inject("sales")
        assert a.wait_for("DeliveredEvent").get("connection/deviceID") == "301"
        assert b.drain(0.3) == []
    finally:
        a.close()
        b.close()


def test_trace_log_has_every_frame(
    emulator: EmulatorThread, client: RawClient, tmp_path: Path
) -> None:
    client.monitor("301")
    emulator.inject("sales")
    client.expect("DeliveredEvent", "EstablishedEvent", "AgentBusyEvent")
    client.close()
    trace = emulator.call(lambda e: e.trace)
    emulator.call(lambda e: trace.flush())
    entries = read_trace(tmp_path / "trace.jsonl")
    outgoing = [e for e in entries if e["dir"] == "out"]
    incoming = [e for e in entries if e["dir"] == "in"]
    assert "<SystemStatus" in outgoing[0]["xml"]
    assert any("<MonitorStart" in e["xml"] for e in incoming)
    assert sum("<DeliveredEvent" in e["xml"] for e in outgoing) == 1
    assert all(e["wall"].endswith("+00:00") and e["sim"] >= 0 for e in entries)
    sims = [e["sim"] for e in entries]
    assert sims == sorted(sims)


@pytest.mark.parametrize("edition", [2, 3, 4, 5, 6, None])
def test_every_edition_namespace_is_accepted(emulator: EmulatorThread, edition: int | None) -> None:
    namespace = "" if edition is None else ED5.replace("ed5", f"ed{edition}")
    client = RawClient(emulator.port, namespace)
    try:
        assert client.receive().name == "SystemStatus"
        reply = client.request("SnapshotDevice", "<snapshotObject>301</snapshotObject>")
        assert reply.name == "SnapshotDeviceResponse", reply.body
        xref = client.monitor("302")
        client.set_agent_state("302", "notReady")
        assert client.wait_for("AgentNotReadyEvent").get("monitorCrossRefID") == xref
    finally:
        client.close()


def test_route_used_reject_and_cancel(emulator: EmulatorThread, client: RawClient) -> None:
    client.monitor("sales")
    req = client.register("sales")
    first = emulator.inject("sales")
    route = client.wait_for("RouteRequest")
    cross = route.get("crossRefIdentifier") or ""
    client.send(
        "RouteSelectRequest",
        f"<crossRefIdentifier>{cross}</crossRefIdentifier><routeRegisterReqID>{req}"
        "</routeRegisterReqID><routeSelected>302</routeSelected><routeUsedReq>true</routeUsedReq>",
    )
    used = client.wait_for("RouteUsedRequest")
    assert used.get("crossRefIdentifier") == cross and used.get("routeUsed") == "302"
    diverted = client.wait_for("DivertedEvent", match={"connection/callID": first})
    assert diverted.get("newDestination") == "302"
    # a rejected call is released back to the network; the dialogue ends
    second = emulator.inject("sales")
    route = client.wait_for("RouteRequest", match={"routedCall/callID": second})
    cross = route.get("crossRefIdentifier") or ""
    client.send("RouteReject", f"<crossRefIdentifier>{cross}</crossRefIdentifier>")
    end = client.wait_for("RouteEndRequest", crossRefIdentifier=cross)
    assert end.get("routeRegisterReqID") == req
    cleared = client.wait_for("ConnectionClearedEvent", match={"droppedConnection/callID": second})
    assert cleared.get("cause") == "callCancelled"
    # after RouteRegisterCancel the switch distributes by itself again
    reply = client.request("RouteRegisterCancel", f"<routeRegisterReqID>{req}</routeRegisterReqID>")
    assert reply.name == "RouteRegisterCancelResponse"
    third = emulator.inject("sales")
    diverted = client.wait_for("DivertedEvent", match={"connection/callID": third})
    assert diverted.get("newDestination") == "301"
    assert all(m.name != "RouteRequest" for m in client.drain(0.2))


def test_transfer_back_to_the_routing_point_opens_a_new_dialogue(
    emulator: EmulatorThread, client: RawClient
) -> None:
    req = client.register("sales")
    client.monitor("301")
    client.monitor("302")
    call_id = emulator.inject("sales")
    first = client.wait_for("RouteRequest")
    client.route_select(first.get("crossRefIdentifier") or "", req, "301")
    client.wait_for("EstablishedEvent", timeout=5, answeringDevice="301")
    reply = client.request(
        "SingleStepTransferCall",
        f"<activeCall>{connection(call_id, '301')}</activeCall>"
        "<transferredTo>sales</transferredTo>",
    )
    assert reply.name == "SingleStepTransferCallResponse"
    end = client.wait_for("RouteEndRequest")
    assert end.get("crossRefIdentifier") == first.get("crossRefIdentifier")
    second = client.wait_for("RouteRequest")
    assert second.get("routedCall/callID") == call_id
    assert second.get("crossRefIdentifier") != first.get("crossRefIdentifier")
    client.route_select(second.get("crossRefIdentifier") or "", req, "302")
    established = client.wait_for("EstablishedEvent", timeout=5, answeringDevice="302")
    assert established.get("establishedConnection/callID") == call_id


def test_the_switch_writes_the_configured_edition() -> None:
    with EmulatorThread(scenario(), speed=SPEED, edition=6) as emu:
        client = RawClient(emu.port, ED3)
        try:
            greeting = client.receive()
            assert greeting.namespace.endswith("/csta/ed6")
            reply = client.request("GetAgentState", "<device>301</device>")
            assert reply.namespace.endswith("/csta/ed6")
        finally:
            client.close()


SCRIPTED = """
skills = ["sales"]
[[services]]
name = "sales"
aht = 60
patience = 10
redial_probability = 1.0
redial_delay = 5
[[agent_groups]]
name = "team"
size = 1
stations = ["301"]
skills = { sales = 1 }
[[supervisor]]
at = 20
action = "force_not_ready"
agent = "301"
reason = "qc_coaching"
"""


def test_scripted_supervisor_actions_and_redials() -> None:
    center = Scenario.from_toml_string(SCRIPTED, "scripted.toml")
    with EmulatorThread(center, speed=SPEED) as emu:
        client = RawClient(emu.port)
        try:
            assert client.receive().name == "SystemStatus"
            client.monitor("301")
            client.monitor("sales")
            forced = client.wait_for("AgentNotReadyEvent", timeout=5)
            assert forced.get("agentStateCondition") == "forcedPause"
            assert forced.get("extensions/privateData/private/reasonCode") == "qc_coaching"
            emu.inject("sales", caller="13700000001")
            cleared = client.wait_for("ConnectionClearedEvent", timeout=5, cause="callCancelled")
            assert cleared.get("releasingDevice") == "13700000001"
            again = client.wait_for("DeliveredEvent", timeout=5, cause="enteringDistribution")
            assert again.get("callingDevice") == "13700000001"  # the same caller redials
            assert again.get("connection/callID") != cleared.get("droppedConnection/callID")
        finally:
            client.close()


def test_make_call_to_busy_station_and_to_routing_point(
    emulator: EmulatorThread, client: RawClient
) -> None:
    client.monitor("9001")
    client.monitor("9002")
    first = client.make_call("9001", "9002")
    assert first.name == "MakeCallResponse"
    # 9002 rings (plain stations never answer by themselves); 9003 calling 9002 finds it busy
    client.monitor("9003")
    client.drain(0.2)
    busy = client.make_call("9003", "9002")
    failed = client.wait_for("FailedEvent")
    assert failed.get("cause") == "busy" and failed.get("failedConnection/deviceID") == "9002"
    assert failed.get("failedConnection/callID") == busy.get("callingDevice/callID")
    # a station may also dial a routing point: the call is distributed like an inbound one
    client.request(
        "ClearConnection",
        f"<connectionToBeCleared>{connection(busy.get('callingDevice/callID') or '', '9003')}"
        "</connectionToBeCleared>",
    )
    client.monitor("301")
    reply = client.make_call("9003", "sales")
    call_id = reply.get("callingDevice/callID")
    established = client.wait_for("EstablishedEvent", timeout=5, answeringDevice="301")
    assert established.get("establishedConnection/callID") == call_id
    assert established.get("callingDevice") == "9003"
