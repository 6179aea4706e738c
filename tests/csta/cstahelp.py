"""Shared test helpers: an h11-style ConnectionPair and message strategies.

The strategies are derived from the codec's compiled field table, so every message
type, present and future, is covered by the round-trip properties without a
hand-written generator per class.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from ccsim.csta import NEED_DATA, ConnectionEvent, CstaConnection
from ccsim.csta import codec as codec_module
from ccsim.csta import messages as m

ALL_MESSAGE_TYPES: list[type[m.Message]] = sorted(
    set(codec_module.MESSAGE_TYPES.values()), key=lambda cls: cls.__name__
)


def drain(conn: CstaConnection) -> list[ConnectionEvent]:
    """Every event the connection has ready."""
    events: list[ConnectionEvent] = []
    while True:
        event = conn.next_event()
        if event is NEED_DATA:
            return events
        assert isinstance(event, ConnectionEvent)
        events.append(event)


class ConnectionPair:
    """A client and a server connection wired through an in-memory fake link."""

    def __init__(self, chunk: int | None = None, **options: Any) -> None:
        self.client = CstaConnection("client", **options)
        self.server = CstaConnection("server", **options)
        self.now = 0.0
        self.chunk = chunk  # deliver in pieces of this many bytes (split frames)
        self.wire: list[bytes] = []

    def other(self, conn: CstaConnection) -> CstaConnection:
        return self.server if conn is self.client else self.client

    def deliver(self, conn: CstaConnection, data: bytes) -> list[ConnectionEvent]:
        self.wire.append(data)
        if self.chunk is None:
            conn.receive_data(data, now=self.now)
        else:
            for start in range(0, len(data), self.chunk):
                conn.receive_data(data[start : start + self.chunk], now=self.now)
        return drain(conn)

    def send(
        self, sender: CstaConnection, message: m.Message, invoke_id: int | None = None
    ) -> list[ConnectionEvent]:
        """``sender`` sends; returns what the other side sees."""
        data = sender.send(message, invoke_id, now=self.now)
        return self.deliver(self.other(sender), data)

    def tick(self, now: float) -> tuple[list[ConnectionEvent], list[ConnectionEvent]]:
        self.now = now
        self.client.tick(now)
        self.server.tick(now)
        return drain(self.client), drain(self.server)


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------

_SAFE_CHARS = st.characters(
    codec="utf-8", exclude_categories=("Cs", "Cn", "Cc", "Zs", "Zl", "Zp", "Co")
)
#: Identifier text: anything XML can carry, without edge whitespace (IDs are stripped).
ids = st.text(_SAFE_CHARS, max_size=24).map(str.strip)
#: Free text (user data, private data): any XML character, whitespace kept.
raw_text = st.text(
    st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cn", "Cc", "Co")),
        st.sampled_from("\t\n\r 中文客户"),
    ),
    max_size=40,
)
xml_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,12}", fullmatch=True)
device_kinds = st.sampled_from(["notKnown", "notRequired", "restricted", "notSpecified"])

plain_devices = st.builds(m.DeviceID, ids, st.none() | ids)
wrapped_devices = plain_devices | st.builds(lambda kind: m.DeviceID(kind=kind), device_kinds)
connections = st.builds(m.ConnectionID, st.none() | ids, st.none() | plain_devices)
failures = st.builds(
    m.Failure,
    st.sampled_from([*m.ERROR_VALUES, "privateErrorCode"]),
    ids,
)
private_data = st.lists(st.tuples(xml_names, raw_text), max_size=3).map(tuple)


def _value(field: Any) -> st.SearchStrategy[Any]:
    kind = field.kind
    if kind == "id":
        return ids
    if kind == "text":
        return raw_text
    if kind == "int":
        return st.integers(-(10**12), 10**12)
    if kind == "bool":
        return st.booleans()
    if kind == "device":
        return wrapped_devices if field.wrapped else plain_devices
    if kind == "connection":
        return connections
    if kind == "failure":
        return failures
    if kind == "struct":
        return struct_of(field.sub.cls)
    if kind == "flags":
        return st.lists(xml_names, max_size=3).map(tuple)
    if kind == "private":
        return private_data
    if kind == "list":
        item = ids if field.sub is None else struct_of(field.sub.cls)
        return st.lists(item, max_size=3).map(tuple)
    raise AssertionError(f"no strategy for field kind {kind}")


def struct_of(cls: type[Any]) -> st.SearchStrategy[Any]:
    """Instances of a message or struct class with every field populated or not."""
    spec = codec_module._SPECS[cls]
    required = {f.attr: _value(f) for f in spec.fields if f.required}
    optional = {f.attr: _value(f) for f in spec.fields if not f.required}
    kwargs = st.fixed_dictionaries(required, optional=optional)

    def build(values: dict[str, Any]) -> Any:
        try:
            return cls(**values)
        except ValueError:
            return None  # a constraint the generic generator cannot know (a choice)

    return kwargs.map(build).filter(lambda value: value is not None)


messages = st.sampled_from(ALL_MESSAGE_TYPES).flatmap(struct_of)
