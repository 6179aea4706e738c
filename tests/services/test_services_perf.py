"""The fast paths keep their guarantees: search answers equal a brute-force scan,
cached sessions die with logout/disable/role change/expiry, writes are all audited,
refusals store nothing, and concurrent writes through the single SQLite writer agree."""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from conftest import CHEAP, Clock, World
from fastapi import FastAPI
from sqlalchemy import func, insert, select, true
from sqlalchemy.orm import Session, sessionmaker

from ccsim.services import search
from ccsim.services.app import new_user
from ccsim.services.hotpath import Principal, TokenCache
from ccsim.services.models import (
    AuditEntry,
    AuthSession,
    WorkOrder,
    WorkOrderHistory,
)

# A small alphabet so that 1-, 2- and 3-character terms hit, miss and overlap often;
# LIKE wildcards and a quote are in it to check they stay literal.
ALPHABET = "话费宽带故障退款寬帶話费a%_'"


def _corpus_orders(engine: Any, n: int, rng: random.Random) -> dict[int, tuple[str, str, str]]:
    """Insert ``n`` orders of random text; returns id -> (title, description, result)."""
    with Session(engine) as db:
        user = new_user(db, "corpus", "corpus password", ["agent"], CHEAP)
        db.commit()
        uid = user.id
    now = datetime(2026, 3, 2, 1, 0)

    def text(lo: int, hi: int) -> str:
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(lo, hi)))

    rows = [
        {
            "version": 1,
            "state": "draft",
            "customer_number": "13800138000",
            "order_type": "complaint",
            "priority": "normal",
            "title": text(1, 6),
            "description": text(1, 12),
            "result": text(0, 4),
            "created_by": uid,
            "created_at": now,
            "updated_at": now,
        }
        for _ in range(n)
    ]
    with engine.begin() as conn:
        conn.execute(insert(WorkOrder), rows)
    with Session(engine) as db:
        found = db.execute(
            select(WorkOrder.id, WorkOrder.title, WorkOrder.description, WorkOrder.result)
        ).all()
    return {i: (t, d, r) for i, t, d, r in found}


def test_search_equals_a_brute_force_scan(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    """FTS5/LIKE (SQLite) and grams/GIN (PostgreSQL) agree with Python's ``in`` on every page.

    The recent-orders window is shrunk to 40 so both of ``newest_first``'s
    phases (window hit, index fallback) are exercised on 300 orders.
    """
    monkeypatch.setattr(search, "RECENT_WINDOW", 40)
    rng = random.Random(20260302)
    engine = app.state.engine
    texts = _corpus_orders(engine, 300, rng)
    queries = ["话费", "寬帶", "费", "a%", "_", "'", "故障退", "宽带故障", "话费 退款", "話 a"]
    queries += ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 4))) for _ in range(30)]
    checked = 0
    with Session(engine) as db:
        for q in queries:
            ts = search.terms(q)
            expected = sorted(
                (i for i, fields in texts.items() if all(any(t in f for f in fields) for t in ts)),
                reverse=True,
            )
            cond = search.condition(db, q)
            assert cond is not None
            for limit, offset in ((20, 0), (5, 3), (50, 10), (500, 0)):
                got = search.newest_first(db, cond & true(), limit, offset, searching=True)
                assert [o.id for o in got] == expected[offset : offset + limit], (q, limit, offset)
                checked += len(got)
    assert checked > 1000  # the corpus really produced matches


def test_grams_of_a_term() -> None:
    assert search.grams("话") == ["话"]
    assert search.grams("话费") == ["话费"]
    assert search.grams("宽带故障") == ["宽带", "带故", "故障"]
    assert search.grams("aaaa") == ["aa"]


def test_postgresql_search_uses_the_grams_index(app: FastAPI, world: World) -> None:
    """PostgreSQL: a 2-character term is answered from the GIN index of ``search_grams``."""
    engine = app.state.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    o = world.new_order(title="话费争议", description="客户不认可本月话费")
    with engine.connect() as conn:
        grams = conn.exec_driver_sql(
            "SELECT search_grams FROM work_orders WHERE id = %s", (o["id"],)
        ).scalar_one()
        assert {"话", "话费", "争议", "认可"} <= set(grams)
        conn.exec_driver_sql("SET enable_seqscan = off")
        plan = "\n".join(
            conn.exec_driver_sql(
                "EXPLAIN SELECT id FROM work_orders WHERE search_grams @> ARRAY['话费']"
            ).scalars()
        )
    assert "work_orders_search_grams" in plan
    ids = {r["id"] for r in world.as_("agent", "GET", "/work-orders", params={"q": "话费"}).json()}
    assert ids == {o["id"]}


