"""Shared helpers of the knowledge-base tests: an organisation with KB roles."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import World


@pytest.fixture
def kb(world: World) -> World:
    """``world`` plus editor (kb_editor), exporter (agent + kb_exporter), agents in A and B."""
    world.add_user("editor", ["kb_editor"])
    world.add_user("exporter", ["agent", "kb_exporter"])
    world.add_user("agent_a", ["agent"], ("A",))
    world.add_user("agent_b", ["agent"], ("B",))
    return world


def article(w: World, publish: bool = True, who: str = "editor", **fields: Any) -> dict[str, Any]:
    """Create (and by default publish) an article; returns its final JSON."""
    body = {
        "subject": "国际漫游资费",
        "body": "<p>国际漫游资费说明：日本每天 25 元。</p>",
        "keywords": ["漫游", "资费"],
    } | fields
    r = w.as_(who, "POST", "/kb/articles", json=body)
    assert r.status_code == 201, r.text
    a = dict(r.json())
    if publish:
        r = w.as_(who, "POST", f"/kb/articles/{a['id']}/publish", json={"version": a["version"]})
        assert r.status_code == 200, r.text
        a = dict(r.json())
    return a


def ids(w: World, who: str, **params: Any) -> set[int]:
    r = w.as_(who, "GET", "/kb/articles", params=params)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == len(page["items"]) or page["total"] > len(page["items"])
    return {a["id"] for a in page["items"]}


def total(w: World, who: str, **params: Any) -> int:
    r = w.as_(who, "GET", "/kb/articles", params=params)
    assert r.status_code == 200, r.text
    return int(r.json()["total"])
