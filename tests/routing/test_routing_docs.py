"""The examples in docs/routing-policies.md run."""

from __future__ import annotations

import doctest
from pathlib import Path

from ccsim.routing import BUILTIN_POLICIES

DOC = Path(__file__).resolve().parents[2] / "docs" / "routing-policies.md"


def test_routing_policies_doc_examples_run():
    result = doctest.testfile(
        str(DOC),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        raise_on_error=False,
    )
    assert result.attempted > 0
    assert result.failed == 0


def test_doc_mentions_every_builtin_policy():
    text = DOC.read_text(encoding="utf-8")
    missing = [
        n for n, cls in BUILTIN_POLICIES.items() if f"`{n}`" not in text or cls.__name__ not in text
    ]
    assert missing == []
