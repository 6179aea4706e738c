"""Full-text search over work orders that works for Chinese.

SQLite: FTS5 with the trigram tokenizer answers terms of 3+ characters; a
1-2 character term (common in Chinese: 话费) cannot match a trigram index, so
those terms go to a second FTS5 table, ``work_orders_grams_fts`` (migration
0005), which indexes every 1- and 2-character substring of an order's texts
as one token (its UTF-8 in hex, so any character is a plain token). Its
triggers call :func:`order_gram_tokens`, registered on every connection by
``ccsim.services.db.make_engine``. Terms are ANDed.
Every term reaches MATCH as one double-quoted FTS5 string (embedded quotes
doubled), so operators such as ``NEAR(``, ``AND`` or ``*`` are plain text.

PostgreSQL: ``work_orders.search_grams`` (migration 0005) holds every 1- and
2-character substring of an order's texts under a GIN index. A term of one or
two characters matches exactly when the array contains it; a longer term
needs all its bigrams there (the index narrows the rows) and a ``LIKE`` on
those rows to confirm the whole term. Terms travel as bound array elements,
never as SQL. Other backends use ``LIKE`` for every term.

:func:`newest_first` pages the matches newest first; on PostgreSQL it first
looks among the newest orders only, so neither a common nor a rare term
makes the planner walk the whole table.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    Text,
    and_,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from ccsim.services.models import WorkOrder

MAX_QUERY_CHARS = 200
MAX_TERMS = 8

#: The PostgreSQL-only generated column of migration 0005 (not a model attribute).
SEARCH_GRAMS = literal_column("work_orders.search_grams", ARRAY(Text))

#: How many of the newest orders :func:`newest_first` tries before the index.
RECENT_WINDOW = 2000


class SearchQueryError(ValueError):
    """The query cannot be searched (too long, too many terms)."""


def terms(query: str) -> list[str]:
    """Split into distinct whitespace-separated terms, dropping control characters."""
    if len(query) > MAX_QUERY_CHARS:
        raise SearchQueryError(f"search query longer than {MAX_QUERY_CHARS} characters")
    cleaned = "".join(
        " " if unicodedata.category(c) in ("Cc", "Cf", "Zs", "Zl", "Zp") else c
        for c in unicodedata.normalize("NFC", query)
    )
    out = list(dict.fromkeys(t for t in cleaned.split() if t))
    if len(out) > MAX_TERMS:
        raise SearchQueryError(f"at most {MAX_TERMS} search terms")
    return out


def fts_phrase(term: str) -> str:
    """One FTS5 string literal: the term between double quotes, quotes doubled."""
    return '"' + term.replace('"', '""') + '"'


def _like(term: str) -> ColumnElement[bool]:
    pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(
        WorkOrder.title.like(pattern, escape="\\"),
        WorkOrder.description.like(pattern, escape="\\"),
        WorkOrder.result.like(pattern, escape="\\"),
    )


def gram_token(gram: str) -> str:
    """The FTS5 token of a 1-2 character gram: its UTF-8 bytes in hex (only [0-9a-f])."""
    return gram.encode("utf-8", "surrogatepass").hex()


def order_gram_tokens(*texts: str | None) -> str:
    """Every distinct 1- and 2-character substring of ``texts`` as tokens (SQLite's index)."""
    out: set[str] = set()
    for t in texts:
        if t:
            out.update(t)
            out.update(t[i : i + 2] for i in range(len(t) - 1))
    return " ".join(gram_token(g) for g in sorted(out))


def grams(term: str) -> list[str]:
    """What ``search_grams`` must hold if ``term`` occurs: itself if short, else its bigrams."""
    if len(term) <= 2:
        return [term]
    return list(dict.fromkeys(term[i : i + 2] for i in range(len(term) - 1)))


def _dialect(db: Session | Connection) -> str:
    return db.dialect.name if isinstance(db, Connection) else db.get_bind().dialect.name


def condition(db: Session | Connection, query: str) -> ColumnElement[bool] | None:
    """A WHERE clause matching orders that contain every term; None for an empty query."""
    ts = terms(query)
    if not ts:
        return None
    dialect = _dialect(db)
    if dialect == "postgresql":
        needed = list(dict.fromkeys(g for t in ts for g in grams(t)))
        return and_(
            SEARCH_GRAMS.contains(literal(needed, ARRAY(Text))),
            *(_like(t) for t in ts if len(t) > 2),
        )
    if dialect != "sqlite":
        return and_(*(_like(t) for t in ts))
    clauses: list[ColumnElement[bool]] = []
    long_terms = [t for t in ts if len(t) >= 3]
    if long_terms:
        match = " ".join(fts_phrase(t) for t in long_terms)
        fts_ids = (
            select(text("rowid"))
            .select_from(text("work_orders_fts"))
            .where(text("work_orders_fts MATCH :fts_q").bindparams(fts_q=match))
        )
        clauses.append(WorkOrder.id.in_(fts_ids))
    short_terms = [t for t in ts if len(t) < 3]
    if short_terms:
        match = " ".join(fts_phrase(gram_token(t)) for t in short_terms)
        gram_ids = (
            select(text("rowid"))
            .select_from(text("work_orders_grams_fts"))
            .where(text("work_orders_grams_fts MATCH :grams_q").bindparams(grams_q=match))
        )
        clauses.append(WorkOrder.id.in_(gram_ids))
    return and_(*clauses)


def newest_first(
    db: Session | Connection, where: ColumnElement[bool], limit: int, offset: int, searching: bool
) -> list[Row[Any]]:
    """One page of the orders matching ``where`` (rows of all their columns), newest first.

    On PostgreSQL a search is a query with a ``LIMIT`` over a filter the planner
    cannot estimate well: a common term is found at once by walking the primary
    key backwards, a rare one only through the GIN index, and the wrong choice
    scans every row. So: first only among the :data:`RECENT_WINDOW` newest
    orders (bounded work); if that fills the page it is the answer, because
    every match outside the window is older. Otherwise the matches come from
    the index and are sorted (``id + 0`` keeps the planner off the backward walk).
    """
    page: Select[Any] = select(WorkOrder.__table__).where(where).limit(limit).offset(offset)
    if not searching or _dialect(db) != "postgresql":
        return list(db.execute(page.order_by(WorkOrder.id.desc())))
    # A separate lookup, so the planner sees the window's bound as a value.
    floor = db.execute(
        select(WorkOrder.id).order_by(WorkOrder.id.desc()).offset(RECENT_WINDOW - 1).limit(1)
    ).scalar()
    if floor is None:  # fewer orders than the window: one query answers
        return list(db.execute(page.order_by(WorkOrder.id.desc())))
    recent = list(db.execute(page.where(WorkOrder.id >= floor).order_by(WorkOrder.id.desc())))
    if len(recent) == limit:
        return recent
    return list(db.execute(page.order_by((WorkOrder.id + 0).desc())))
