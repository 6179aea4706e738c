"""Full-text search over articles that works for Chinese terms of any length.

Work-order search (:mod:`ccsim.services.search`) uses an FTS5 trigram index
and a ``LIKE`` scan for 1-2 character terms. Over 100,000 articles that scan
(and counting the hits of a common term) is far slower than the 50 ms target,
and two-character words are the commonest Chinese search terms (话费, 漫游). So
the KB indexes *bigrams* instead, on SQLite:

* :func:`grams` turns subject, text and keywords into two token streams,
  stored in ``kb_articles.search_text`` and ``search_chars``: every run of CJK
  characters becomes its overlapping bigrams (国际漫游 -> 国际 际漫 漫游), every
  run of letters/digits one lower-cased word; ``search_chars`` holds each CJK
  character once. An FTS5 ``unicode61`` index (``kb_articles_fts``, external
  content, kept by triggers) covers both columns.
* A query term that is one CJK run becomes the phrase of its bigrams, which
  matches exactly where the term occurs as a substring; a single CJK character
  is looked up in ``search_chars``; one word is a word-prefix match
  (``roam`` finds roaming, ``138001`` finds 13800138000). A mixed term
  (``5G套餐``, ``100%``) ANDs its runs in FTS and confirms the exact substring
  with ``LIKE`` on the few rows FTS leaves; a term with no letters at all is
  matched with ``LIKE`` alone.

Terms are ANDed and parsed by :func:`ccsim.services.search.terms` (length
limits; quotes and FTS operators are plain text: every token reaches MATCH as
a quoted string). On PostgreSQL every term is an escaped ``ILIKE`` (substring
semantics), served by ``pg_trgm`` GIN indexes when available.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import Session

from ccsim.services.kb.models import KbArticle
from ccsim.services.search import fts_phrase, terms

SNIPPET_CHARS = 120


def _is_cjk(c: str) -> bool:
    """Letters written without spaces between words (Han, kana, Hangul...)."""
    return unicodedata.category(c) == "Lo"


def runs(s: str) -> list[tuple[bool, str]]:
    """Maximal runs of CJK letters (True) and of other letters/digits (False), normalised."""
    out: list[tuple[bool, str]] = []
    cur, cur_cjk = "", False
    for c in unicodedata.normalize("NFKC", s).lower():
        if c.isalnum():
            cjk = _is_cjk(c)
            if cur and cjk == cur_cjk:
                cur += c
                continue
            if cur:
                out.append((cur_cjk, cur))
            cur, cur_cjk = c, cjk
        elif cur:
            out.append((cur_cjk, cur))
            cur = ""
    if cur:
        out.append((cur_cjk, cur))
    return out


def _tokens(cjk: bool, run: str) -> list[str]:
    if not cjk or len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def grams(*texts: str) -> tuple[str, str]:
    """The (search_text, search_chars) token streams of the given texts."""
    main: list[str] = []
    chars: dict[str, None] = {}
    for t in texts:
        for cjk, run in runs(t):
            main.extend(_tokens(cjk, run))
            if cjk:
                chars.update(dict.fromkeys(run))
        main.append("")  # texts never join into one run
    return " ".join(x for x in main if x), " ".join(chars)


def _escape_like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _like(term: str) -> ColumnElement[bool]:
    pattern = _escape_like(term)
    return or_(
        KbArticle.subject.ilike(pattern, escape="\\"),
        KbArticle.body_text.ilike(pattern, escape="\\"),
        KbArticle.keywords.ilike(pattern, escape="\\"),
    )


def _run_expr(cjk: bool, run: str) -> str:
    if cjk and len(run) == 1:
        return "search_chars : " + fts_phrase(run)
    phrase = "search_text : " + fts_phrase(" ".join(_tokens(cjk, run)))
    return phrase if cjk else phrase + " *"


@dataclass
class Plan:
    """How to search: an FTS5 MATCH expression (SQLite) and/or row filters."""

    match: str | None = None
    filters: list[ColumnElement[bool]] = field(default_factory=list)


def plan(session: Session, query: str) -> Plan | None:
    """The search plan for ``query``; None for an empty query."""
    ts = terms(query)
    if not ts:
        return None
    if session.get_bind().dialect.name != "sqlite":
        return Plan(None, [_like(t) for t in ts])
    exprs: list[str] = []
    filters: list[ColumnElement[bool]] = []
    for t in ts:
        rs = runs(t)
        exprs.extend(_run_expr(cjk, run) for cjk, run in rs)
        if not (len(rs) == 1 and rs[0][1] == unicodedata.normalize("NFKC", t).lower()):
            filters.append(_like(t))  # mixed or punctuated: confirm the exact substring
    return Plan(" AND ".join(exprs) or None, filters)


def snippet(body_text: str, query: str | None, width: int = SNIPPET_CHARS) -> str:
    """Plain text around the first matching term (case-insensitive), else the start."""
    flat = " ".join(body_text.split())
    pos = -1
    if query:
        low = flat.lower()
        hits = [low.find(t.lower()) for t in terms(query)]
        hits = [h for h in hits if h >= 0]
        pos = min(hits) if hits else -1
    start = max(0, pos - width // 3) if pos >= 0 else 0
    out = flat[start : start + width]
    return ("…" if start > 0 else "") + out + ("…" if start + width < len(flat) else "")
