"""The visibility rule: the SQL condition agrees with the Python predicate; schema = models."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi import FastAPI
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from ccsim.services.db import include_name
from ccsim.services.kb import policy
from ccsim.services.kb.models import KbArticle, KbArticleDepartment, KbArticleRole
from ccsim.services.models import ROLES, Base, Department, DepartmentMember, User, UserRole

NOW = datetime(2026, 3, 2, 1, 0)


def _user(rng: random.Random, deps: list[int]) -> User:
    roles = rng.sample(ROLES, rng.randint(0, 3))
    mine = rng.sample(deps, rng.randint(0, 2))
    return User(
        id=10_000 + rng.randint(0, 10**6),
        username="u",
        roles=[UserRole(role=r) for r in roles],
        memberships=[DepartmentMember(department_id=d) for d in mine],
    )


def test_sql_visibility_equals_the_python_rule(app: FastAPI) -> None:
    """200 random articles x 60 random users: the two forms select the same articles."""
    rng = random.Random(20260302)
    with Session(app.state.engine) as db:
        author = User(username="author", password_hash="x", created_at=NOW)
        db.add(author)
        deps = [Department(name=f"部门{i}") for i in range(4)]
        db.add_all(deps)
        db.flush()
        dep_ids = [d.id for d in deps]
        shifts = [None, -2, 2]
        for i in range(200):
            eff, exp = rng.choice(shifts), rng.choice(shifts)
            a = KbArticle(
                version=1,
                status=rng.choice(["draft", "published", "published", "withdrawn"]),
                subject=f"s{i}",
                body="",
                body_text="",
                keywords="",
                content_type="general",
                nature="reference",
                urgency="normal",
                confidentiality=rng.randint(0, 3),
                external=False,
                author_id=author.id,
                author_name="author",
                employee_id="",
                created_at=NOW,
                updated_at=NOW,
                effective_at=None if eff is None else NOW + timedelta(hours=eff),
                expires_at=None if exp is None else NOW + timedelta(hours=exp + 1),
            )
            roles = rng.sample(ROLES, rng.choice([0, 0, 1, 2]))
            deps_of = rng.sample(dep_ids, rng.choice([0, 0, 1, 2]))
            a.role_limited, a.department_limited = bool(roles), bool(deps_of)
            db.add(a)
            db.flush()
            for r in roles:
                db.add(KbArticleRole(article_id=a.id, role=r))
            for d in deps_of:
                db.add(KbArticleDepartment(article_id=a.id, department_id=d))
        db.commit()
        articles = db.scalars(select(KbArticle)).all()
        aud: dict[int, tuple[set[str], set[int]]] = {a.id: (set(), set()) for a in articles}
        for aid, role in db.execute(select(KbArticleRole.article_id, KbArticleRole.role)):
            aud[aid][0].add(role)
        for aid, dep in db.execute(
            select(KbArticleDepartment.article_id, KbArticleDepartment.department_id)
        ):
            aud[aid][1].add(dep)
        nonempty = 0
        for _ in range(60):
            u = _user(rng, dep_ids)
            sql = set(db.scalars(select(KbArticle.id).where(policy.visible_clause(u, NOW))))
            py = {a.id for a in articles if policy.can_read(u, a, *aud[a.id], NOW)}
            assert sql == py, sorted(u.role_names)
            readers = set(db.scalars(select(KbArticle.id).where(policy.reader_clause(u, NOW))))
            assert readers == {a.id for a in articles if policy.is_reader(u, a, *aud[a.id], NOW)}
            nonempty += bool(readers) and len(sql) < len(articles)
        assert nonempty > 10  # the cases discriminate: neither everything nor nothing


def test_kb_migration_matches_the_models(app: FastAPI, db_url: str) -> None:
    """0003 creates exactly the KB tables of the models (the FTS index is hand-made)."""

    def names(name: str | None, type_: str, parents: object) -> bool:
        if type_ == "table" and name is not None and name.startswith("kb_articles_fts"):
            return False
        return include_name(name, type_, parents)

    engine = create_engine(db_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_name": names})
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diff == []
