"""Hostile and broken input: never an unhandled exception, never a hang, bounded memory."""

from __future__ import annotations

import tracemalloc

import pytest
from cstahelp import drain, messages
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccsim.csta import (
    NEED_DATA,
    ConnectionClosed,
    ConnectionEvent,
    CstaConnection,
    DecodeError,
    ProtocolError,
    RequestReceived,
    decode,
    encode,
    pack,
)
from ccsim.csta import messages as m

# Messages whose acceptance depends on association state (sessions, route dialogues).
STATEFUL = (
    m.StartApplicationSession,
    m.StartApplicationSessionPosResponse,
    m.StartApplicationSessionNegResponse,
    m.ResetApplicationSessionTimer,
    m.ResetApplicationSessionTimerPosResponse,
    m.ResetApplicationSessionTimerNegResponse,
    m.StopApplicationSession,
    m.StopApplicationSessionPosResponse,
    m.StopApplicationSessionNegResponse,
    m.RouteSelect,
    m.RouteReject,
    m.ReRoute,
)
stateless_messages = messages.filter(
    lambda msg: not isinstance(msg, STATEFUL) and getattr(msg, "segment_id", None) is None
)

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def pump(conn: CstaConnection, data: bytes) -> list[ConnectionEvent]:
    """Feed and drain (``b""`` is end of stream); the loop must end: frames are >= 8 bytes."""
    conn.receive_data(data)
    events: list[ConnectionEvent] = []
    for _ in range(len(data) // 8 + 3):
        event = conn.next_event()
        if event is NEED_DATA:
            return events
        assert isinstance(event, ConnectionEvent)
        events.append(event)
    raise AssertionError("next_event did not settle")


@FUZZ
@given(role=st.sampled_from(["client", "server"]), chunks=st.lists(st.binary(max_size=400)))
def test_random_bytes_never_raise(role: str, chunks: list[bytes]) -> None:
    conn = CstaConnection(role)  # type: ignore[arg-type]
    for chunk in chunks:
        pump(conn, chunk)
    pump(conn, b"")
    assert conn.closed


@FUZZ
@given(body=st.binary(max_size=600), invoke_id=st.integers(0, 9999))
def test_random_bodies_in_valid_frames_are_protocol_errors(body: bytes, invoke_id: int) -> None:
    conn = CstaConnection("server")
    events = pump(conn, pack(invoke_id, body))
    assert len(events) == 1 and not conn.closed
    (event,) = events
    if isinstance(event, ProtocolError) and invoke_id != 9999:
        assert event.response is not None  # answered: the invoke ID was known


@FUZZ
@given(body=st.binary(max_size=600))
def test_decoder_raises_only_decode_errors(body: bytes) -> None:
    try:
        decode(body)
    except DecodeError as exc:
        assert exc.kind in {"malformed_xml", "hostile_xml", "unknown_message", "invalid_message"}


@FUZZ
@given(
    message=messages,
    edits=st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 20), st.binary(max_size=6)), max_size=4
    ),
)
def test_mutated_messages_decode_or_fail_cleanly(
    message: m.Message, edits: list[tuple[int, int, bytes]]
) -> None:
    body = bytearray(encode(message))
    for position, deleted, inserted in edits:
        at = position % (len(body) + 1)
        body[at : at + deleted] = inserted
    try:
        result = decode(bytes(body))
    except DecodeError:
        return
    assert isinstance(result, m.Message)


@FUZZ
@given(
    batch=st.lists(stateless_messages, min_size=1, max_size=6),
    cut=st.integers(0, 100_000),
)
def test_truncated_and_concatenated_frames(batch: list[m.Message], cut: int) -> None:
    stream = b"".join(pack(i + 1, encode(msg)) for i, msg in enumerate(batch))
    cut %= len(stream) + 1
    conn = CstaConnection("server")
    events = [e for part in (stream[:cut], stream[cut:]) if part for e in pump(conn, part)]
    got = [getattr(e, "message", None) for e in events]
    assert got == batch
    assert not any(isinstance(e, ProtocolError) for e in events)


