"""ccsim.live.link over real loopback TCP (127.0.0.1, port 0), with bounded timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from ccsim.csta import (
    ConnectionClosed,
    ConnectionID,
    DeviceID,
    EventReceived,
    ProtocolError,
    RequestReceived,
    ResponseReceived,
    decode,
    encode,
    pack,
)
from ccsim.csta import messages as m
from ccsim.live.link import CstaError, CstaLink, LinkConnected, open_client, serve

AGENT = DeviceID("301")
VDN = DeviceID("8000")


def run(coro_fn: Callable[[], Awaitable[None]], limit: float = 10.0) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(limit):
            await coro_fn()

    asyncio.run(bounded())


async def switch(link: CstaLink) -> None:
    """A tiny switch: monitors, agent lists, routeing, errors."""
    async for event in link.events():
        if not isinstance(event, RequestReceived):
            continue
        request = event.message
        if isinstance(request, m.MonitorStart):
            await link.respond(event, m.MonitorStartResponse(monitor_cross_ref_id="M1"))
            call = ConnectionID("C1", AGENT)
            await link.send(
                m.DeliveredEvent(
                    monitor_cross_ref_id="M1",
                    connection=call,
                    alerting_device=AGENT,
                    cause="newCall",
                )
            )
        elif isinstance(request, m.GetAgentState):
            entries = tuple(
                m.AgentStateEntry(agent_id=f"座席{i}", logged_on=True) for i in range(2500)
            )
            await link.respond(event, m.GetAgentStateResponse(agent_state_list=entries))
        elif isinstance(request, m.RouteRegister):
            await link.respond(event, m.RouteRegisterResponse(route_register_req_id="R1"))
            await link.send(
                m.RouteRequest(
                    cross_ref_identifier="X1", route_register_req_id="R1", current_route=VDN
                )
            )
        elif isinstance(request, m.RouteSelect):
            await link.send(
                m.RouteEnd(
                    cross_ref_identifier=request.cross_ref_identifier, route_register_req_id="R1"
                )
            )
        elif isinstance(request, m.SetAgentState):
            await link.respond(
                event, m.CSTAErrorCode.of("stateIncompatibility", "invalidDeviceState")
            )


def test_loopback_session_through_link() -> None:
    async def scenario() -> None:
        async with (
            await serve("127.0.0.1", 0, switch) as server,
            open_client("127.0.0.1", server.port) as client,
        ):
            events = client.events()
            assert isinstance(await anext(events), LinkConnected)
            greeting = await anext(events)  # the switch speaks first; auto-answered
            assert isinstance(greeting, RequestReceived)
            assert greeting.message == m.SystemStatus()

            response = await client.request(m.MonitorStart(device=AGENT))
            assert response == m.MonitorStartResponse(monitor_cross_ref_id="M1")
            delivered = await anext(events)
            assert isinstance(delivered, EventReceived)
            assert isinstance(delivered.message, m.DeliveredEvent)

            agents = await client.request(m.GetAgentState(device=AGENT))
            assert isinstance(agents, m.GetAgentStateResponse)
            assert len(agents.agent_state_list) == 2500  # came in segments

            await client.request(m.RouteRegister(routeing_device=VDN))
            route_request = await anext(events)
            assert isinstance(route_request, RequestReceived)
            await client.send(
                m.RouteSelect(
                    cross_ref_identifier="X1", route_register_req_id="R1", route_selected=AGENT
                )
            )
            route_end = await anext(events)
            assert isinstance(route_end, RequestReceived)
            assert isinstance(route_end.message, m.RouteEnd)
            assert client.link is not None
            assert client.link.connection.route_dialogues == {}

            with pytest.raises(CstaError) as info:
                await client.request(m.SetAgentState(device=AGENT, requested_agent_state="ready"))
            assert info.value.response == m.CSTAErrorCode.of(
                "stateIncompatibility", "invalidDeviceState"
            )

    run(scenario)


def test_client_reconnects_with_backoff() -> None:
    accepted = 0

    async def flaky(link: CstaLink) -> None:
        nonlocal accepted
        accepted += 1
        if accepted == 1:
            await link.close("switch restart")  # drop the first association
            return
        await switch(link)

    connects: list[str] = []

    async def on_connect(link: CstaLink) -> None:
        connects.append(link.peer)

    async def scenario() -> None:
        async with (
            await serve("127.0.0.1", 0, flaky) as server,
            open_client(
                "127.0.0.1", server.port, on_connect=on_connect, backoff_initial=0.05
            ) as client,
        ):
            seen: list[type[object]] = []
            async for event in client.events():
                seen.append(type(event))
                if len(connects) == 2 and isinstance(event, LinkConnected):
                    break
            assert seen[0] is LinkConnected and ConnectionClosed in seen
            link = await client.wait_connected()
            response = await client.request(m.MonitorStart(device=AGENT))
            assert isinstance(response, m.MonitorStartResponse)
            assert client.connections == 2 and not link.closed

    run(scenario)


def test_server_answers_bad_frames_and_closes_on_lost_framing() -> None:
    errors: list[ProtocolError] = []
    closed: list[ConnectionClosed] = []

    async def observe(link: CstaLink) -> None:
        async for event in link.events():
            if isinstance(event, ProtocolError):
                errors.append(event)
            elif isinstance(event, ConnectionClosed):
                closed.append(event)

    async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
        header = await reader.readexactly(8)
        body = await reader.readexactly(int.from_bytes(header[2:4], "big") - 8)
        return int(header[4:8]), body

    async def scenario() -> None:
        async with await serve("127.0.0.1", 0, observe, greet=False) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(pack(7, b"<MonitorStart><broken"))
            assert await read_frame(reader) == (
                7,
                encode(m.CSTAErrorCode.of("operation", "invalidParameterValue")),
            )
            writer.write(pack(8, encode(m.SystemStatus())))  # still alive: answered
            invoke_id, body = await read_frame(reader)
            assert (invoke_id, decode(body)) == (8, m.SystemStatusResponse())
            writer.write(b"HELLO\r\n\r\n")  # not CSTA: framing lost, server hangs up
            assert await reader.read() == b""
            writer.close()
            await writer.wait_closed()
        assert [e.kind for e in errors] == ["malformed_xml"]
        assert closed and closed[0].error and closed[0].reason.startswith("framing lost")

    run(scenario)


def test_unanswered_heartbeat_closes_the_link() -> None:
    closed: list[str] = []

    async def idle(link: CstaLink) -> None:
        await link.wait_closed()
        closed.append(link.close_reason or "")

    async def scenario() -> None:
        async with await serve(
            "127.0.0.1", 0, idle, greet=False, keepalive_interval=0.05, request_timeout=0.1
        ) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            header = await reader.readexactly(8)  # a SystemStatus heartbeat we ignore
            await reader.readexactly(int.from_bytes(header[2:4], "big") - 8)
            assert await reader.read() == b""
            writer.close()
            await writer.wait_closed()
        assert closed == ["heartbeat not answered"]

    run(scenario)


def test_response_events_are_not_leaked_to_the_event_stream() -> None:
    async def scenario() -> None:
        async with (
            await serve("127.0.0.1", 0, switch, greet=False) as server,
            open_client("127.0.0.1", server.port) as client,
        ):
            await client.request(m.MonitorStart(device=AGENT))
            await client.close()
            kinds = [type(e) async for e in client.events()]
            assert ResponseReceived not in kinds
            assert kinds[0] is LinkConnected and kinds[-1] is ConnectionClosed

    run(scenario)


def test_requests_and_fire_and_forget_requests_never_share_an_invoke_id() -> None:
    """A late error to a RouteSelect must not be matched to a newer request: the link
    numbers its requests from the connection's one sequential counter."""
    seen: list[tuple[str, int]] = []

    async def recording_switch(link: CstaLink) -> None:
        async for event in link.events():
            if isinstance(event, RequestReceived):
                seen.append((type(event.message).__name__, event.invoke_id))
                if isinstance(event.message, m.RouteRegister):
                    await link.respond(event, m.RouteRegisterResponse(route_register_req_id="R1"))
                    await link.send(
                        m.RouteRequest(
                            cross_ref_identifier="X1",
                            route_register_req_id="R1",
                            current_route=VDN,
                        )
                    )
                elif isinstance(event.message, m.MonitorStart):
                    await link.respond(event, m.MonitorStartResponse(monitor_cross_ref_id="M1"))
                elif isinstance(event.message, m.SetAgentState):
                    await link.respond(event, m.SetAgentStateResponse())

    async def scenario() -> None:
        async with (
            await serve("127.0.0.1", 0, recording_switch) as server,
            open_client("127.0.0.1", server.port) as client,
        ):
            events = client.events()
            assert isinstance(await anext(events), LinkConnected)
            await anext(events)  # SystemStatus
            await client.request(m.MonitorStart(device=AGENT))
            await client.request(m.RouteRegister(routeing_device=VDN))
            await anext(events)  # the RouteRequest
            await client.send(
                m.RouteSelect(
                    cross_ref_identifier="X1", route_register_req_id="R1", route_selected=AGENT
                )
            )
            await client.request(m.SetAgentState(device=AGENT, requested_agent_state="ready"))

    run(scenario)
    names = [name for name, _ in seen]
    assert names == ["MonitorStart", "RouteRegister", "RouteSelect", "SetAgentState"]
    ids = [invoke_id for _, invoke_id in seen]
    assert len(set(ids)) == len(ids), ids
