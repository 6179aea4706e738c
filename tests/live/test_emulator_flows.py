"""Standard call flows through the emulator, checked message by message.

The client is ``rawcsta.RawClient``: hand-written ECMA-323 ed.5 (or ed.3) XML,
parsed with ElementTree, so ccsim's codec is not on both sides. Times are
simulated seconds at ``SPEED`` simulated seconds per wall second.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rawcsta import ED3, SPEED, EmulatorThread, RawClient, child, connection, scenario

from ccsim.live.emulator import SwitchOptions


@pytest.fixture
def emulator() -> Iterator[EmulatorThread]:
    options = SwitchOptions(ring_time=2.0, route_timeout=100.0)
    with EmulatorThread(scenario(), speed=SPEED, options=options) as emu:
        yield emu


@pytest.fixture
def client(emulator: EmulatorThread) -> Iterator[RawClient]:
    c = RawClient(emulator.port)
    first = c.receive()
    assert first.name == "SystemStatus" and first.get("systemStatus") == "normal"
    yield c
    c.close()


def test_inbound_call_routed_by_registered_router(
    emulator: EmulatorThread, client: RawClient
) -> None:
    xref = client.monitor("301")
    req = client.register("sales")
    call_id = emulator.inject("sales", caller="13912345678")
    route = client.receive()
    assert route.name == "RouteRequest"
    assert route.get("routeRegisterReqID") == req
    assert route.get("routeingDevice") == "sales"
    assert route.get("callingDevice") == "13912345678"
    assert route.get("routedCall/callID") == call_id
    cross = route.get("crossRefIdentifier")
    assert cross
    client.route_select(cross, req, "301")
    delivered, established, busy = client.expect(
        "DeliveredEvent", "EstablishedEvent", "AgentBusyEvent"
    )
    for event in (delivered, established, busy):
        assert event.get("monitorCrossRefID") == xref
    assert delivered.get("connection/callID") == call_id
    assert delivered.get("connection/deviceID") == "301"
    assert delivered.get("alertingDevice") == "301"
    assert delivered.get("callingDevice") == "13912345678"
    assert delivered.get("localConnectionInfo") == "alerting"
    assert established.get("establishedConnection/callID") == call_id
    assert established.get("answeringDevice") == "301"
    assert established.get("localConnectionInfo") == "connected"
    assert busy.get("agentDevice") == "301"
    # the agent talks 40 s, hangs up, wraps up 5 s, becomes ready; the dialogue ends
    cleared, _wrap, end, ready = client.expect(
        "ConnectionClearedEvent",
        "AgentWorkingAfterCallEvent",
        "RouteEndRequest",
        "AgentReadyEvent",
    )
    assert cleared.get("droppedConnection/callID") == call_id
    assert cleared.get("droppedConnection/deviceID") == "301"
    assert cleared.get("releasingDevice") == "301"
    assert end.get("crossRefIdentifier") == cross
    assert child(end.root, "errorValue") is None
    assert ready.get("agentDevice") == "301"


def test_internal_distribution_without_router(emulator: EmulatorThread, client: RawClient) -> None:
    vdn = client.monitor("sales")
    agent = client.monitor("301")
    call_id = emulator.inject("sales")
    entering, diverted, delivered = client.expect(
        "DeliveredEvent", "DivertedEvent", "DeliveredEvent"
    )
    assert entering.get("monitorCrossRefID") == vdn
    assert entering.get("cause") == "enteringDistribution"
    assert entering.get("connection/deviceID") == "sales"
    assert diverted.get("monitorCrossRefID") == vdn
    assert diverted.get("newDestination") == "301"  # longest idle: first logged on
    assert delivered.get("monitorCrossRefID") == agent
    assert delivered.get("connection/callID") == call_id
    assert delivered.get("lastRedirectionDevice") == "sales"
    client.expect("EstablishedEvent", "AgentBusyEvent")
    # a second call goes to the other, now longest idle, agent (no event at 301)
    second = emulator.inject("sales")
    d2 = client.wait_for("DivertedEvent")
    assert d2.get("connection/callID") == second
    assert d2.get("newDestination") == "302"


def test_abandon_while_queued(emulator: EmulatorThread, client: RawClient) -> None:
    for station in ("301", "302"):
        reply = client.set_agent_state(station, "notReady", reason="lunch")
        assert reply.name == "SetAgentStateResponse"
    xref = client.monitor("sales")
    req = client.register("sales")
    call_id = emulator.inject("sales")
    _delivered, queued, route = client.expect("DeliveredEvent", "QueuedEvent", "RouteRequest")
    assert queued.get("queuedConnection/callID") == call_id
    assert queued.get("monitorCrossRefID") == xref
    assert queued.get("localConnectionInfo") == "queued"
    cross = route.get("crossRefIdentifier")
    # nobody routes it: after 30 s of patience the caller hangs up
    cleared = client.receive(timeout=5)
    assert cleared.name == "ConnectionClearedEvent"
    assert cleared.get("cause") == "callCancelled"
    assert cleared.get("releasingDevice") == cleared.get("droppedConnection/deviceID")
    rest = client.expect("ConnectionClearedEvent", "RouteEndRequest")
    assert rest[0].get("droppedConnection/deviceID") == "sales"
    assert rest[1].get("crossRefIdentifier") == cross
    assert rest[1].get("routeRegisterReqID") == req
    assert rest[1].get("errorValue/operation") == "invalidCallID"


def test_ring_no_answer_then_reroute(emulator: EmulatorThread, client: RawClient) -> None:
    client.monitor("303")
    req = client.register(None)  # every routing point
    call_id = emulator.inject("sales")
    route = client.expect("RouteRequest")[0]
    cross = route.get("crossRefIdentifier")
    assert cross
    client.route_select(cross, req, "303")  # the lazy agent never picks up
    delivered = client.expect("DeliveredEvent")[0]
    assert delivered.get("connection/deviceID") == "303"
    diverted, reroute = client.expect("DivertedEvent", "ReRouteRequest", timeout=5)
    assert diverted.get("cause") == "alertTimeExpired"
    assert diverted.get("connection/callID") == call_id
    assert diverted.get("newDestination") == "sales"
    assert reroute.get("crossRefIdentifier") == cross
    client.monitor("301")
    client.route_select(cross, req, "301")
    delivered = client.wait_for("DeliveredEvent")
    assert delivered.get("connection/deviceID") == "301"
    assert delivered.get("connection/callID") == call_id
    assert client.wait_for("EstablishedEvent").get("answeringDevice") == "301"


def test_silent_monitor_then_barge_in(emulator: EmulatorThread, client: RawClient) -> None:
    client.monitor("301")
    sup = client.monitor("9001")
    call_id = emulator.inject("sales")
    client.expect("DeliveredEvent", "EstablishedEvent", "AgentBusyEvent")
    reply = client.request(
        "SingleStepConferenceCall",
        f"<activeCall>{connection(call_id, '301')}</activeCall>"
        "<deviceToJoin>9001</deviceToJoin><participationType>silent</participationType>",
    )
    assert reply.name == "SingleStepConferenceCallResponse"
    assert reply.get("conferencedCall/deviceID") == "9001"
    events = client.expect("ConferencedEvent", "ConferencedEvent")  # at 301 and at 9001
    assert {e.get("cause") for e in events} == {"silentParticipation"}
    assert {e.get("monitorCrossRefID") for e in events} >= {sup}
    snap = client.request("SnapshotDevice", "<snapshotObject>9001</snapshotObject>")
    assert (
        snap.get("snapshotData/snapshotDeviceResponseInfo/connectionIdentifier/callID") == call_id
    )
    # a busy station cannot be conferenced in twice
    again = client.request(
        "SingleStepConferenceCall",
        f"<activeCall>{connection(call_id, '301')}</activeCall><deviceToJoin>9001</deviceToJoin>"
        "<participationType>active</participationType>",
    )
    assert again.name == "CSTAErrorCode"
    assert again.get("operation") == "invalidDestination"
    # the agent hangs up after the talk time: the silent supervisor cannot keep the call
    cleared = client.wait_for("ConnectionClearedEvent", timeout=5)
    assert cleared.get("droppedConnection/deviceID") == "301"
    assert cleared.get("releasingDevice") == "301"
    sup_cleared = client.wait_for(
        "ConnectionClearedEvent", timeout=5, match={"droppedConnection/deviceID": "9001"}
    )
    assert sup_cleared.get("monitorCrossRefID") == sup
    # barge-in on a second call: an active participant keeps the call after the agent leaves
    second = emulator.inject("sales")
    client.drain(0.3)
    reply = client.request(
        "SingleStepConferenceCall",
        f"<activeCall>{connection(second, '302')}</activeCall>"
        "<deviceToJoin>9001</deviceToJoin><participationType>active</participationType>",
    )
    assert reply.name == "SingleStepConferenceCallResponse"
    conf = client.wait_for("ConferencedEvent", monitorCrossRefID=sup)
    assert conf.get("cause") == "activeParticipation"
    dropped = client.wait_for("ConnectionClearedEvent", timeout=5, monitorCrossRefID=sup)
    assert dropped.get("droppedConnection/deviceID") == "302"
    snap = client.request("SnapshotDevice", "<snapshotObject>9001</snapshotObject>")
    assert snap.get("snapshotData/snapshotDeviceResponseInfo/connectionIdentifier/callID") == second


def test_force_not_ready_while_busy_applies_at_hang_up(
    emulator: EmulatorThread, client: RawClient
) -> None:
    client.monitor("301")
    emulator.inject("sales")
    client.expect("DeliveredEvent", "EstablishedEvent", "AgentBusyEvent")
    reply = client.set_agent_state("301", "notReady", reason="coaching")
    assert reply.name == "SetAgentStateResponse"
    assert reply.get("pendingAgentState") == "notReady"
    state = client.request("GetAgentState", "<device>301</device>")
    info = "agentStateList/agentStateEntry/agentInfo/agentInfoItem"
    assert state.get(f"{info}/agentState") == "agentBusy"
    assert state.get(f"{info}/pendingAgentState") == "notReady"
    _cleared, not_ready = client.expect("ConnectionClearedEvent", "AgentNotReadyEvent", timeout=5)
    assert not_ready.get("extensions/privateData/private/reasonCode") == "coaching"
    state = client.request("GetAgentState", "<device>301</device>")
    assert state.get(f"{info}/agentState") == "agentNotReady"
    assert client.drain(0.3) == []  # no wrap-up, no ready: the pending state won


def test_make_call_outbound(emulator: EmulatorThread) -> None:
    client = RawClient(emulator.port, ED3)  # an edition-3 client
    assert client.receive().name == "SystemStatus"
    client.monitor("302")
    reply = client.request(
        "MakeCall",
        "<callingDevice>302</callingDevice>"
        "<calledDirectoryNumber>13800001111</calledDirectoryNumber>",
    )
    assert reply.name == "MakeCallResponse"
    call_id = reply.get("callingDevice/callID")
    assert reply.get("callingDevice/deviceID") == "302"
    initiated, originated, _busy, delivered = client.expect(
        "ServiceInitiatedEvent", "OriginatedEvent", "AgentBusyEvent", "DeliveredEvent"
    )
    assert initiated.get("initiatedConnection/callID") == call_id
    assert originated.get("calledDevice") == "13800001111"
    assert delivered.get("connection/deviceID") == "13800001111"
    # the external party answers (probability 0.8, seeded) or the attempt fails
    outcome = client.receive(timeout=10)
    assert outcome.name in ("EstablishedEvent", "FailedEvent")
    if outcome.name == "EstablishedEvent":
        assert outcome.get("answeringDevice") == "13800001111"
    hang = client.request(
        "ClearConnection",
        f"<connectionToBeCleared>{connection(call_id or '', '302')}</connectionToBeCleared>",
    )
    assert hang.name == "ClearConnectionResponse"
    client.close()


def test_router_doing_its_own_rona_deflects_the_call() -> None:
    options = SwitchOptions(ring_time=2.0, route_timeout=100.0, routed_ring_timeout=0.0)
    with EmulatorThread(scenario(), speed=20.0, options=options) as emu:
        client = RawClient(emu.port)
        try:
            assert client.receive().name == "SystemStatus"
            client.monitor("303")
            client.monitor("301")
            req = client.register("sales")
            call_id = emu.inject("sales")
            route = client.wait_for("RouteRequest")
            client.route_select(route.get("crossRefIdentifier") or "", req, "303")
            assert client.expect("DeliveredEvent")[0].get("connection/deviceID") == "303"
            # past the scenario's 10 s ring timeout: still ringing, no ReRoute
            assert client.drain(0.7) == []  # 14 s: past the ring timeout, within patience
            reply = client.request(
                "DeflectCall",
                f"<callToBeDiverted>{connection(call_id, '303')}</callToBeDiverted>"
                "<newDestination>301</newDestination>",
            )
            assert reply.name == "DeflectCallResponse"
            diverted, delivered = client.expect("DivertedEvent", "DeliveredEvent")
            assert diverted.get("newDestination") == "301"
            assert delivered.get("connection/callID") == call_id
            assert delivered.get("lastRedirectionDevice") == "303"
            answered = client.wait_for("EstablishedEvent", answeringDevice="301")
            assert answered.get("establishedConnection/callID") == call_id
        finally:
            client.close()
