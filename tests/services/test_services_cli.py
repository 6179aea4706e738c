"""``ccsim db upgrade``, ``ccsim users ...`` and ``ccsim serve`` (over loopback)."""

from __future__ import annotations

import io
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine, inspect

from ccsim import cli
from ccsim.services import create_app


def test_db_upgrade_creates_the_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert cli.main(["db", "upgrade", "--db", url]) == 0
    assert cli.main(["db", "upgrade", "--db", url]) == 0  # idempotent
    engine = create_engine(url)
    assert {"users", "work_orders", "work_orders_fts", "alembic_version"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()
    assert "revision head" in capsys.readouterr().out


def test_users_add_list_disable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'u.db'}"
    monkeypatch.setattr("sys.stdin", io.StringIO("管理员的长密码 1234\n"))
    rc = cli.main(["users", "--db", url, "add", "root", "--role", "admin", "--password-stdin"])
    assert rc == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    rc = cli.main(["users", "--db", url, "add", "bob", "--role", "agent", "--password-stdin"])
    assert rc == 2
    assert "at least 8" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("another password\n"))
    rc = cli.main(["users", "--db", url, "add", "root", "--role", "agent", "--password-stdin"])
    assert rc == 2
    assert cli.main(["users", "--db", url, "disable", "root"]) == 0
    assert cli.main(["users", "--db", url, "list"]) == 0
    out = capsys.readouterr().out
    assert "root\tdisabled\tadmin" in out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_command_binds_loopback_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    url = f"sqlite:///{tmp_path / 's.db'}"
    assert cli.main(["serve", "--db", url]) == 0
    assert (seen["host"], seen["port"]) == ("127.0.0.1", 8000)
    assert seen["app"].title == "ccsim back-office services"
    assert cli.main(["serve", "--db", url, "--port", "70000"]) == 2


def test_real_server_on_loopback(tmp_path: Path) -> None:
    """One real socket: uvicorn serving the app on 127.0.0.1, no default accounts."""
    port = _free_port()
    app = create_app(f"sqlite:///{tmp_path / 'r.db'}")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/openapi.json").status_code == 200
        r = httpx.post(f"{base}/auth/login", json={"username": "admin", "password": "admin123"})
        assert (r.status_code, r.json()["error"]) == (401, "invalid_credentials")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
