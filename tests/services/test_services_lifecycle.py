"""The work-order lifecycle through the HTTP API, as the roles involved."""

from __future__ import annotations

import threading
from typing import Any

from conftest import World


def _dispatched(world: World, dep: str = "A", **fields: Any) -> dict[str, Any]:
    order = world.new_order(**fields)
    r = world.act("agent", order, "dispatch", department_id=world.departments[dep])
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_full_lifecycle_with_history_and_notes(world: World) -> None:
    o = world.new_order(call_id="CALL-0001")
    assert (o["state"], o["version"], o["call_id"]) == ("draft", 1, "CALL-0001")
    steps = [
        ("agent", "dispatch", {"department_id": world.departments["A"]}, "dispatched"),
        ("ha", "accept", {}, "accepted"),
        ("ha", "start", {}, "in_progress"),
        ("ha", "wait_customer", {}, "waiting_customer"),
        ("ha", "resume", {}, "in_progress"),
        ("ha", "transfer", {"department_id": world.departments["B"]}, "transferred"),
        ("hb", "accept", {}, "accepted"),
        ("hb", "start", {}, "in_progress"),
        ("hb", "return", {"result": "已重置端口，故障排除"}, "returned"),
        ("agent", "reply", {"reply": "您好，宽带已恢复。"}, "replied"),
        ("agent", "close", {}, "closed"),
        ("leader", "reopen", {}, "dispatched"),
        ("leader", "cancel", {}, "cancelled"),
    ]
    for user, action, extra, state in steps:
        r = world.act(user, o, action, **extra)
        assert r.status_code == 200, (action, r.text)
        assert r.json()["state"] == state
        assert r.json()["version"] == o["version"] + 1
        o = r.json()
    assert o["result"] == "已重置端口，故障排除"
    assert o["department_id"] == world.departments["B"]

    hist = world.as_("leader", "GET", f"/work-orders/{o['id']}/history").json()
    states = [(h["old_value"], h["new_value"]) for h in hist if h["field"] == "state"]
    assert states[0] == (None, "draft")
    assert states[-1] == ("dispatched", "cancelled")
    assert len(states) == len(steps) + 1
    dept_change = [h for h in hist if h["field"] == "department_id" and h["action"] == "transfer"]
    assert (
        dept_change[0]["user_id"] == world.user_ids["hb"]
        or dept_change[0]["user_id"] == (world.user_ids["ha"])
    )
    assert all(h["at"].endswith("+00:00") for h in hist)

    notes = world.as_("leader", "GET", f"/work-orders/{o['id']}/notes").json()
    assert [(n["visibility"], n["body"]) for n in notes] == [("customer", "您好，宽带已恢复。")]


def test_internal_notes_are_separate_from_customer_replies(world: World) -> None:
    o = _dispatched(world)
    url = f"/work-orders/{o['id']}/notes"
    r = world.as_("ha", "POST", url, json={"visibility": "internal", "body": "需要上门"})
    assert r.status_code == 201
    # the department cannot talk to the customer directly
    r = world.as_("ha", "POST", url, json={"visibility": "customer", "body": "hi"})
    assert (r.status_code, r.json()["error"]) == (403, "forbidden")
    r = world.as_("agent", "POST", url, json={"visibility": "customer", "body": "已受理"})
    assert r.status_code == 201
    customer = world.as_("agent", "GET", url, params={"visibility": "customer"}).json()
    assert [n["body"] for n in customer] == ["已受理"]
    internal = world.as_("agent", "GET", url, params={"visibility": "internal"}).json()
    assert [n["body"] for n in internal] == ["需要上门"]


def test_illegal_transition_is_409_and_changes_nothing(world: World) -> None:
    o = world.new_order()
    r = world.act("agent", o, "close")
    assert (r.status_code, r.json()["error"]) == (409, "illegal_transition")
    after = world.as_("agent", "GET", f"/work-orders/{o['id']}").json()
    assert after == o
    hist = world.as_("agent", "GET", f"/work-orders/{o['id']}/history").json()
    assert len(hist) == 1


def test_wrong_role_is_409_and_changes_nothing(world: World) -> None:
    o = _dispatched(world)
    hist = world.as_("agent", "GET", f"/work-orders/{o['id']}/history").json()
    r = world.act("agent", o, "accept")  # accepting is the department's job
    assert (r.status_code, r.json()["error"]) == (409, "role_not_allowed")
    r = world.act("leader", o, "accept")
    assert (r.status_code, r.json()["error"]) == (409, "role_not_allowed")
    assert world.as_("agent", "GET", f"/work-orders/{o['id']}").json() == o
    assert world.as_("agent", "GET", f"/work-orders/{o['id']}/history").json() == hist


def test_status_not_in_the_table_is_rejected(world: World) -> None:
    o = world.new_order()
    for action in ("approve", "closed", "", "DISPATCH"):
        r = world.act("agent", o, action)
        assert (r.status_code, r.json()["error"]) == (422, "invalid_request"), action
    r = world.as_("agent", "PATCH", f"/work-orders/{o['id']}", json={"version": 1, "state": "x"})
    assert r.status_code == 422
    assert world.as_("agent", "GET", f"/work-orders/{o['id']}").json() == o


