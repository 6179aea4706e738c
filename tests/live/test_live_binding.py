"""The binding without sockets: CSTA messages in, actions out; bad input survived."""

from __future__ import annotations

from livehelp import two_skills

from ccsim.acd import ACD
from ccsim.csta import ConnectionID, DeviceID
from ccsim.csta import messages as m
from ccsim.events import AgentState
from ccsim.live.acd import live_config, roster, routing_devices
from ccsim.live.binding import Action, ArmTimer, Binding, Send


def make() -> Binding:
    sc = two_skills()
    b = Binding(ACD(live_config(sc)), roster(sc), route_services=routing_devices(sc))
    b.route_register_req_ids = {rp: f"R{i}" for i, rp in enumerate(routing_devices(sc))}
    return b


def ready(b: Binding, station: str, at: float) -> list[Action]:
    return b.on_message(
        m.AgentReadyEvent(monitor_cross_ref_id="M1", agent_device=DeviceID(station)), at
    )


def route_request(call: str, rp: str, xref: str) -> m.RouteRequest:
    return m.RouteRequest(
        cross_ref_identifier=xref,
        current_route=DeviceID(rp),
        routeing_device=DeviceID(rp),
        routed_call=ConnectionID(call, DeviceID(rp)),
        private_data=(("service", rp),),
    )


def test_route_request_becomes_route_select_to_the_chosen_agent() -> None:
    b = make()
    assert ready(b, "302", 1.0) == []  # logged on, nothing to send to the switch
    assert b.acd.agent("302").state is AgentState.READY
    actions = b.on_message(route_request("9", "vip", "X1"), 2.0)
    sends = [a for a in actions if isinstance(a, Send)]
    assert len(sends) == 1 and isinstance(sends[0].message, m.RouteSelect)
    assert sends[0].message.route_selected == DeviceID("302")
    assert sends[0].message.cross_ref_identifier == "X1"
    assert sends[0].message.route_register_req_id == b.route_register_req_ids["vip"]
    assert [a.at for a in actions if isinstance(a, ArmTimer)] == [2.0 + 10.0]  # ring timeout


def test_ready_echo_and_ringing_agent_are_not_news() -> None:
    b = make()
    ready(b, "302", 1.0)
    fed = b.stats.fed
    ready(b, "302", 1.5)  # the same state again: dropped
    b.on_message(route_request("9", "vip", "X1"), 2.0)
    ready(b, "302", 2.1)  # switch agents stay "ready" while ringing
    assert b.stats.fed == fed + 1  # only the CallOffered
    assert b.acd.agent("302").state is AgentState.RESERVED


def test_bad_input_is_logged_and_survived() -> None:
    b = make()
    ready(b, "302", 1.0)
    junk: list[m.Message] = [
        m.EstablishedEvent(
            monitor_cross_ref_id="M1", established_connection=ConnectionID("404", DeviceID("302"))
        ),
        m.ConnectionClearedEvent(
            monitor_cross_ref_id="M1", dropped_connection=ConnectionID("404", DeviceID("302"))
        ),
        m.AgentReadyEvent(monitor_cross_ref_id="M1", agent_device=DeviceID("9999")),
        m.ReRoute(cross_ref_identifier="nope"),
        m.RouteEnd(cross_ref_identifier="nope"),
        m.RouteRequest(cross_ref_identifier="X5", current_route=DeviceID("sales")),
    ]
    out = [b.on_message(msg, 3.0) for msg in junk]
    assert out[:5] == [[], [], [], [], []]
    # a route request without a call still gets an answer: the switch's default route
    assert [type(a.message) for a in out[5] if isinstance(a, Send)] == [m.RouteEnd]
    assert b.acd.snapshot()["calls"] == {} and b.acd.agent("302").state is AgentState.READY


