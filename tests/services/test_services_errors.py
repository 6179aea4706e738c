"""Errors: machine-readable 4xx for bad input, a JSON 500 safety net, schema = models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import World
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from ccsim.services.db import include_name
from ccsim.services.models import Base


def test_unhandled_exception_becomes_json_500_without_details(app: FastAPI) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom")
    assert r.status_code == 500
    assert r.json() == {"error": "internal_error", "detail": "internal error"}


def test_bad_requests_are_4xx_with_reasons(world: World) -> None:
    h = world.headers["agent"]
    c = world.client
    cases = [
        ("GET", "/work-orders/abc", None, 422),
        ("GET", "/work-orders/0", None, 422),
        ("GET", f"/work-orders/{2**70}", None, 422),
        ("GET", "/work-orders/-1", None, 422),
        ("GET", f"/work-orders/{2**31}", None, 422),  # beyond a 32-bit INTEGER column
        ("GET", "/work-orders?customer_number=1%00", None, 422),
        ("GET", "/work-orders?offset=-1", None, 422),
        ("GET", "/no/such/route", None, 404),
        ("DELETE", "/work-orders", None, 405),
        ("POST", "/work-orders", {"order_type": "complaint"}, 422),
        (
            "POST",
            "/work-orders",
            {"customer_number": "13800138000", "order_type": "x", "title": "t", "description": "d"},
            422,
        ),
        (
            "POST",
            "/work-orders",
            {
                "customer_number": "13800138000",
                "order_type": "inquiry",
                "title": "t",
                "description": "nul\x00byte",
            },
            422,
        ),
        (
            "POST",
            "/work-orders",
            {
                "customer_number": "13800138000",
                "order_type": "inquiry",
                "title": "t",
                "description": "d",
                "extra": 1,
            },
            422,
        ),
        (
            "POST",
            "/work-orders",
            {
                "customer_number": "13800138000",
                "order_type": "inquiry",
                "title": "t",
                "description": "d",
                "department_id": 12345,
            },
            422,
        ),
        ("POST", "/work-orders", [1, 2], 422),
        ("POST", "/work-orders", "not an object", 422),
        ("GET", "/work-orders?limit=100000", None, 422),
        ("GET", "/work-orders?department_id=99999999999999999999999", None, 422),
    ]
    for method, url, body, status in cases:
        r = c.request(method, url, headers=h, json=body)
        assert r.status_code == status, (url, body, r.text)
        assert isinstance(r.json()["error"], str)
    r = c.post(
        "/work-orders", headers=h | {"content-type": "application/json"}, content=b"{not json"
    )
    assert (r.status_code, r.json()["error"]) == (422, "invalid_request")
    r = c.post(
        "/work-orders", headers=h | {"content-type": "application/json"}, content=b"\xff\xfe\x00"
    )
    assert r.status_code in (400, 422)
    assert isinstance(r.json()["error"], str)


def test_transition_bodies_are_validated(world: World) -> None:
    o = world.new_order()
    assert world.act("agent", o, "dispatch").json()["error"] == "department_required"
    assert world.act("agent", o, "dispatch", department_id=777).json()["error"] == (
        "unknown_department"
    )
    r = world.as_(
        "agent",
        "POST",
        f"/work-orders/{o['id']}/transitions",
        json={"action": "dispatch", "version": "x"},
    )
    assert r.status_code == 422
    assert world.as_("agent", "GET", f"/work-orders/{o['id']}").json() == o


def test_migrations_match_the_models(app: FastAPI, db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_name": include_name})
        diff = compare_metadata(ctx, Base.metadata)
        assert diff == []
        if conn.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()
    if app.state.engine.dialect.name == "sqlite":
        with app.state.engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/work-orders/{order_id}/transitions" in spec["paths"]
    assert client.get("/docs").status_code == 200
