"""Knowledge base: categories, articles, publishing, search, unread lists, board and exams.

See ``docs/kb.md``. Visibility is decided in :mod:`ccsim.services.kb.policy`.
"""

from __future__ import annotations

from fastapi import APIRouter

from ccsim.services.context import ServiceContext
from ccsim.services.kb import articles, board, exams, export
from ccsim.services.kb import models as models

__all__ = ["build_router"]


def build_router(ctx: ServiceContext) -> APIRouter:
    """The /kb endpoints, wired to the application's sessions, auth and audit."""
    router = APIRouter(prefix="/kb", tags=["kb"])
    export.register(router, ctx)
    articles.register(router, ctx)
    board.register(router, ctx)
    exams.register(router, ctx)
    return router
