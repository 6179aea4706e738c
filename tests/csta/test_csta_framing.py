"""ECMA-323 Annex G framing: header layout, stream reassembly, errors that keep or lose sync."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccsim.csta import (
    EVENT_INVOKE_ID,
    HEADER_SIZE,
    MAX_FRAME_SIZE,
    Frame,
    FrameBuffer,
    FrameError,
    pack,
)


def frames_of(buffer: FrameBuffer) -> list[Frame | FrameError]:
    out: list[Frame | FrameError] = []
    while (item := buffer.next()) is not None:
        out.append(item)
    return out


def test_header_layout() -> None:
    frame = pack(42, b"<a/>")
    assert frame == b"\x00\x00\x00\x0c0042<a/>"  # 12 = 8 header + 4 body bytes
    assert pack(EVENT_INVOKE_ID, b"")[4:8] == b"9999"
    body = "<a>中</a>".encode()
    assert int.from_bytes(pack(1, body)[2:4], "big") == HEADER_SIZE + len(body) == 18


def test_pack_refuses_what_cannot_be_framed() -> None:
    with pytest.raises(ValueError):
        pack(10_000, b"")
    with pytest.raises(ValueError):
        pack(-1, b"")
    with pytest.raises(ValueError):
        pack(1, b"x" * (MAX_FRAME_SIZE - HEADER_SIZE + 1))
    assert len(pack(1, b"x" * (MAX_FRAME_SIZE - HEADER_SIZE))) == MAX_FRAME_SIZE


def test_many_frames_in_one_read_and_one_frame_over_many_reads() -> None:
    stream = b"".join(pack(i, f"<m{i}/>".encode()) for i in range(50))
    together = FrameBuffer()
    together.feed(stream)
    assert frames_of(together) == [Frame(i, f"<m{i}/>".encode()) for i in range(50)]
    bytewise = FrameBuffer()
    seen: list[Frame | FrameError] = []
    for byte in stream:
        bytewise.feed(bytes([byte]))
        seen.extend(frames_of(bytewise))
    assert seen == [Frame(i, f"<m{i}/>".encode()) for i in range(50)]
    assert len(bytewise) == 0


@settings(max_examples=100, deadline=None)
@given(
    bodies=st.lists(st.binary(max_size=300), min_size=1, max_size=8),
    cuts=st.lists(st.integers(0, 3000), max_size=12),
)
def test_any_split_of_the_stream_yields_the_same_frames(
    bodies: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(pack(i, body) for i, body in enumerate(bodies))
    points = sorted({0, len(stream), *(c % (len(stream) + 1) for c in cuts)})
    buffer = FrameBuffer()
    seen: list[Frame | FrameError] = []
    for start, end in itertools.pairwise(points):
        buffer.feed(stream[start:end])
        seen.extend(frames_of(buffer))
    assert seen == [Frame(i, body) for i, body in enumerate(bodies)]


def test_oversize_frame_is_skipped_without_buffering_it() -> None:
    buffer = FrameBuffer(max_frame_size=1000)
    big = pack(7, b"x" * 60_000)
    buffer.feed(big[:500])
    assert buffer.next() == FrameError("oversize", "frame of 60008 bytes exceeds 1000", 7)
    for start in range(500, len(big), 4096):
        buffer.feed(big[start : start + 4096])
        assert len(buffer) == 0 and buffer.next() is None  # discarded as it streams
    buffer.feed(pack(8, b"<ok/>"))
    assert frames_of(buffer) == [Frame(8, b"<ok/>")]


def test_bad_invoke_id_keeps_the_stream_aligned() -> None:
    buffer = FrameBuffer()
    buffer.feed(b"\x00\x00\x00\x0cAB12<a/>" + pack(3, b"<b/>"))
    first, second = frames_of(buffer)
    assert isinstance(first, FrameError) and first.kind == "bad_invoke_id"
    assert second == Frame(3, b"<b/>")


@pytest.mark.parametrize(
    "garbage",
    [b"<?xml version='1.0'?>", b"\x01\x00\x00\x0c0001<a/>", b"\x00\x00\x00\x050001"],
    ids=["xml-without-header", "bad-format", "impossible-length"],
)
def test_lost_framing_is_final(garbage: bytes) -> None:
    buffer = FrameBuffer()
    buffer.feed(garbage)
    assert buffer.next() is None
    assert buffer.lost is not None
    buffer.feed(pack(1, b"<a/>"))
    assert buffer.next() is None and len(buffer) == 0


def test_limit_must_be_frameable() -> None:
    with pytest.raises(ValueError):
        FrameBuffer(max_frame_size=MAX_FRAME_SIZE + 1)
    with pytest.raises(ValueError):
        FrameBuffer(max_frame_size=HEADER_SIZE)
