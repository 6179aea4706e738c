"""Full-text search over work orders that works for Chinese.

SQLite: FTS5 with the trigram tokenizer answers terms of 3+ characters; a
1-2 character term (common in Chinese: 话费) cannot match a trigram index, so
those terms fall back to ``LIKE`` with escaped wildcards. Terms are ANDed.
Every term reaches MATCH as one double-quoted FTS5 string (embedded quotes
doubled), so operators such as ``NEAR(``, ``AND`` or ``*`` are plain text.
Other backends use ``LIKE`` for every term behind the same function.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import ColumnElement, and_, or_, select, text
from sqlalchemy.orm import Session

from ccsim.services.models import WorkOrder

MAX_QUERY_CHARS = 200
MAX_TERMS = 8


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


def condition(session: Session, query: str) -> ColumnElement[bool] | None:
    """A WHERE clause matching orders that contain every term; None for an empty query."""
    ts = terms(query)
    if not ts:
        return None
    sqlite = session.get_bind().dialect.name == "sqlite"
    clauses: list[ColumnElement[bool]] = []
    long_terms = [t for t in ts if len(t) >= 3] if sqlite else []
    if long_terms:
        match = " ".join(fts_phrase(t) for t in long_terms)
        fts_ids = (
            select(text("rowid"))
            .select_from(text("work_orders_fts"))
            .where(text("work_orders_fts MATCH :fts_q").bindparams(fts_q=match))
        )
        clauses.append(WorkOrder.id.in_(fts_ids))
    clauses.extend(_like(t) for t in ts if t not in long_terms)
    return and_(*clauses)