def test_unknown_service_and_failed_delivery() -> None:
    b = make()
    ready(b, "302", 1.0)
    req = m.RouteRequest(
        cross_ref_identifier="X2",
        current_route=DeviceID("elsewhere"),
        routeing_device=DeviceID("elsewhere"),
        routed_call=ConnectionID("5", DeviceID("elsewhere")),
        private_data=(("service", "no-such-service"),),
    )
    sends = [a for a in b.on_message(req, 2.0) if isinstance(a, Send)]
    assert [type(s.message) for s in sends] == [m.RouteEnd]  # ACD refused: default route
    ready(b, "301", 2.5)
    deliver = [
        a for a in b.on_message(route_request("6", "sales", "X3"), 3.0) if isinstance(a, Send)
    ]
    assert deliver[0].purpose == "deliver" and deliver[0].agent_id == "302"
    # a RouteSelect that could not go out: the dialogue closed, the RouteEnd will tell
    assert b.on_failure(deliver[0], "no open routeing dialogue", 3.1) == []
    assert b.acd.agent("302").state is AgentState.RESERVED
    # ring-no-answer moves the call 302 -> 301 with a DeflectCall, which the switch refuses:
    # the ACD hears DeliveryFailed, 301 goes not ready and the call waits again
    moved = [a for a in b.on_timer(("ring", "6"), 13.0) if isinstance(a, Send)]
    deflect = next(a for a in moved if isinstance(a.message, m.DeflectCall))
    assert deflect.agent_id == "301"
    after = b.on_failure(deflect, "refused", 13.5)
    assert b.acd.agent("301").state is AgentState.NOT_READY
    requests = [a.message for a in after if isinstance(a, Send)]
    assert [r.requested_agent_state for r in requests if isinstance(r, m.SetAgentState)] == [
        "notReady"
    ]
    assert b.acd.where_is("6")["phase"] == "queued"  # still held for the next agent


def test_third_party_leaving_does_not_end_the_call_and_other_calls_make_agents_busy() -> None:
    b = make()
    ready(b, "302", 1.0)
    req = m.RouteRequest(
        cross_ref_identifier="X1",
        current_route=DeviceID("vip"),
        calling_device=DeviceID("13900000001"),
        routeing_device=DeviceID("vip"),
        routed_call=ConnectionID("9", DeviceID("vip")),
    )
    b.on_message(req, 2.0)
    b.on_message(
        m.EstablishedEvent(
            monitor_cross_ref_id="M1",
            established_connection=ConnectionID("9", DeviceID("302")),
            answering_device=DeviceID("302"),
        ),
        4.0,
    )
    assert b.acd.agent("302").state is AgentState.BUSY

    def cleared(device: str, at: float) -> None:
        b.on_message(
            m.ConnectionClearedEvent(
                monitor_cross_ref_id="M1", dropped_connection=ConnectionID("9", DeviceID(device))
            ),
            at,
        )

    cleared("9001", 5.0)  # a supervisor's silent monitor leaves
    assert b.acd.where_is("9")["phase"] == "talking"
    cleared("13900000001", 6.0)  # the caller hangs up
    assert b.acd.agent("302").state is AgentState.WORKING_AFTER_CALL  # wrap-up, ended by phone
    ready(b, "302", 9.0)
    assert b.acd.agent("302").state is AgentState.READY
    # busy on a call the ACD did not route (an internal call): not available meanwhile
    b.on_message(m.AgentBusyEvent(monitor_cross_ref_id="M1", agent_device=DeviceID("302")), 10.0)
    assert b.acd.agent("302").state is AgentState.NOT_READY
    ready(b, "302", 11.0)
    assert b.acd.agent("302").state is AgentState.READY


def test_ring_no_answer_and_an_answer_racing_it() -> None:
    b = make()
    ready(b, "301", 1.0)
    ready(b, "302", 1.5)
    first = [a for a in b.on_message(route_request("9", "sales", "X1"), 2.0) if isinstance(a, Send)]
    assert first[0].message.route_selected == DeviceID("301")  # type: ignore[attr-defined]
    # the ACD's ring timer: one DeflectCall 301 -> 302, and 301 not ready (rona) at the switch
    sends = [a.message for a in b.on_timer(("ring", "9"), 12.0) if isinstance(a, Send)]
    deflect = [s for s in sends if isinstance(s, m.DeflectCall)]
    assert len(deflect) == 1
    assert deflect[0].call_to_be_diverted == ConnectionID("9", DeviceID("301"))
    assert deflect[0].new_destination == DeviceID("302")
    states = [
        (s.device.number, s.requested_agent_state) for s in sends if isinstance(s, m.SetAgentState)
    ]
    assert states == [("301", "notReady")]
    # 301 had picked up just before: the switch connected it there
    b.on_message(
        m.EstablishedEvent(
            monitor_cross_ref_id="M1",
            established_connection=ConnectionID("9", DeviceID("301")),
            answering_device=DeviceID("301"),
        ),
        12.01,
    )
    assert b.acd.snapshot()["calls"] == {} and b.calls == {}
    assert b.acd.agent("302").state is AgentState.READY
