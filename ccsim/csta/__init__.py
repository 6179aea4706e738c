"""Sans-I/O CSTA: ECMA-323 XML messages, Annex G framing, and association state.

Like ``h11``, nothing here performs I/O or reads a clock (no socket, asyncio, time
or simpy import): :class:`CstaConnection` turns received bytes into events and
messages into bytes, and takes the current time as an argument. ``ccsim.live.link``
drives it over asyncio TCP; tests drive two of them back to back in memory.

Modules: :mod:`~ccsim.csta.framing` (the 8-byte header), :mod:`~ccsim.csta.messages`
(the value objects), :mod:`~ccsim.csta.codec` (XML), :mod:`~ccsim.csta.connection`
(the state machine). The guide is ``docs/csta.md``.
"""

from ccsim.csta import messages
from ccsim.csta.codec import (
    DEFAULT_EDITION,
    MESSAGE_TYPES,
    NAMESPACES,
    Codec,
    DecodeError,
    EncodeError,
    decode,
    edition_of,
    encode,
)
from ccsim.csta.connection import (
    NEED_DATA,
    SESSION_TRANSITIONS,
    ConnectionClosed,
    ConnectionEvent,
    CstaConnection,
    EventReceived,
    HeartbeatDue,
    LocalProtocolError,
    NeedData,
    ProtocolError,
    RequestReceived,
    RequestTimedOut,
    ResponseReceived,
    Role,
    SessionExpired,
    SessionState,
)
from ccsim.csta.framing import (
    EVENT_INVOKE_ID,
    HEADER_SIZE,
    MAX_FRAME_SIZE,
    Frame,
    FrameBuffer,
    FrameError,
    pack,
)
from ccsim.csta.messages import (
    ConnectionID,
    CSTAErrorCode,
    DeviceID,
    Event,
    Failure,
    Message,
    Request,
    Response,
)

__all__ = [
    "DEFAULT_EDITION",
    "EVENT_INVOKE_ID",
    "HEADER_SIZE",
    "MAX_FRAME_SIZE",
    "MESSAGE_TYPES",
    "NAMESPACES",
    "NEED_DATA",
    "SESSION_TRANSITIONS",
    "CSTAErrorCode",
    "Codec",
    "ConnectionClosed",
    "ConnectionEvent",
    "ConnectionID",
    "CstaConnection",
    "DecodeError",
    "DeviceID",
    "EncodeError",
    "Event",
    "EventReceived",
    "Failure",
    "Frame",
    "FrameBuffer",
    "FrameError",
    "HeartbeatDue",
    "LocalProtocolError",
    "Message",
    "NeedData",
    "ProtocolError",
    "Request",
    "RequestReceived",
    "RequestTimedOut",
    "Response",
    "ResponseReceived",
    "Role",
    "SessionExpired",
    "SessionState",
    "decode",
    "edition_of",
    "encode",
    "messages",
    "pack",
]