# ---------------------------------------------------------------- cached sessions


def _get(world: World, who: str, order: dict[str, Any]) -> Any:
    return world.as_(who, "GET", f"/work-orders/{order['id']}")


def test_logout_revokes_a_cached_session_at_once(world: World) -> None:
    o = world.new_order()
    assert _get(world, "agent", o).status_code == 200  # the session is now cached
    assert world.as_("agent", "POST", "/auth/logout").status_code == 204
    r = _get(world, "agent", o)
    assert (r.status_code, r.json()["error"]) == (401, "invalid_token")
    assert world.act("agent", o, "cancel").status_code == 401


def test_disabling_revokes_a_cached_session_at_once(world: World) -> None:
    o = world.new_order()
    assert _get(world, "agent", o).status_code == 200
    uid = world.user_ids["agent"]
    assert world.as_("admin", "PATCH", f"/users/{uid}", json={"active": False}).status_code == 200
    assert _get(world, "agent", o).status_code == 401
    assert world.as_("agent", "POST", "/work-orders", json={}).status_code in (401, 422)
    assert world.act("agent", o, "cancel").status_code == 401


def test_role_and_department_changes_apply_at_once(world: World) -> None:
    o = world.new_order()
    assert (
        world.act("agent", o, "dispatch", department_id=world.departments["A"]).status_code == 200
    )
    o = _get(world, "ha", o).json()  # ha's session is cached with department A
    hb = world.user_ids["hb"]
    r = world.as_(
        "admin", "PATCH", f"/users/{world.user_ids['ha']}", json={"roles": ["qc_inspector"]}
    )
    assert r.status_code == 200
    assert _get(world, "ha", o).status_code == 404  # no longer a handler: cannot see it
    r = world.as_(
        "admin", "POST", f"/departments/{world.departments['A']}/members", json={"user_id": hb}
    )
    assert r.status_code == 204
    assert _get(world, "hb", o).status_code == 200  # now a member of A
    assert world.act("hb", o, "accept").status_code == 200


def test_a_cached_session_still_expires(world: World, app: FastAPI, clock: Clock) -> None:
    o = world.new_order()
    assert _get(world, "agent", o).status_code == 200
    clock.advance(hours=8, seconds=1)
    r = _get(world, "agent", o)
    assert (r.status_code, r.json()["error"]) == (401, "token_expired")
    assert _get(world, "agent", o).json()["error"] == "invalid_token"  # the row is gone
    with sessionmaker(app.state.engine)() as db:
        left = db.scalar(
            select(func.count())
            .select_from(AuthSession)
            .where(AuthSession.user_id == world.user_ids["agent"])
        )
    assert left == 0


def test_token_cache_ttl_and_generation() -> None:
    ticks = [0.0]
    cache = TokenCache(ttl=2.0, clock=lambda: ticks[0])
    me = Principal(id=1, role_names=frozenset({"agent"}), department_ids=frozenset())
    now = datetime(2026, 3, 2, 1, 0)
    later = now + timedelta(hours=1)
    cache.put("d", later, me, cache.generation())
    assert cache.get("d", now) is me
    ticks[0] = 2.5
    assert cache.get("d", now) is None  # older than the TTL
    cache.put("d", later, me, cache.generation())
    assert cache.get("d", later) is None  # past the session's own expiry
    stale = cache.generation()
    cache.clear()
    cache.put("d", later, me, stale)  # looked up before a revocation: not stored
    assert cache.get("d", now) is None
    off = TokenCache(ttl=0)
    off.put("d", later, me, off.generation())
    assert off.get("d", now) is None


# ---------------------------------------------------------------- writes


def _counts(app: FastAPI) -> tuple[int, int, int]:
    with sessionmaker(app.state.engine)() as db:
        return tuple(  # type: ignore[return-value]
            int(db.scalar(select(func.count()).select_from(m)) or 0)
            for m in (WorkOrder, WorkOrderHistory, AuditEntry)
        )


