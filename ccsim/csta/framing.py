"""ECMA-323 Annex G framing ("CSTA XML without SOAP") over a byte stream.

Every message travels as one frame::

    +------+------+----------------+------------------+
    | 0x00 | 0x00 | length (2, BE) | invoke ID (4 ASCII digits) | XML body ...
    +------+------+----------------+------------------+

``length`` counts the whole frame, header included, in **bytes** (UTF-8 text in the
body counts its encoded size). Responses repeat the invoke ID of their request;
unsolicited events use ``9999``. A frame cannot exceed 65,535 bytes, so large
results are split into segments at the message level (see ``connection``).

:class:`FrameBuffer` cuts frames out of whatever the transport delivers: partial
headers, frames split over many reads, many frames in one read. It distinguishes
errors that leave the stream aligned (a bad invoke ID, a frame over the configured
limit: skip it and carry on) from loss of framing (a bad format indicator or an
impossible length: nothing after that point can be trusted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "EVENT_INVOKE_ID",
    "HEADER_SIZE",
    "MAX_FRAME_SIZE",
    "Frame",
    "FrameBuffer",
    "FrameError",
    "pack",
]

HEADER_SIZE: Final = 8
MAX_FRAME_SIZE: Final = 65_535
#: Invoke ID of unsolicited event reports.
EVENT_INVOKE_ID: Final = 9999
_FORMAT: Final = b"\x00\x00"


def pack(invoke_id: int, body: bytes) -> bytes:
    """One frame around ``body``; raises ValueError when it cannot be framed."""
    if not 0 <= invoke_id <= 9999:
        raise ValueError(f"invoke ID must be 0..9999, got {invoke_id}")
    size = HEADER_SIZE + len(body)
    if size > MAX_FRAME_SIZE:
        raise ValueError(f"frame of {size} bytes exceeds {MAX_FRAME_SIZE}; segment it")
    return b"".join((_FORMAT, size.to_bytes(2, "big"), b"%04d" % invoke_id, body))


@dataclass(frozen=True, slots=True)
class Frame:
    """A complete frame: its invoke ID and XML body."""

    invoke_id: int
    body: bytes


@dataclass(frozen=True, slots=True)
class FrameError:
    """A frame that was skipped; the stream is still aligned after it.

    ``kind`` is ``oversize`` or ``bad_invoke_id``; ``invoke_id`` is known for
    ``oversize`` frames (so the sender can be told) and None otherwise.
    """

    kind: str
    detail: str
    invoke_id: int | None = None


class FrameBuffer:
    """Accumulates received bytes and yields frames, frame errors, or None (need more).

    Memory is bounded by the transport's read size plus one frame: complete frames
    are cut out as soon as they are asked for, and an oversize frame is discarded
    as it streams in rather than buffered.
    """

    __slots__ = ("_buffer", "_discard", "lost", "max_frame_size")

    def __init__(self, max_frame_size: int = MAX_FRAME_SIZE) -> None:
        if not HEADER_SIZE < max_frame_size <= MAX_FRAME_SIZE:
            raise ValueError(f"max_frame_size must be in {HEADER_SIZE + 1}..{MAX_FRAME_SIZE}")
        self.max_frame_size = max_frame_size
        self._buffer = bytearray()
        self._discard = 0
        #: Why framing was lost, once it has been; the buffer then yields nothing.
        self.lost: str | None = None

    def __len__(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> None:
        if self.lost is not None:
            return
        if self._discard:
            skipped = min(self._discard, len(data))
            self._discard -= skipped
            data = data[skipped:]
        self._buffer += data

    def next(self) -> Frame | FrameError | None:
        """The next complete frame, a skipped frame's error, or None."""
        buffer = self._buffer
        if self.lost is not None or self._discard or len(buffer) < HEADER_SIZE:
            return None
        if buffer[:2] != _FORMAT:
            self._lose(f"bad format indicator 0x{bytes(buffer[:2]).hex()}")
            return None
        size = int.from_bytes(buffer[2:4], "big")
        if size < HEADER_SIZE:
            self._lose(f"impossible frame length {size}")
            return None
        digits = bytes(buffer[4:8])
        invoke_id = int(digits) if digits.isdigit() else None
        if size > self.max_frame_size:
            # Skip the body without holding it; the stream stays aligned.
            available = min(size, len(buffer))
            del buffer[:available]
            self._discard = size - available
            return FrameError(
                "oversize", f"frame of {size} bytes exceeds {self.max_frame_size}", invoke_id
            )
        if len(buffer) < size:
            return None
        body = bytes(buffer[HEADER_SIZE:size])
        del buffer[:size]  # amortised O(size): CPython trims bytearray heads in place
        if invoke_id is None:
            return FrameError("bad_invoke_id", f"invoke ID {digits!r} is not 4 digits")
        return Frame(invoke_id, body)

    def _lose(self, reason: str) -> None:
        self.lost = reason
        self._buffer.clear()
