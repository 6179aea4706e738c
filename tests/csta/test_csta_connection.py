"""CstaConnection: a full session through a ConnectionPair, and every way it can go wrong."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import pytest
from cstahelp import ConnectionPair, drain

from ccsim.csta import (
    NEED_DATA,
    SESSION_TRANSITIONS,
    ConnectionClosed,
    CstaConnection,
    EventReceived,
    HeartbeatDue,
    LocalProtocolError,
    ProtocolError,
    RequestReceived,
    RequestTimedOut,
    ResponseReceived,
    SessionExpired,
    SessionState,
    encode,
    pack,
)
from ccsim.csta import messages as m
from ccsim.csta.messages import ConnectionID, DeviceID

T = TypeVar("T")
AGENT = DeviceID("301")
VDN = DeviceID("8000")


def only(events: Sequence[object], kind: type[T]) -> T:
    assert len(events) == 1, events
    (event,) = events
    assert isinstance(event, kind), event
    return event


def exchange(
    pair: ConnectionPair, sender: CstaConnection, request: m.Request, response: m.Response
) -> ResponseReceived:
    """Request from ``sender``, answer from the other side; returns what ``sender`` saw."""
    received = only(pair.send(sender, request), RequestReceived)
    assert received.message == request
    answer = only(pair.send(pair.other(sender), response, received.invoke_id), ResponseReceived)
    assert answer.request == request and answer.message == response
    return answer


@pytest.mark.parametrize("chunk", [None, 7], ids=["whole-frames", "7-byte-reads"])
def test_full_session(chunk: int | None) -> None:
    pair = ConnectionPair(chunk=chunk)
    client, server = pair.client, pair.server

    # The switch announces itself first; the application answers the heartbeat.
    exchange(pair, server, m.SystemStatus(system_status="normal"), m.SystemStatusResponse())

    # ECMA-354 application session.
    start = m.StartApplicationSession(
        application_id="ccsim-acd",
        requested_protocol_versions=(client.codec.namespace,),
        requested_session_duration=120,
    )
    exchange(
        pair,
        client,
        start,
        m.StartApplicationSessionPosResponse(
            session_id="S-1",
            actual_protocol_version=client.codec.namespace,
            actual_session_duration=60,
        ),
    )
    assert client.session_state is server.session_state is SessionState.ACTIVE
    assert client.session_id == server.session_id == "S-1"

    exchange(
        pair,
        client,
        m.SystemRegister(request_types=("systemStatus",)),
        m.SystemRegisterResponse(sys_stat_register_id="SR7"),
    )
    assert client.sys_stat_register_id == server.sys_stat_register_id == "SR7"

    exchange(
        pair,
        client,
        m.MonitorStart(device=AGENT, monitor_type="device"),
        m.MonitorStartResponse(monitor_cross_ref_id="M1"),
    )
    assert client.monitors == server.monitors == {"M1": AGENT}

    call = ConnectionID("C1", AGENT)
    exchange(
        pair,
        client,
        m.MakeCall(calling_device=AGENT, called_directory_number=DeviceID("9")),
        m.MakeCallResponse(calling_device=call),
    )

    events: list[m.Event] = [
        m.ServiceInitiatedEvent(
            monitor_cross_ref_id="M1",
            initiated_connection=call,
            local_connection_info="initiated",
            cause="makeCall",
        ),
        m.OriginatedEvent(
            monitor_cross_ref_id="M1",
            originated_connection=call,
            calling_device=AGENT,
            called_device=DeviceID("9"),
            cause="newCall",
        ),
        m.EstablishedEvent(
            monitor_cross_ref_id="M1",
            established_connection=call,
            answering_device=DeviceID("9"),
            cause="normal",
        ),
        m.ConnectionClearedEvent(
            monitor_cross_ref_id="M1",
            dropped_connection=call,
            releasing_device=DeviceID("9"),
            cause="normalClearing",
        ),
    ]
    for event in events:
        seen = only(pair.send(server, event), EventReceived)
        assert seen.message == event and seen.invoke_id == 9999

    # Routeing: register, then one dialogue RouteRequest -> RouteSelect -> RouteUsed -> RouteEnd.
    exchange(
        pair,
        client,
        m.RouteRegister(routeing_device=VDN),
        m.RouteRegisterResponse(route_register_req_id="R1"),
    )
    assert client.route_registrations == server.route_registrations == {"R1": VDN}
    route_request = m.RouteRequest(
        cross_ref_identifier="X1",
        route_register_req_id="R1",
        current_route=VDN,
        calling_device=DeviceID("13912345678"),
        routed_call=ConnectionID("C2", VDN),
        correlator_data="ivr:balance",
    )
    assert only(pair.send(server, route_request), RequestReceived).message == route_request
    assert client.route_dialogues == server.route_dialogues == {"X1": "R1"}
    select = m.RouteSelect(
        cross_ref_identifier="X1",
        route_register_req_id="R1",
        route_selected=AGENT,
        route_used_req=True,
    )
    assert only(pair.send(client, select), RequestReceived).message == select
    used = m.RouteUsed(cross_ref_identifier="X1", route_register_req_id="R1", route_used=AGENT)
    assert only(pair.send(server, used), RequestReceived).message == used
    end = m.RouteEnd(cross_ref_identifier="X1", route_register_req_id="R1")
    assert only(pair.send(server, end), RequestReceived).message == end
    assert client.route_dialogues == server.route_dialogues == {}

    # Agent state, with a not-ready reason code in private data.
    not_ready = m.SetAgentState(
        device=AGENT,
        requested_agent_state="notReady",
        agent_id="A1",
        private_data=(("reasonCode", "12"),),
    )
    exchange(pair, client, not_ready, m.SetAgentStateResponse())
    forced = m.AgentNotReadyEvent(
        monitor_cross_ref_id="M1",
        agent_device=AGENT,
        agent_id="A1",
        agent_state_condition="forcedPause",
        private_data=(("reasonCode", "12"),),
    )
    assert only(pair.send(server, forced), EventReceived).message == forced

    # The session heartbeat comes due at half the session duration.
    assert client.next_deadline() == pytest.approx(30.0)
    client_events, server_events = pair.tick(30.0)
    heartbeat = only(client_events, HeartbeatDue).message
    assert heartbeat == m.ResetApplicationSessionTimer(
        session_id="S-1", requested_session_duration=60
    )
    assert server_events == []
    exchange(pair, client, heartbeat, m.ResetApplicationSessionTimerPosResponse())
    assert client.next_deadline() == pytest.approx(60.0)

    exchange(
        pair,
        client,
        m.RouteRegisterCancel(route_register_req_id="R1"),
        m.RouteRegisterCancelResponse(),
    )
    exchange(pair, client, m.MonitorStop(monitor_cross_ref_id="M1"), m.MonitorStopResponse())
    assert client.monitors == server.monitors == {} == client.route_registrations
    exchange(
        pair,
        client,
        m.StopApplicationSession(session_id="S-1"),
        m.StopApplicationSessionPosResponse(),
    )
    assert client.session_state is server.session_state is SessionState.NONE
    assert client.outstanding == {} == server.outstanding

    client.close()
    assert drain(client) == [ConnectionClosed(reason="closed locally")]
    server.receive_data(b"")
    assert drain(server) == [ConnectionClosed(reason="peer closed the connection")]
    with pytest.raises(LocalProtocolError):
        client.send(m.SystemStatus())


def test_every_session_state_is_reachable_and_left() -> None:
    sources = {state for state, _kind in SESSION_TRANSITIONS}
    targets = set(SESSION_TRANSITIONS.values())
    assert sources == targets == set(SessionState)


# ---------------------------------------------------------------------------
# Time: request timeouts, heartbeats, session expiry
# ---------------------------------------------------------------------------


def test_request_timeout_is_an_event_and_late_answers_are_unmatched() -> None:
    pair = ConnectionPair(request_timeout=5.0)
    received = only(pair.send(pair.client, m.MonitorStart(device=AGENT)), RequestReceived)
    assert pair.client.next_deadline() == 5.0
    assert pair.tick(4.9) == ([], [])
    client_events, _ = pair.tick(5.0)
    timed_out = only(client_events, RequestTimedOut)
    assert timed_out.request == m.MonitorStart(device=AGENT) and timed_out.deadline == 5.0
    assert pair.client.outstanding == {} and pair.client.next_deadline() is None
    late = pair.send(
        pair.server, m.MonitorStartResponse(monitor_cross_ref_id="M9"), received.invoke_id
    )
    assert only(late, ResponseReceived).request is None
    assert pair.client.monitors == {}


def test_keepalive_heartbeat_and_unanswered_heartbeat() -> None:
    pair = ConnectionPair(keepalive_interval=20.0, request_timeout=5.0)
    server = pair.server
    assert server.next_deadline() == 20.0
    _, server_events = pair.tick(20.0)
    heartbeat = only(server_events, HeartbeatDue).message
    assert heartbeat == m.SystemStatus(system_status="normal")
    assert pair.tick(21.0) == ([], [])  # announced once, not every tick
    only(pair.send(server, heartbeat), RequestReceived)
    assert server.next_deadline() == 26.0  # only the heartbeat's own timeout is pending
    _, server_events = pair.tick(26.0)
    assert only(server_events, RequestTimedOut).request == heartbeat


def test_server_expires_a_session_that_is_not_renewed() -> None:
    pair = ConnectionPair()
    exchange(
        pair,
        pair.client,
        m.StartApplicationSession(application_id="a"),
        m.StartApplicationSessionPosResponse(session_id="S", actual_session_duration=10),
    )
    assert pair.server.next_deadline() == 10.0
    pair.client.close()
    _, server_events = pair.tick(10.0)
    assert only(server_events, SessionExpired).session_id == "S"
    assert pair.server.session_state is SessionState.NONE


# ---------------------------------------------------------------------------
# Peers that reuse invoke IDs
# ---------------------------------------------------------------------------


def test_peer_that_answers_everything_with_0000() -> None:
    client = CstaConnection("client")
    first = m.MonitorStart(device=AGENT)
    second = m.SnapshotDevice(snapshot_object=AGENT)
    client.send(first)
    client.send(second)
    client.receive_data(
        pack(0, encode(m.SnapshotDeviceResponse()))
        + pack(0, encode(m.MonitorStartResponse(monitor_cross_ref_id="M1")))
    )
    snapshot, monitor = drain(client)
    assert isinstance(snapshot, ResponseReceived) and snapshot.request == second
    assert isinstance(monitor, ResponseReceived) and monitor.request == first
    assert client.monitors == {"M1": AGENT}


def test_peer_that_invokes_everything_with_0000() -> None:
    client = CstaConnection("client")
    for cross_ref in ("X1", "X2"):
        request = m.RouteRequest(cross_ref_identifier=cross_ref, current_route=VDN)
        client.receive_data(pack(0, encode(request)))
    client.receive_data(pack(0, encode(m.SystemStatus())) * 2)
    events = drain(client)
    assert [e.invoke_id for e in events if isinstance(e, RequestReceived)] == [0, 0, 0, 0]
    assert set(client.route_dialogues) == {"X1", "X2"}
    client.send(m.SystemStatusResponse(), 0)
    client.send(m.SystemStatusResponse(), 0)
    client.send(m.RouteSelect(cross_ref_identifier="X2", route_selected=AGENT), 0)


# ---------------------------------------------------------------------------
# Protocol errors: reported, answered where the invoke ID is known, survived
# ---------------------------------------------------------------------------

BAD_BODIES = [
    (b"<MonitorStart><monitorObject>", "malformed_xml", ("operation", "invalidParameterValue")),
    (b"<MonitorStart/>", "invalid_message", ("operation", "invalidParameterValue")),
    (b"<FastData/>", "unknown_message", ("operation", "serviceNotSupported")),
    (
        b'<!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>',
        "hostile_xml",
        ("operation", "securityViolation"),
    ),
]


@pytest.mark.parametrize(("body", "kind", "error"), BAD_BODIES, ids=[b[1] for b in BAD_BODIES])
def test_server_answers_bad_requests_and_survives(
    body: bytes, kind: str, error: tuple[str, str]
) -> None:
    pair = ConnectionPair()
    event = only(pair.deliver(pair.server, pack(5, body)), ProtocolError)
    assert (event.kind, event.invoke_id) == (kind, 5)
    assert event.response == m.CSTAErrorCode.of(*error)
    answer = only(pair.send(pair.server, event.response, event.invoke_id), ResponseReceived)
    assert answer.invoke_id == 5 and not answer.ok
    exchange(
        pair,
        pair.client,
        m.MonitorStart(device=AGENT),
        m.MonitorStartResponse(monitor_cross_ref_id="M1"),
    )


def test_oversize_frame_is_answered_and_skipped() -> None:
    pair = ConnectionPair(max_frame_size=2000)
    big = m.SystemStatus(private_data=(("pad", "x" * 5000),))
    data = pack(6, encode(big)) + pack(7, encode(m.SystemStatus()))
    oversize, ok = pair.deliver(pair.server, data)
    assert isinstance(oversize, ProtocolError) and oversize.kind == "oversize"
    assert oversize.response == m.CSTAErrorCode.of(
        "systemResourceAvailibility", "resourceLimitExceeded"
    )
    assert isinstance(ok, RequestReceived) and ok.invoke_id == 7


def test_client_fails_the_request_a_bad_response_answered() -> None:
    pair = ConnectionPair()
    received = only(pair.send(pair.client, m.MonitorStart(device=AGENT)), RequestReceived)
    event = only(pair.deliver(pair.client, pack(received.invoke_id, b"<oops")), ProtocolError)
    assert event.request == m.MonitorStart(device=AGENT) and event.response is None
    assert pair.client.outstanding == {}
    bad_event = only(pair.deliver(pair.client, pack(9999, b"<HeldEvent/>")), ProtocolError)
    assert bad_event.kind == "invalid_message" and bad_event.request is None


def test_unexpected_session_messages() -> None:
    pair = ConnectionPair()
    reset = m.ResetApplicationSessionTimer(session_id="nope")
    with pytest.raises(LocalProtocolError):
        pair.client.send(reset)
    event = only(pair.deliver(pair.server, pack(3, encode(reset))), ProtocolError)
    assert event.kind == "unexpected_message"
    assert event.response == m.ResetApplicationSessionTimerNegResponse(
        error_code="invalidSessionState"
    )
    # A session refused with a CSTAErrorCode returns to NONE on both sides.
    exchange(
        pair,
        pair.client,
        m.StartApplicationSession(application_id="a"),
        m.CSTAErrorCode.of("operation", "generic"),
    )
    assert pair.client.session_state is pair.server.session_state is SessionState.NONE


def test_route_messages_for_unknown_dialogues() -> None:
    pair = ConnectionPair()
    select = m.RouteSelect(cross_ref_identifier="X404", route_selected=AGENT)
    with pytest.raises(LocalProtocolError):
        pair.client.send(select)
    event = only(pair.deliver(pair.server, pack(4, encode(select))), ProtocolError)
    assert event.response == m.CSTAErrorCode.of("operation", "invalidRouteingCrossRefID")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"GET / HTTP/1.1\r\n\r\n", "framing lost: bad format indicator 0x4745"),
        (b"\x00\x00\x00\x030001", "framing lost: impossible frame length 3"),
    ],
)
def test_lost_framing_closes_cleanly_with_a_reason(data: bytes, reason: str) -> None:
    conn = CstaConnection("server")
    conn.receive_data(pack(1, encode(m.SystemStatus())) + data)
    first, closed = drain(conn)
    assert isinstance(first, RequestReceived)
    assert closed == ConnectionClosed(reason=reason, error=True)
    assert conn.next_event() is NEED_DATA and conn.closed
    conn.receive_data(pack(2, encode(m.SystemStatus())))
    assert conn.next_event() is NEED_DATA


def test_peer_closing_mid_frame_is_an_error() -> None:
    conn = CstaConnection("client")
    conn.receive_data(pack(1, b"<SystemStatus/>")[:10])
    conn.receive_data(b"")
    assert drain(conn) == [ConnectionClosed(reason="peer closed mid-frame", error=True)]


# ---------------------------------------------------------------------------
# Strict in what it sends
# ---------------------------------------------------------------------------


def test_local_misuse_raises() -> None:
    client, server = CstaConnection("client"), CstaConnection("server")
    with pytest.raises(LocalProtocolError, match="does not send"):
        client.send(m.HeldEvent(monitor_cross_ref_id="1", held_connection=ConnectionID("c")))
    with pytest.raises(LocalProtocolError, match="does not send"):
        server.send(m.MakeCall(calling_device=AGENT, called_directory_number=AGENT))
    with pytest.raises(LocalProtocolError, match="invoke ID"):
        client.send(m.MonitorStopResponse())
    client.send(m.MonitorStop(monitor_cross_ref_id="1"), invoke_id=44)
    with pytest.raises(LocalProtocolError, match="outstanding"):
        client.send(m.MonitorStop(monitor_cross_ref_id="2"), invoke_id=44)
    with pytest.raises(LocalProtocolError, match="only results"):
        client.send(m.SystemStatus(private_data=(("pad", "x" * 70_000),)))
    with pytest.raises(LocalProtocolError, match="cannot carry"):
        client.send(m.MonitorStop(monitor_cross_ref_id="\x07"))
    with pytest.raises(ValueError):
        CstaConnection("pbx")  # type: ignore[arg-type]


def test_invoke_ids_cycle_and_skip_outstanding() -> None:
    client = CstaConnection("client", request_timeout=1e9)
    first = client.send(m.SystemStatus())
    assert first[4:8] == b"0001"
    client._next_invoke_id = 9998
    assert client.send(m.SystemStatus())[4:8] == b"9998"
    assert client.send(m.SystemStatus())[4:8] == b"0002"  # 9999 is for events; 0001 is busy


# ---------------------------------------------------------------------------
# Segmentation of large results
# ---------------------------------------------------------------------------


def test_large_results_are_segmented_and_reassembled() -> None:
    pair = ConnectionPair(chunk=4096)
    agents = tuple(
        m.AgentStateEntry(
            agent_id=f"坐席{i:05d}",
            logged_on=True,
            agent_info=(m.AgentInfo(acd_group=DeviceID("800"), agent_state="agentReady"),),
        )
        for i in range(1200)
    )
    request = m.GetAgentState(device=AGENT)
    received = only(pair.send(pair.client, request), RequestReceived)
    response = m.GetAgentStateResponse(agent_state_list=agents)
    data = pair.server.send(response, received.invoke_id)
    sizes = []
    while data:
        size = int.from_bytes(data[2:4], "big")
        assert data[4:8] == b"%04d" % received.invoke_id
        sizes.append(size)
        data = data[size:]
    assert len(sizes) > 2 and max(sizes) <= 65_535
    answer = only(
        pair.deliver(
            pair.client,
            pair.server.send(
                m.SnapshotDeviceResponse(
                    snapshot_data=tuple(
                        m.SnapshotDeviceItem(
                            connection_identifier=ConnectionID(f"C{i}", AGENT),
                            local_call_state="connected",
                        )
                        for i in range(3000)
                    )
                ),
                only(
                    pair.send(pair.client, m.SnapshotDevice(snapshot_object=AGENT)), RequestReceived
                ).invoke_id,
            ),
        ),
        ResponseReceived,
    )
    assert isinstance(answer.message, m.SnapshotDeviceResponse)
    assert len(answer.message.snapshot_data) == 3000 and answer.message.segment_id is None
    # and the agent list, delivered in 4 KiB reads
    full = pair.server.send(
        response, only(pair.send(pair.client, request), RequestReceived).invoke_id
    )
    assert only(pair.deliver(pair.client, full), ResponseReceived).message == response
