"""Work-order search indexes for 1-2 character terms (话费), on both backends.

Why: a trigram index (FTS5's or ``pg_trgm``) cannot answer a term shorter
than three characters, so such searches scanned every order's text (79 ms p99
over 100,000 orders on PostgreSQL; 40-70 ms on SQLite for a term that matches
nothing).

SQLite: ``work_orders_grams_fts``, a contentless FTS5 table holding every 1-
and 2-character substring of an order's title, description and result as one
token each (hex UTF-8), kept current by triggers that call
``ccsim_order_grams`` (a Python function registered on every connection by
``ccsim.services.db.make_engine``; a connection without it cannot write
orders' texts, which is the point: the index cannot go stale).

PostgreSQL: each order carries ``search_grams``, a stored generated ``text[]`` of
every 1- and 2-character substring of its title, description and result, with
a GIN index. A term of one or two characters matches exactly when the array
contains it; a longer term's bigrams narrow the rows through the index and a
``LIKE`` on those rows confirms it (see :mod:`ccsim.services.search`). The
trigram indexes on the orders go: nothing queries them any more, and each
cost every write three GIN updates. Needs no extension.

The column exists only on PostgreSQL, so the models do not declare it and
``ccsim.services.db.include_name`` keeps ``*search_grams*`` names out of the
model comparison, as it does for SQLite's FTS5 tables.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from alembic import op
from sqlalchemy.exc import DBAPIError

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger(__name__)

#: The trigram indexes of revision 0004 this one replaces.
TRGM_INDEXES = (
    ("work_orders_trgm_title", "title"),
    ("work_orders_trgm_description", "description"),
    ("work_orders_trgm_result", "result"),
)

#: Every distinct 1- and 2-character substring of the three texts. IMMUTABLE
#: (it depends on its arguments only), as a stored generated column requires.
#: The texts are unnested separately, so no bigram spans two fields.
GRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION ccsim_order_grams(title text, description text, result text)
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT coalesce(array_agg(DISTINCT v.g), '{}'::text[])
FROM unnest(ARRAY[title, description, result]) AS f(t)
CROSS JOIN LATERAL generate_series(1, length(f.t)) AS i
CROSS JOIN LATERAL (VALUES (substr(f.t, i, 1)), (substr(f.t, i, 2))) AS v(g)
$$
"""


_SQLITE_GRAMS = (
    "CREATE VIRTUAL TABLE work_orders_grams_fts USING fts5(grams, content='', tokenize='ascii')",
    "CREATE TRIGGER work_orders_grams_fts_ai AFTER INSERT ON work_orders BEGIN "
    "INSERT INTO work_orders_grams_fts(rowid, grams) "
    "VALUES (new.id, ccsim_order_grams(new.title, new.description, new.result)); END",
    "CREATE TRIGGER work_orders_grams_fts_ad AFTER DELETE ON work_orders BEGIN "
    "INSERT INTO work_orders_grams_fts(work_orders_grams_fts, rowid, grams) VALUES "
    "('delete', old.id, ccsim_order_grams(old.title, old.description, old.result)); END",
    "CREATE TRIGGER work_orders_grams_fts_au AFTER UPDATE OF title, description, result "
    "ON work_orders BEGIN "
    "INSERT INTO work_orders_grams_fts(work_orders_grams_fts, rowid, grams) VALUES "
    "('delete', old.id, ccsim_order_grams(old.title, old.description, old.result)); "
    "INSERT INTO work_orders_grams_fts(rowid, grams) "
    "VALUES (new.id, ccsim_order_grams(new.title, new.description, new.result)); END",
    "INSERT INTO work_orders_grams_fts(rowid, grams) "
    "SELECT id, ccsim_order_grams(title, description, result) FROM work_orders",
)
_SQLITE_TRIGGERS = (
    "work_orders_grams_fts_ai",
    "work_orders_grams_fts_ad",
    "work_orders_grams_fts_au",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for stmt in _SQLITE_GRAMS:
            op.execute(stmt)
        return
    if dialect != "postgresql":
        return
    op.execute(GRAMS_FUNCTION)
    op.execute(
        "ALTER TABLE work_orders ADD COLUMN search_grams text[] GENERATED ALWAYS AS "
        "(ccsim_order_grams(title, description, result)) STORED"
    )
    op.execute("CREATE INDEX work_orders_search_grams ON work_orders USING gin (search_grams)")
    for name, _column in TRGM_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS work_orders_grams_fts")
        return
    if bind.dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS work_orders_search_grams")
    op.execute("ALTER TABLE work_orders DROP COLUMN IF EXISTS search_grams")
    op.execute("DROP FUNCTION IF EXISTS ccsim_order_grams(text, text, text)")
    try:
        with bind.begin_nested():
            for name, column in TRGM_INDEXES:
                op.execute(
                    f"CREATE INDEX IF NOT EXISTS {name} ON work_orders "
                    f"USING gin ({column} gin_trgm_ops)"
                )
    except DBAPIError as exc:  # pg_trgm gone: search stays correct, only slower
        log.warning("trigram indexes not restored: %s", exc)