def test_refused_writes_store_nothing(world: World, app: FastAPI) -> None:
    o = world.new_order()
    before = _counts(app)
    bad = [
        ("agent", "POST", "/work-orders", {**_order_body(), "department_id": 9999}, 422),
        ("agent", "POST", "/work-orders", {**_order_body(), "category_id": 9999}, 422),
        (
            "agent",
            "POST",
            f"/work-orders/{o['id']}/transitions",
            {"action": "dispatch", "version": 1},
            422,
        ),
        (
            "agent",
            "POST",
            f"/work-orders/{o['id']}/transitions",
            {"action": "dispatch", "version": 1, "department_id": 9999},
            422,
        ),
        ("agent", "PATCH", f"/work-orders/{o['id']}", {"version": 1, "title": None}, 422),
    ]
    for who, method, url, body, status in bad:
        r = world.as_(who, method, url, json=body)
        assert r.status_code == status, (url, body, r.text)
    assert _counts(app) == before  # 422s are not audited and write nothing
    r = world.act("agent", o, "dispatch", department_id=world.departments["A"])  # ok: v1 -> v2
    assert r.status_code == 200
    before = _counts(app)
    r = world.act("agent", o, "cancel")  # still version 1: stale
    assert (r.status_code, r.json()["error"]) == (409, "version_conflict")
    after = _counts(app)
    assert after[:2] == before[:2]  # no order, no history
    assert after[2] == before[2] + 1  # only the refusal's audit row
    assert _get(world, "agent", o).json()["state"] == "dispatched"


def test_no_token_is_401_before_the_body_is_validated(world: World, app: FastAPI) -> None:
    """An anonymous caller gets 401 for a bad body too: it learns nothing about valid bodies."""
    o = world.new_order()
    client = world.client
    before = _counts(app)
    for method, url in (
        ("POST", "/work-orders"),
        ("PATCH", f"/work-orders/{o['id']}"),
        ("POST", f"/work-orders/{o['id']}/transitions"),
    ):
        for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer"}):
            r = client.request(method, url, json={"nonsense": True}, headers=headers)
            assert (r.status_code, r.json()["error"]) == (401, "not_authenticated"), r.text
    after = _counts(app)
    assert after[:2] == before[:2]  # nothing written; the refusals are audited
    assert after[2] == before[2] + 9


def _order_body() -> dict[str, Any]:
    return {
        "customer_number": "13800138000",
        "order_type": "complaint",
        "title": "并发",
        "description": "宽带故障",
    }


def test_concurrent_writes_are_all_recorded(world: World, app: FastAPI) -> None:
    """8 threads create and dispatch orders at once: every write has its history and audit row."""
    before = _counts(app)
    dep = world.departments["A"]
    errors: list[str] = []

    def client(k: int) -> None:
        for _ in range(5):
            r = world.as_("agent", "POST", "/work-orders", json=_order_body())
            if r.status_code != 201:
                errors.append(r.text)
                continue
            r = world.act("agent", r.json(), "dispatch", department_id=dep)
            if r.status_code != 200:
                errors.append(r.text)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    orders, history, audit = (a - b for a, b in zip(_counts(app), before, strict=True))
    assert orders == 40
    assert history == 40 * 3  # create: state; dispatch: state and department
    assert audit == 80
    listed = world.as_("agent", "GET", "/work-orders", params={"state": "dispatched"}).json()
    assert len(listed) == 40 and {o["version"] for o in listed} == {2}


def test_short_term_index_follows_edits_and_results(world: World) -> None:
    """The 1-2 character index is kept current when a title is edited or a result written."""
    o = world.new_order(title="话费争议", description="客户投诉")

    def ids(q: str) -> set[int]:
        r = world.as_("leader", "GET", "/work-orders", params={"q": q})
        assert r.status_code == 200, r.text
        return {x["id"] for x in r.json()}

    assert ids("争议") == {o["id"]}
    r = world.as_("agent", "PATCH", f"/work-orders/{o['id']}", json={"version": 1, "title": "漫游"})
    assert r.status_code == 200, r.text
    assert ids("争议") == set() and ids("漫游") == {o["id"]} and ids("投诉") == {o["id"]}
    o = r.json()
    for who, action, extra in (
        ("agent", "dispatch", {"department_id": world.departments["A"]}),
        ("ha", "accept", {}),
        ("ha", "start", {}),
        ("ha", "return", {"result": "已退款"}),
    ):
        r = world.act(who, o, action, **extra)
        assert r.status_code == 200, r.text
        o = r.json()
    assert ids("退款") == {o["id"]} and ids("退") == {o["id"]}
