"""Fixtures for the services tests: a fresh SQLite database per test, a frozen clock,
cheap Argon2 parameters, and a small organisation (admin, agents, two departments)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from ccsim.services import Settings, create_app
from ccsim.services.app import new_user
from ccsim.services.security import Hasher

PASSWORD = "correct horse battery"
#: Monday 2 March 2026, 09:00 in Shanghai (01:00 UTC): the start of a business day.
MONDAY_9AM = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
CHEAP = Hasher(time_cost=1, memory_cost_kib=256, parallelism=1)


class Clock:
    """A settable clock handed to the app instead of the wall clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_9AM)


#: SQLite always; PostgreSQL too when CCSIM_TEST_POSTGRES names a server URL
#: (e.g. ``postgresql+psycopg://`` with libpq's PG* variables, as pg_virtualenv sets).
PG_URL = os.environ.get("CCSIM_TEST_POSTGRES", "")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database per test on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'services.db'}"
        return
    name = f"ccsim_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def app(db_url: str, clock: Clock) -> Iterator[FastAPI]:
    application = create_app(db_url, Settings(hasher=CHEAP, clock=clock))
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@dataclass
class World:
    """A client plus logged-in users by name and department ids by name."""

    client: TestClient
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    departments: dict[str, int] = field(default_factory=dict)

    def login(self, name: str, password: str = PASSWORD) -> dict[str, str]:
        r = self.client.post("/auth/login", json={"username": name, "password": password})
        assert r.status_code == 200, r.text
        h = {"Authorization": f"Bearer {r.json()['token']}"}
        self.headers[name] = h
        return h

    def add_user(self, name: str, roles: list[str], departments: tuple[str, ...] = ()) -> int:
        r = self.client.post(
            "/users",
            headers=self.headers["admin"],
            json={
                "username": name,
                "password": PASSWORD,
                "roles": roles,
                "department_ids": [self.departments[d] for d in departments],
            },
        )
        assert r.status_code == 201, r.text
        self.user_ids[name] = r.json()["id"]
        self.login(name)
        return int(r.json()["id"])

    def as_(self, name: str, method: str, url: str, **kw: Any) -> Any:
        return self.client.request(method, url, headers=self.headers[name], **kw)

    def new_order(self, name: str = "agent", **fields: Any) -> dict[str, Any]:
        body = {
            "customer_number": "13800138000",
            "order_type": "complaint",
            "priority": "normal",
            "title": "宽带故障",
            "description": "客户报告宽带故障，要求尽快处理。",
        } | fields
        r = self.as_(name, "POST", "/work-orders", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def act(self, name: str, order: dict[str, Any], action: str, **extra: Any) -> Any:
        return self.as_(
            name,
            "POST",
            f"/work-orders/{order['id']}/transitions",
            json={"action": action, "version": order["version"]} | extra,
        )


@pytest.fixture
def world(app: FastAPI, client: TestClient) -> World:
    """admin; agent, agent2 and leader; handlers ha (dept A, leader of A) and hb (dept B)."""
    with sessionmaker(app.state.engine)() as db:
        new_user(db, "admin", PASSWORD, ["admin"], CHEAP)
        db.commit()
    w = World(client)
    w.login("admin")
    for dep in ("A", "B"):
        r = client.post("/departments", headers=w.headers["admin"], json={"name": f"部门{dep}"})
        assert r.status_code == 201, r.text
        w.departments[dep] = r.json()["id"]
    w.add_user("agent", ["agent"])
    w.add_user("agent2", ["agent"])
    w.add_user("leader", ["team_leader"])
    w.add_user("ha", ["department_handler"], ("A",))
    w.add_user("hb", ["department_handler"], ("B",))
    w.add_user("qc", ["qc_inspector"])
    return w