def test_handler_of_other_department_gets_404_everywhere(world: World) -> None:
    o = _dispatched(world, "A")
    oid = o["id"]
    for method, url, body in [
        ("GET", f"/work-orders/{oid}", None),
        ("GET", f"/work-orders/{oid}/history", None),
        ("GET", f"/work-orders/{oid}/notes", None),
        ("POST", f"/work-orders/{oid}/notes", {"visibility": "internal", "body": "x"}),
        ("PATCH", f"/work-orders/{oid}", {"version": o["version"], "priority": "urgent"}),
        ("POST", f"/work-orders/{oid}/transitions", {"action": "accept", "version": 2}),
    ]:
        r = world.as_("hb", method, url, json=body)
        assert (r.status_code, r.json()["error"]) == (404, "not_found"), url
        # a guessed non-existent id looks exactly the same
        missing = world.as_("hb", method, url.replace(str(oid), "999999"), json=body)
        assert missing.status_code == 404
        assert missing.json() == r.json()
    assert world.as_("hb", "GET", "/work-orders").json() == []
    assert [x["id"] for x in world.as_("ha", "GET", "/work-orders").json()] == [oid]
    # another agent and a QC inspector do not see it either
    assert world.as_("agent2", "GET", f"/work-orders/{oid}").status_code == 404
    assert world.as_("qc", "GET", f"/work-orders/{oid}").status_code == 404
    assert world.as_("agent", "GET", f"/work-orders/{oid}").json() == o


def test_only_agents_create_orders(world: World) -> None:
    for who in ("ha", "qc", "admin"):
        r = world.as_(
            who,
            "POST",
            "/work-orders",
            json={
                "customer_number": "13800138000",
                "order_type": "inquiry",
                "title": "t",
                "description": "d",
            },
        )
        assert r.status_code == 403, who


def test_stale_version_is_409(world: World) -> None:
    o = _dispatched(world)
    stale = dict(o)
    r = world.act("ha", o, "accept")
    assert r.status_code == 200
    r = world.act("ha", stale, "start")  # legal from "accepted", but claims the old version
    assert (r.status_code, r.json()["error"]) == (409, "version_conflict")
    cur = world.as_("ha", "GET", f"/work-orders/{o['id']}").json()
    assert (cur["state"], cur["version"]) == ("accepted", o["version"] + 1)
    r = world.as_(
        "agent",
        "PATCH",
        f"/work-orders/{o['id']}",
        json={"version": o["version"], "priority": "urgent"},
    )
    assert (r.status_code, r.json()["error"]) == (409, "version_conflict")
    assert world.as_("ha", "GET", f"/work-orders/{o['id']}").json() == cur


def test_concurrent_transitions_exactly_one_wins(world: World) -> None:
    """The handler accepts while the agent cancels, both from version N: one gets 409."""
    for _ in range(5):
        o = _dispatched(world)
        barrier = threading.Barrier(2)
        codes: dict[str, int] = {}

        def go(
            user: str,
            action: str,
            order: dict[str, Any] = o,
            barrier: threading.Barrier = barrier,
            codes: dict[str, int] = codes,
        ) -> None:
            barrier.wait()
            codes[action] = world.act(user, order, action).status_code

        threads = [
            threading.Thread(target=go, args=("ha", "accept")),
            threading.Thread(target=go, args=("agent", "cancel")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes.values()) == [200, 409]
        final = world.as_("leader", "GET", f"/work-orders/{o['id']}").json()
        assert final["version"] == o["version"] + 1
        winner = next(a for a, c in codes.items() if c == 200)
        assert final["state"] == {"accept": "accepted", "cancel": "cancelled"}[winner]


def test_stored_script_comes_back_as_inert_json(world: World) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    o = world.new_order(description=evil, title=evil[:100])
    r = world.as_("agent", "GET", f"/work-orders/{o['id']}")
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.json()["description"] == evil  # stored verbatim, never rendered as HTML


def test_query_by_fields(world: World) -> None:
    a = world.new_order(priority="urgent", customer_number="13900000001", call_id="C-1")
    b = world.new_order(order_type="inquiry", customer_number="13900000002")
    ids = lambda **p: [o["id"] for o in world.as_("agent", "GET", "/work-orders", params=p).json()]  # noqa: E731
    assert ids(priority="urgent") == [a["id"]]
    assert ids(order_type="inquiry") == [b["id"]]
    assert ids(customer_number="13900000002") == [b["id"]]
    assert ids(call_id="C-1") == [a["id"]]
    assert ids(state="draft") == [b["id"], a["id"]]
    assert world.as_("agent", "GET", "/work-orders", params={"state": "bogus"}).status_code == 422


def test_categories_are_configurable_and_typed(world: World) -> None:
    r = world.as_("leader", "POST", "/categories", json={"order_type": "complaint", "name": "资费"})
    assert r.status_code == 201
    cat = r.json()["id"]
    assert (
        world.as_(
            "agent", "POST", "/categories", json={"order_type": "complaint", "name": "x"}
        ).status_code
        == 403
    )
    o = world.new_order(category_id=cat)
    assert o["category_id"] == cat
    r = world.as_(
        "agent",
        "POST",
        "/work-orders",
        json={
            "customer_number": "13800138000",
            "order_type": "inquiry",
            "category_id": cat,
            "title": "t",
            "description": "d",
        },
    )
    assert (r.status_code, r.json()["error"]) == (422, "unknown_category")


def test_stats_counts_by_state_and_type(world: World) -> None:
    _dispatched(world)
    world.new_order(order_type="inquiry")
    s = world.as_("leader", "GET", "/work-orders/stats").json()
    assert s["by_state"] == {"dispatched": 1, "draft": 1}
    assert s["by_type"] == {"complaint": 1, "inquiry": 1}
    assert s["open"] == 1
    assert world.as_("agent", "GET", "/work-orders/stats").status_code == 403
