"""Work-order API throughput and search latency over loopback (SQLite).

Workload 1: ``--clients`` concurrent keep-alive HTTP/1.1 connections to a
uvicorn server in a child process, each creating an order and dispatching it
(two writes per order). Prints writes/s, p50/p99 latency and the client's own
CPU use: the client is a few lines of asyncio writing requests by hand,
because a general HTTP client would take a large share of a 2-core machine
from the server it measures.

Workload 2: ``--orders`` orders bulk-loaded with Chinese text (then ANALYZEd,
as autovacuum would within a minute), then searches through the API for
short (1-2 characters: SQLite LIKE, PostgreSQL grams index), long (SQLite
FTS5 trigram, PostgreSQL bigrams + LIKE) and rare (no match) terms and a
two-term AND. Prints p50/p99 per kind.

Peer: the same search (``search.condition`` + ``search.newest_first``)
executed directly through SQLAlchemy in this process, so the printed ratio
is the cost of HTTP, auth and serialisation on top of the query itself.

Targets (issue 10, 2-core machine): >= 300 writes/s with p99 < 100 ms; search
p99 < 50 ms over 100,000 orders. Both workloads run on SQLite, and on
PostgreSQL too when a server URL is given (``--postgres`` or
``$CCSIM_TEST_POSTGRES``; a fresh database is created and dropped).

Run: ``python benchmarks/bench_services.py [--clients 8] [--requests 1000] [--orders 100000]``
or, with a throwaway PostgreSQL cluster:
``pg_virtualenv -- env CCSIM_TEST_POSTGRES=postgresql+psycopg:// python bench_services.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from ccsim.services import search
from ccsim.services.app import new_user
from ccsim.services.db import make_engine, upgrade
from ccsim.services.models import Department, DepartmentMember, WorkOrder
from ccsim.services.security import Hasher

PASSWORD = "benchmark password"
WORDS = [
    "宽带故障",
    "话费",
    "退款",
    "套餐变更",
    "信号差",
    "漫游",
    "投诉",
    "流量超额",
    "停机",
    "发票",
]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] * 1000


def setup(url: str) -> int:
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as db:
        new_user(db, "agent", PASSWORD, ["agent", "team_leader"], Hasher())
        dep = Department(name="网络部")
        db.add(dep)
        db.flush()
        h = new_user(db, "handler", PASSWORD, ["department_handler"], Hasher())
        db.add(DepartmentMember(user_id=h.id, department_id=dep.id))
        db.commit()
        dep_id = dep.id
    engine.dispose()
    return dep_id


def bulk_load(url: str, n: int, rng: random.Random) -> None:
    engine = make_engine(url)
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = []
    for i in range(n):
        a, b = rng.sample(WORDS, 2)
        rows.append(
            dict(
                version=1,
                state="dispatched",
                customer_number=f"138{i:08d}",
                order_type="complaint",
                priority="normal",
                title=f"{a}工单{i}",
                description=f"客户反映{a}，并且{b}。",
                result="",
                created_by=1,
                department_id=1,
                created_at=now,
                updated_at=now,
            )
        )
    with engine.begin() as conn:
        for k in range(0, n, 5000):
            conn.execute(insert(WorkOrder), rows[k : k + 5000])
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


class _Conn:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol.

    A general client (httpx) spends about a millisecond of CPU per request in
    this process; on a 2-core machine that CPU is taken from the server being
    measured. Requests here are formatted by hand and responses parsed from
    their Content-Length, so the client costs tens of microseconds a request.
    """

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.auth = f"Authorization: Bearer {token}\r\n".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def post(self, path: str, body: dict[str, object]) -> tuple[int, Any]:
        assert self.reader is not None and self.writer is not None
        data = json.dumps(body, ensure_ascii=False).encode()
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n".encode()
            + self.auth
            + b"Content-Type: application/json\r\nContent-Length: "
            + str(len(data)).encode()
            + b"\r\n\r\n"
            + data
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = int(re.search(rb"(?i)content-length: *(\d+)", head)[1])  # type: ignore[index]
        return status, json.loads(await self.reader.readexactly(length))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def writes(base: str, dep: int, clients: int, per_client: int) -> tuple[float, list[float]]:
    """``clients`` concurrent connections, each creating an order then dispatching it."""
    with httpx.Client(base_url=base, timeout=30) as c:
        tok = c.post("/auth/login", json={"username": "agent", "password": PASSWORD}).json()
    url = httpx.URL(base)
    lat: list[float] = []

    async def client() -> None:
        conn = _Conn(url.host, url.port or 80, tok["token"])
        await conn.open()
        try:
            for i in range(per_client // 2):
                t0 = time.perf_counter()
                status, o = await conn.post(
                    "/work-orders",
                    {
                        "customer_number": "13800138000",
                        "order_type": "complaint",
                        "title": f"压测{i}",
                        "description": "宽带故障，要求退款",
                    },
                )
                t1 = time.perf_counter()
                assert status == 201, o
                status, r = await conn.post(
                    f"/work-orders/{o['id']}/transitions",
                    {"action": "dispatch", "version": 1, "department_id": dep},
                )
                t2 = time.perf_counter()
                assert status == 200, r
                lat.extend((t1 - t0, t2 - t1))
        finally:
            conn.close()

    async def run_all() -> float:
        t0 = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        return time.perf_counter() - t0

    cpu0 = time.process_time()
    elapsed = asyncio.run(run_all())
    cpu = time.process_time() - cpu0
    print(f"  (client CPU {cpu / elapsed:.0%} of one core over {elapsed:.1f} s)")
    return len(lat) / elapsed, lat


def run_backend(label: str, url: str, args: argparse.Namespace, rng: random.Random) -> None:
    """Writes then searches against one database, through a uvicorn server in a child."""
    dep = setup(url)
    port = _port()
    # The app factory reads its database URL from $CCSIM_DB, so uvicorn can
    # start it in each of ``--workers`` processes.
    code = (
        "import uvicorn; "
        "uvicorn.run('ccsim.services:create_app', factory=True, host='127.0.0.1', "
        f"port={port}, workers={args.workers}, log_level='warning', access_log=False)"
    )
    server = subprocess.Popen([sys.executable, "-c", code], env=os.environ | {"CCSIM_DB": url})
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        rate, lat = writes(base, dep, args.clients, args.requests // args.clients)
        print(
            f"{label} writes: {rate:7.0f} req/s  p50 {_pct(lat, 0.5):6.1f} ms  "
            f"p99 {_pct(lat, 0.99):6.1f} ms  ({args.clients} clients, {args.workers} worker(s); "
            "target >= 300/s, "
            f"p99 < 100 ms)"
        )
        t0 = time.perf_counter()
        bulk_load(url, args.orders, rng)
        print(f"{label}: loaded {args.orders} orders in {time.perf_counter() - t0:.1f} s")
        engine = make_engine(url)
        with httpx.Client(base_url=base, timeout=30) as c:
            tok = c.post("/auth/login", json={"username": "agent", "password": PASSWORD})
            c.headers["Authorization"] = f"Bearer {tok.json()['token']}"
            for kind, pick in (
                ("short (1-2)", lambda: rng.choice(["话费", "退款", "漫游", "停机", "发票"])),
                ("long (3+)", lambda: rng.choice(["宽带故障", "套餐变更", "流量超额"])),
                ("rare", lambda: rng.choice(["话x", "宽带故x", "退订", "銷戶"])),
                ("two terms", lambda: " ".join(rng.sample(WORDS, 2))),
            ):
                http, direct = [], []
                for _ in range(args.searches):
                    q = pick()
                    t0 = time.perf_counter()
                    r = c.get("/work-orders", params={"q": q, "limit": 20})
                    http.append(time.perf_counter() - t0)
                    assert r.status_code == 200
                    with Session(engine) as db:
                        t0 = time.perf_counter()
                        cond = search.condition(db, q)
                        assert cond is not None
                        search.newest_first(db, cond, 20, 0, searching=True)
                        direct.append(time.perf_counter() - t0)
                print(
                    f"{label} search {kind:13s}: HTTP p50 {_pct(http, 0.5):6.1f} ms  "
                    f"p99 {_pct(http, 0.99):6.1f} ms | direct p50 {_pct(direct, 0.5):6.1f} ms"
                    f"  ratio {statistics.median(http) / statistics.median(direct):.2f}x "
                    f"(target p99 < 50 ms)"
                )
        engine.dispose()
    finally:
        server.terminate()
        server.wait(timeout=10)


@contextlib.contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A fresh database on the server at ``server_url``, dropped afterwards."""
    name = f"ccsim_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=1000, help="writes in total")
    ap.add_argument("--orders", type=int, default=100_000, help="orders to search over")
    ap.add_argument("--searches", type=int, default=200, help="searches per kind")
    ap.add_argument(
        "--postgres",
        default=os.environ.get("CCSIM_TEST_POSTGRES", ""),
        metavar="URL",
        help="also measure PostgreSQL (a server URL; default $CCSIM_TEST_POSTGRES)",
    )
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--no-sqlite", action="store_true", help="measure PostgreSQL only")
    ap.add_argument("--quick", action="store_true", help="small smoke run")
    args = ap.parse_args()
    if args.quick:
        args.requests, args.orders, args.searches = 160, 2000, 10
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            run_backend("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args, random.Random(7))
    if args.postgres:
        with postgres_database(args.postgres) as url:
            run_backend("PostgreSQL", url, args, random.Random(7))
    else:
        print("PostgreSQL: not measured (give --postgres URL, e.g. under pg_virtualenv)")


if __name__ == "__main__":
    main()