@FUZZ
@given(
    batch=st.lists(messages, min_size=2, max_size=5),
    which=st.integers(0, 4),
    length=st.integers(0, 65_535),
)
def test_wrong_length_fields(batch: list[m.Message], which: int, length: int) -> None:
    frames = [bytearray(pack(i + 1, encode(msg))) for i, msg in enumerate(batch)]
    frames[which % len(frames)][2:4] = length.to_bytes(2, "big")
    conn = CstaConnection("server")
    events = pump(conn, b"".join(frames)) + pump(conn, b"")
    assert isinstance(events[-1], ConnectionClosed)
    for event in events:
        assert isinstance(event, (RequestReceived, ProtocolError, ConnectionClosed)) or hasattr(
            event, "message"
        )


# ---------------------------------------------------------------------------
# Hostile XML: entity expansion and external entities never happen
# ---------------------------------------------------------------------------

LAUGHS = "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
HOSTILE = {
    "billion-laughs": (
        f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">{LAUGHS}]>'
        "<SystemStatus><systemStatus>&lol9;</systemStatus></SystemStatus>"
    ).encode(),
    "quadratic-blowup": (
        f'<!DOCTYPE q [<!ENTITY a "{"x" * 20_000}">]><SystemStatus><systemStatus>'
        + "&a;" * 2_000
        + "</systemStatus></SystemStatus>"
    ).encode(),
    "external-entity-file": (
        b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<SystemStatus><systemStatus>&xxe;</systemStatus></SystemStatus>"
    ),
    "external-entity-http": (
        b'<!DOCTYPE s [<!ENTITY xxe SYSTEM "http://127.0.0.1:1/x">]>'
        b"<SystemStatus><systemStatus>&xxe;</systemStatus></SystemStatus>"
    ),
    "parameter-entity": (
        b'<!DOCTYPE s [<!ENTITY % p SYSTEM "http://127.0.0.1:1/evil.dtd"> %p;]><SystemStatus/>'
    ),
    "external-dtd": b'<!DOCTYPE SystemStatus SYSTEM "http://127.0.0.1:1/x.dtd"><SystemStatus/>',
    "doctype-in-utf16": '<!DOCTYPE a [<!ENTITY x "y">]><SystemStatus/>'.encode("utf-16"),
    "doctype-in-utf7": (
        b'<?xml version="1.0" encoding="utf-7"?>+ADw-!DOCTYPE a +AFs-+ADw-!ENTITY x'
        b" +ACI-y+ACI-+AD4-+AF0-+AD4-<SystemStatus/>"
    ),
    "doctype-after-bom-and-space": b'\xef\xbb\xbf \n<!DOCTYPE a [<!ENTITY x "y">]><a/>',
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_xml_is_refused_cheaply(body: bytes) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(DecodeError) as info:
            decode(body)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.kind == "hostile_xml"
    assert peak < 2_000_000  # no expansion: a few copies of a tiny input


def test_entity_references_without_a_dtd_are_malformed() -> None:
    with pytest.raises(DecodeError) as info:
        decode(b"<SystemStatus><systemStatus>&lol9;</systemStatus></SystemStatus>")
    assert info.value.kind == "malformed_xml"


def test_xinclude_is_inert_data() -> None:
    body = (
        b'<SystemStatus xmlns:xi="http://www.w3.org/2001/XInclude"><extensions><privateData>'
        b'<private><xi:include href="file:///etc/passwd" parse="text"/></private>'
        b"</privateData></extensions></SystemStatus>"
    )
    assert decode(body) == m.SystemStatus(private_data=(("include", ""),))


def test_hostile_frame_on_a_connection_is_answered_and_survived() -> None:
    conn = CstaConnection("server")
    events = pump(conn, pack(8, HOSTILE["billion-laughs"]) + pack(9, encode(m.SystemStatus())))
    assert [type(e) for e in events] == [ProtocolError, RequestReceived]
    error = events[0]
    assert isinstance(error, ProtocolError) and error.kind == "hostile_xml"
    assert error.response == m.CSTAErrorCode.of("operation", "securityViolation")


def test_memory_stays_bounded_under_a_flood() -> None:
    conn = CstaConnection("server", max_frame_size=1000)
    oversize = pack(1, b"<x>" + b"A" * 60_000 + b"</x>")
    tracemalloc.start()
    try:
        for _ in range(40):  # 2.4 MB of frames the connection refuses to hold
            for start in range(0, len(oversize), 16_384):
                conn.receive_data(oversize[start : start + 16_384])
                drain(conn)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not conn.closed
    assert peak < 1_000_000
