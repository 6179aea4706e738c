"""Knowledge-base search latency with permission filtering, and full-export time (SQLite).

Workload: ``--articles`` synthetic articles (mixed Chinese and English, about
300 characters each) bulk-loaded with a realistic audience mix: 80 % for
everyone, 10 % for department B only, 10 % for team leaders only; 70 %
internal, 20 % public, 10 % confidential; 95 % published. Then, through the
API of a uvicorn server in a child process, an agent of department A searches
with 1-2 character, 3-4 character, two-term, English and long (four-term)
queries, all answered by the FTS5 bigram index (see ``docs/kb.md``); every
request counts the visible total (capped at 1,000) and returns a page of 20
with snippets (after five warm-up searches: the first requests after start-up
compile statements and fault the index into the page cache). Finally a ``kb_exporter`` exports the
whole KB as JSON and as the HTML archive.

Peer: the same search condition executed directly through SQLAlchemy
*without* the permission filter and without the total count (what an
unprotected search would cost). The printed ratio is the price of HTTP, the
visibility condition and the capped count together.

Target (issue 11, 2-core machine): search p99 < 50 ms over 100,000 articles.

Run: ``python benchmarks/bench_kb.py [--articles 100000] [--searches 200] [--quick]
[--db FILE]`` (``--db`` keeps the loaded database for the next run).
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import insert
from sqlalchemy.orm import Session

import ccsim.services.kb  # noqa: F401 - the KB tables are part of the metadata
from ccsim.services.app import new_user
from ccsim.services.db import make_engine, upgrade
from ccsim.services.kb import search
from ccsim.services.kb.articles import search_select
from ccsim.services.kb.models import (
    KbArticle,
    KbArticleDepartment,
    KbArticleKeyword,
    KbArticleRole,
)
from ccsim.services.models import Department, DepartmentMember
from ccsim.services.security import Hasher

PASSWORD = "benchmark password"
ZH = [
    "国际漫游", "资费", "话费", "宽带故障", "套餐变更", "流量超额", "停机保号", "发票",
    "携号转网", "实名认证", "积分兑换", "合约机", "信号差", "投诉处理", "退款", "营业厅",
]  # fmt: skip
EN = ["roaming", "tariff", "broadband", "billing", "refund", "prepaid", "SIM", "5G", "VoLTE"]
FILLER = "客户来电咨询相关业务，请坐席按照以下流程处理并做好记录。"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] * 1000


def setup(url: str) -> tuple[int, int]:
    """Users: editor (author), agent in A, exporter (agent + kb_exporter) in A."""
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as db:
        deps = [Department(name="部门A"), Department(name="部门B")]
        db.add_all(deps)
        db.flush()
        editor = new_user(db, "editor", PASSWORD, ["kb_editor"], Hasher())
        for name, roles in (("agent", ["agent"]), ("exporter", ["agent", "kb_exporter"])):
            u = new_user(db, name, PASSWORD, roles, Hasher())
            db.add(DepartmentMember(user_id=u.id, department_id=deps[0].id))
        db.commit()
        ids = (editor.id, deps[1].id)
    engine.dispose()
    return ids


def bulk_load(url: str, n: int, author: int, dep_b: int, rng: random.Random) -> None:
    engine = make_engine(url)
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        for k in range(0, n, 5000):
            arts, deps, roles, kws = [], [], [], []
            for i in range(k, min(n, k + 5000)):
                words = rng.sample(ZH, 3) + rng.sample(EN, 2)
                body = (
                    f"{words[0]}说明：{FILLER}{words[1]}与{words[2]}。"
                    f"For {words[3]} and {words[4]} see article {i}. {FILLER * 4}"
                )
                r = rng.random()
                subject, keywords = f"{words[0]} {words[3]} 第{i}号", f"{words[0]} {words[3]}"
                search_text, search_chars = search.grams(subject, body, keywords)
                arts.append(
                    dict(
                        id=i + 1,
                        version=1,
                        status="published" if rng.random() < 0.95 else "draft",
                        subject=subject,
                        body=f"<p>{body}</p>",
                        body_text=body,
                        keywords=keywords,
                        search_text=search_text,
                        search_chars=search_chars,
                        content_type=rng.choice(["general", "faq", "roaming_tariff"]),
                        nature="reference",
                        urgency="urgent" if rng.random() < 0.02 else "normal",
                        confidentiality=0 if r < 0.2 else (1 if r < 0.9 else 2),
                        external=False,
                        role_limited=False,
                        department_limited=False,
                        author_id=author,
                        author_name="editor",
                        employee_id="E001",
                        created_at=now,
                        updated_at=now,
                        published_at=now,
                    )
                )
                a = rng.random()
                if a < 0.1:
                    deps.append(dict(article_id=i + 1, department_id=dep_b))
                    arts[-1]["department_limited"] = True
                elif a < 0.2:
                    roles.append(dict(article_id=i + 1, role="team_leader"))
                    arts[-1]["role_limited"] = True
                kws += [
                    dict(article_id=i + 1, keyword=words[0]),
                    dict(article_id=i + 1, keyword=words[3]),
                ]
            conn.execute(insert(KbArticle), arts)
            if deps:
                conn.execute(insert(KbArticleDepartment), deps)
            if roles:
                conn.execute(insert(KbArticleRole), roles)
            conn.execute(insert(KbArticleKeyword), kws)
    engine.dispose()


def login(c: httpx.Client, name: str) -> None:
    tok = c.post("/auth/login", json={"username": name, "password": PASSWORD}).json()
    c.headers["Authorization"] = f"Bearer {tok['token']}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--searches", type=int, default=200, help="searches per kind")
    ap.add_argument("--quick", action="store_true", help="5,000 articles, 30 searches per kind")
    ap.add_argument("--db", help="keep the loaded database in this file and reuse it next time")
    args = ap.parse_args()
    if args.quick:
        args.articles, args.searches = 5_000, 30
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "bench.db"
        url = f"sqlite:///{path}"
        if not path.exists():
            author, dep_b = setup(url)
            t0 = time.perf_counter()
            bulk_load(url, args.articles, author, dep_b, rng)
            print(f"loaded {args.articles} articles in {time.perf_counter() - t0:.1f} s")
        port = _port()
        code = (
            "import uvicorn; from ccsim.services import create_app; "
            f"uvicorn.run(create_app({url!r}), host='127.0.0.1', port={port}, "
            "log_level='warning', access_log=False)"
        )
        server = subprocess.Popen([sys.executable, "-c", code])
        base = f"http://127.0.0.1:{port}"
        engine = make_engine(url)
        try:
            for _ in range(600):
                try:
                    httpx.get(f"{base}/openapi.json", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            with httpx.Client(base_url=base, timeout=120) as c:
                login(c, "agent")
                for q in ("话费", "国际漫游", "roaming", "宽带故障 资费", "费"):  # warm-up
                    c.get("/kb/articles", params={"q": q, "limit": 20})
                floor = []
                for _ in range(args.searches):
                    t0 = time.perf_counter()
                    c.get("/auth/me")
                    floor.append(time.perf_counter() - t0)
                print(
                    f"HTTP + auth floor (GET /auth/me): p50 {_pct(floor, 0.5):6.1f} ms  "
                    f"p99 {_pct(floor, 0.99):6.1f} ms"
                )
                kinds: list[tuple[str, Callable[[], str]]] = [
                    ("1-2 characters", lambda: rng.choice(["话费", "资费", "退款", "费", "5G"])),
                    ("3-4 characters", lambda: rng.choice(["宽带故障", "国际漫游", "营业厅"])),
                    ("two terms", lambda: " ".join(rng.sample(ZH, 2))),
                    ("English", lambda: rng.choice(["roaming", "broadband", "VoLTE"])),
                    ("long query", lambda: " ".join(rng.sample(ZH, 3) + rng.sample(EN, 1))),
                ]
                for kind, pick in kinds:
                    http, direct = [], []
                    for _ in range(args.searches):
                        q = pick()
                        t0 = time.perf_counter()
                        r = c.get("/kb/articles", params={"q": q, "limit": 20})
                        http.append(time.perf_counter() - t0)
                        assert r.status_code == 200, r.text
                        with Session(engine) as db:
                            t0 = time.perf_counter()
                            db.scalars(search_select(db, [], q).limit(20)).all()
                            direct.append(time.perf_counter() - t0)
                    print(
                        f"search {kind:14s}: HTTP p50 {_pct(http, 0.5):6.1f} ms  "
                        f"p99 {_pct(http, 0.99):6.1f} ms | unfiltered direct p50 "
                        f"{_pct(direct, 0.5):6.1f} ms  ratio "
                        f"{statistics.median(http) / max(statistics.median(direct), 1e-6):.1f}x "
                        f"(target p99 < 50 ms)"
                    )
                login(c, "exporter")
                for fmt in ("json", "html"):
                    t0 = time.perf_counter()
                    r = c.get("/kb/export", params={"format": fmt})
                    dt = time.perf_counter() - t0
                    assert r.status_code == 200, r.text
                    print(f"export {fmt:4s}: {dt:6.1f} s, {len(r.content) / 1e6:6.1f} MB")
        finally:
            engine.dispose()
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
