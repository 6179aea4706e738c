"""The bigram index finds exactly the articles containing a term (brute force), 1-6 characters."""

from __future__ import annotations

import random
from datetime import datetime

from fastapi import FastAPI
from sqlalchemy.orm import Session

from ccsim.services.kb.articles import reindex, search_articles
from ccsim.services.kb.models import KbArticle
from ccsim.services.kb.search import grams, plan
from ccsim.services.models import User, UserRole

NOW = datetime(2026, 3, 2, 1, 0)
ALPHABET = "话费国际漫游宽带故障资" + "，。 ab5G%_"


def test_grams_token_streams() -> None:
    text, chars = grams("国际漫游 Roaming", "5G套餐，话")
    assert text.split() == ["国际", "际漫", "漫游", "roaming", "5g", "套餐", "话"]
    assert chars.split() == ["国", "际", "漫", "游", "套", "餐", "话"]
    assert grams("ａｂｃ")[0] == "abc"  # NFKC: full-width letters fold to ASCII


def test_search_equals_brute_force_substring(app: FastAPI) -> None:
    """Random texts over a small alphabet; every CJK term of 1-6 characters, and mixed terms."""
    rng = random.Random(5)
    admin = User(id=1, username="root", roles=[UserRole(role="admin")], memberships=[])
    with Session(app.state.engine) as db:
        author = User(username="author", password_hash="x", created_at=NOW)
        db.add(author)
        db.flush()
        docs: dict[int, tuple[str, str, str]] = {}
        for _ in range(120):
            fields = tuple(
                "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, n))) for n in (8, 40, 6)
            )
            a = KbArticle(
                version=1, status="published", subject=fields[0], body=fields[1],
                body_text=fields[1], keywords=fields[2], content_type="general",
                nature="reference", urgency="normal", confidentiality=0, external=False,
                author_id=author.id, author_name="a", employee_id="", created_at=NOW,
                updated_at=NOW,
            )  # fmt: skip
            reindex(a)
            db.add(a)
            db.flush()
            docs[a.id] = fields  # type: ignore[assignment]
        db.commit()
        cjk = [c for c in ALPHABET if "\u4e00" <= c <= "\u9fff"]
        queries = {"".join(rng.choice(cjk) for _ in range(rng.randint(1, 6))) for _ in range(150)}
        # substrings that certainly occur, some spanning punctuation or ASCII (mixed terms)
        for fields in list(docs.values())[:60]:
            body = fields[1]
            k = rng.randrange(len(body))
            queries.add(body[k : k + rng.randint(1, 4)].strip() or "话")
        hits_seen = 0
        for q in sorted(queries):
            if " " in q or not q:
                continue
            expected = {i for i, f in docs.items() if any(q.lower() in x.lower() for x in f)}
            if any(c.isascii() and c.isalnum() for c in q):
                continue  # ASCII words are word-prefix matches by design (see search docs)
            total, exact, rows = search_articles(db, admin, NOW, [], q, limit=200)
            assert {a.id for a in rows} == expected, (q, plan(db, q))
            assert (total, exact) == (len(expected), True)
            hits_seen += bool(expected)
        assert hits_seen > 50
