"""Full-text search over work orders: Chinese terms of any length, hostile input."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import World

from ccsim.services.search import fts_phrase, terms


@pytest.fixture
def orders(world: World) -> dict[str, int]:
    texts = {
        "bill": ("话费异常", "客户反映本月话费比上月高出很多。"),
        "bill_tw": ("話費查詢", "客戶查詢話費明細。"),
        "broadband": ("宽带故障", "家里宽带故障，无法上网。"),
        "both": ("宽带故障投诉", "宽带故障三天未修复，要求退款。"),
        "refund": ("退款申请", "套餐退订后要求退款。"),
        "broadband_tw": ("寬帶故障", "寬帶故障，要求退款。"),
        "english": ("Roaming AND data", 'Customer says "NEAR(" appears on bill; 100% wrong_'),
    }
    return {k: world.new_order(title=t, description=d)["id"] for k, (t, d) in texts.items()}


def _search(world: World, q: str, who: str = "agent") -> Any:
    return world.as_(who, "GET", "/work-orders", params={"q": q})


def _ids(world: World, q: str) -> set[int]:
    r = _search(world, q)
    assert r.status_code == 200, r.text
    return {o["id"] for o in r.json()}


def test_short_and_long_chinese_terms(world: World, orders: dict[str, int]) -> None:
    assert _ids(world, "话费") == {orders["bill"]}  # 2 characters: the LIKE fallback
    assert _ids(world, "宽带故障") == {orders["broadband"], orders["both"]}  # 4: FTS5 trigram
    assert _ids(world, "話費") == {orders["bill_tw"]}
    assert _ids(world, "寬帶故障") == {orders["broadband_tw"]}
    assert _ids(world, "费") == {orders["bill"]}  # a single character


def test_terms_are_anded(world: World, orders: dict[str, int]) -> None:
    assert _ids(world, "宽带故障 退款") == {orders["both"]}
    assert _ids(world, "寬帶故障 退款") == {orders["broadband_tw"]}
    assert _ids(world, "宽带 退款") == {orders["both"]}  # two short terms
    assert _ids(world, "退款") == {orders["both"], orders["refund"], orders["broadband_tw"]}
    assert _ids(world, "宽带故障 不存在的词") == set()


def test_search_respects_scope(world: World, orders: dict[str, int]) -> None:
    assert _search(world, "宽带故障", "agent2").json() == []
    assert _search(world, "宽带故障", "hb").json() == []


def test_operators_are_plain_text(world: World, orders: dict[str, int]) -> None:
    assert _ids(world, "NEAR(") == {orders["english"]}
    assert _ids(world, "AND") == {orders["english"]}
    assert _ids(world, "100%") == {orders["english"]}
    assert _ids(world, "g_") == {orders["english"]}  # "_" is not a wildcard
    assert _ids(world, "0%") == {orders["english"]}


HOSTILE = [
    '"a',
    '"',
    "NEAR(",
    "*",
    "AND",
    "OR NOT",
    "a*",
    "^",
    "title:x",
    "x\x00y",
    "\x00",
    "'; DROP TABLE work_orders; --",
    "1' OR '1'='1",
    '") OR 1=1 --',
    "%",
    "_",
    "\\",
    "宽带\u200b故障",
    "  ",
    "",
]


def test_hostile_input_is_never_a_500(world: World, orders: dict[str, int]) -> None:
    for q in HOSTILE:
        r = _search(world, q)
        assert r.status_code == 200, (q, r.text)
        assert isinstance(r.json(), list)
    everything = world.as_("leader", "GET", "/work-orders").json()
    assert len(everything) == len(orders)  # nothing dropped


def test_overlong_query_is_a_422(world: World, orders: dict[str, int]) -> None:
    r = _search(world, "x" * 10_000)
    assert (r.status_code, r.json()["error"]) == (422, "invalid_search")
    r = _search(world, "宽" * 5_000)
    assert (r.status_code, r.json()["error"]) == (422, "invalid_search")
    r = _search(world, " ".join(f"t{i}" for i in range(20)))  # too many terms
    assert r.status_code == 422
    r = _search(world, "x" * 10_001)
    assert r.status_code == 422


def test_quoting() -> None:
    assert fts_phrase('say "hi"') == '"say ""hi"""'
    assert terms(" 宽带故障\t退款\x00 宽带故障 ") == ["宽带故障", "退款"]
