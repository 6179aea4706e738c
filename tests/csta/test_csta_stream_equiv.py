"""The reused-parser fast path decodes exactly like a fresh parser, on any input.

``codec._parse`` feeds bodies into a long-lived expat stream and falls back to
a fresh parser whenever the stream cannot prove the result identical. This
differential test decodes each body twice — through the fast path, and with
``_parse`` replaced by the plain reference (screen, then one fresh parser) —
and requires the same message or the same error, for valid messages of every
edition, wrapped and mutated bodies, and random bytes.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cstahelp import messages
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccsim.csta import codec
from ccsim.csta import messages as m


def outcome(body: bytes) -> tuple[object, ...]:
    try:
        return ("ok", codec.decode(body))
    except codec.DecodeError as exc:
        return ("err", exc.kind, exc.element)


def reference(body: bytes) -> tuple[object, ...]:
    fast = codec._parse
    codec._parse = lambda b: codec._parse_fresh(codec._parser_input(b))  # type: ignore[assignment]
    try:
        return outcome(body)
    finally:
        codec._parse = fast  # type: ignore[assignment]


def same(body: bytes) -> None:
    want = reference(body)
    assert outcome(body) == want, body
    assert outcome(body) == want, body  # and again, with the stream already used


WRAPS = [
    b"",
    b" ",
    b"\n",
    b"<!-- c -->",
    b"<?pi x?>",
    b"x",
    b"&#32;",
    b"<![CDATA[ ]]>",
    b"<a/>",
    b"<end/>",
    b"</stream>",
    b"<",
    b"]]>",
    b"\xef\xbb\xbf",
    b"<end",
]
DECLS = [
    b"",
    b'<?xml version="1.0" encoding="UTF-8"?>',
    b"<?xml version='1.0'?>",
    b'<?xml version="1.0" encoding="latin-1"?>',
    b'<?xml version="1.1"?>',
]
S = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(autouse=True)
def _fresh_streams() -> Iterator[None]:
    codec._STREAMS.clear()
    yield
    codec._STREAMS.clear()


@S
@given(message=messages, edition=st.sampled_from([2, 3, 4, 5, 6]))
def test_valid_messages(message: m.Message, edition: int) -> None:
    same(codec.encode(message, edition))
    same(codec.Codec(edition, declaration=False).encode(message))


@S
@given(
    message=messages,
    decl=st.sampled_from(DECLS),
    pre=st.lists(st.sampled_from(WRAPS), max_size=2),
    post=st.lists(st.sampled_from(WRAPS), max_size=2),
)
def test_wrapped_bodies(
    message: m.Message, decl: bytes, pre: list[bytes], post: list[bytes]
) -> None:
    body = codec.Codec(declaration=False).encode(message)
    same(decl + b"".join(pre) + body + b"".join(post))


@S
@given(
    message=messages,
    edits=st.lists(
        st.tuples(st.integers(0, 5000), st.integers(0, 12), st.binary(max_size=6)), max_size=3
    ),
)
def test_mutated_bodies(message: m.Message, edits: list[tuple[int, int, bytes]]) -> None:
    body = bytearray(codec.encode(message))
    for position, deleted, inserted in edits:
        at = position % (len(body) + 1)
        body[at : at + deleted] = inserted
    same(bytes(body))


@S
@given(body=st.binary(max_size=200))
def test_random_bytes(body: bytes) -> None:
    same(body)
    same(b"<SystemStatus>" + body)
