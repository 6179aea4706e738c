"""Work-order API throughput and search latency over loopback (SQLite).

Workload 1: ``--clients`` threads, each with its own keep-alive HTTP connection
to a uvicorn server in a child process, each creating an order and dispatching
it (two writes per order). Prints writes/s and p50/p99 latency.

Workload 2: ``--orders`` orders bulk-loaded with Chinese text, then searches
through the API for short (LIKE fallback) and long (FTS5 trigram) terms and a
two-term AND. Prints p50/p99 per kind.

Peer: the same search conditions executed directly through SQLAlchemy in this
process, so the printed ratio is the cost of HTTP, auth and serialisation on
top of the query itself.

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
import contextlib
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, insert, select, text
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
    engine.dispose()


def writes(base: str, dep: int, clients: int, per_client: int) -> tuple[float, list[float]]:
    lat: list[float] = []
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(base_url=base, timeout=30) as c:
            tok = c.post("/auth/login", json={"username": "agent", "password": PASSWORD}).json()
            c.headers["Authorization"] = f"Bearer {tok['token']}"
            mine = []
            for i in range(per_client // 2):
                t0 = time.perf_counter()
                o = c.post(
                    "/work-orders",
                    json={
                        "customer_number": "13800138000",
                        "order_type": "complaint",
                        "title": f"压测{i}",
                        "description": "宽带故障，要求退款",
                    },
                ).json()
                t1 = time.perf_counter()
                r = c.post(
                    f"/work-orders/{o['id']}/transitions",
                    json={"action": "dispatch", "version": 1, "department_id": dep},
                )
                t2 = time.perf_counter()
                assert r.status_code == 200, r.text
                mine += [t1 - t0, t2 - t1]
            with lock:
                lat.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(lat) / (time.perf_counter() - t0), lat


def run_backend(label: str, url: str, args: argparse.Namespace, rng: random.Random) -> None:
    """Writes then searches against one database, through a uvicorn server in a child."""
    dep = setup(url)
    port = _port()
    code = (
        "import sys, uvicorn; from ccsim.services import create_app; "
        f"uvicorn.run(create_app({url!r}), host='127.0.0.1', port={port}, "
        "log_level='warning', access_log=False)"
    )
    server = subprocess.Popen([sys.executable, "-c", code])
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
            f"p99 {_pct(lat, 0.99):6.1f} ms  ({args.clients} clients; target >= 300/s, "
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
                ("short (LIKE)", lambda: rng.choice(["话费", "退款", "漫游", "停机", "发票"])),
                ("long (index)", lambda: rng.choice(["宽带故障", "套餐变更", "流量超额"])),
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
                        db.scalars(
                            select(WorkOrder).where(cond).order_by(WorkOrder.id.desc()).limit(20)
                        ).all()
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
    ap.add_argument("--quick", action="store_true", help="small smoke run")
    args = ap.parse_args()
    if args.quick:
        args.requests, args.orders, args.searches = 160, 2000, 10
    with tempfile.TemporaryDirectory() as tmp:
        run_backend("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args, random.Random(7))
    if args.postgres:
        with postgres_database(args.postgres) as url:
            run_backend("PostgreSQL", url, args, random.Random(7))
    else:
        print("PostgreSQL: not measured (give --postgres URL, e.g. under pg_virtualenv)")


if __name__ == "__main__":
    main()
