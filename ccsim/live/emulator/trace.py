"""The CSTA trace log: every frame in and out, timestamped, one JSON object per line.

Each line holds ``wall`` (UTC, ISO 8601 with microseconds), ``sim`` (simulated
seconds since the scenario epoch), ``peer`` (client address), ``dir`` (``in`` /
``out``), ``invoke_id`` and ``xml`` (the body as text). Frames the framing layer
could not cut out (garbage, a lost stream) appear as ``dir: "in"`` with an
``error`` and the raw bytes in hex, so a trace shows what a misbehaving client
sent. JSON lines, so a replay test or ``jq`` reads it without a CSTA parser.

:class:`TracingConnection` is a :class:`~ccsim.csta.CstaConnection` that copies
what it receives and sends to a :class:`Trace`; the sans-I/O connection itself
is not changed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from ccsim.csta import messages as m
from ccsim.csta.connection import CstaConnection, Role
from ccsim.csta.framing import Frame, FrameBuffer

__all__ = ["Trace", "TracingConnection", "read_trace"]


class Trace:
    """Appends trace lines to a file; ``sim_time`` gives the simulated clock."""

    def __init__(self, path: str | Path, sim_time: Callable[[], float]) -> None:
        self.path = Path(path)
        self._file: IO[str] = self.path.open("w", encoding="utf-8")
        self._sim_time = sim_time
        self.lines = 0

    def record(self, peer: str, direction: str, frame: Frame | None, **extra: Any) -> None:
        if self._file.closed:
            return
        entry: dict[str, Any] = {
            "wall": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
            "sim": round(self._sim_time(), 6),
            "peer": peer,
            "dir": direction,
        }
        if frame is not None:
            entry["invoke_id"] = frame.invoke_id
            entry["xml"] = frame.body.decode("utf-8", "replace")
        entry.update(extra)
        self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.lines += 1

    def flush(self) -> None:
        if not self._file.closed:
            self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


def read_trace(path: str | Path) -> list[dict[str, Any]]:
    """The entries of a trace file, in order."""
    with Path(path).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class TracingConnection(CstaConnection):
    """A server-side connection that copies every frame to a :class:`Trace`."""

    def __init__(self, trace: Trace, **options: Any) -> None:
        super().__init__(Role.SERVER, **options)
        self.trace = trace
        self.peer_name = "?"
        self._in = FrameBuffer(self.max_frame_size)
        self._out = FrameBuffer(65_535)

    def receive_data(self, data: bytes, now: float | None = None) -> None:
        if data and self._in.lost is None:
            self._in.feed(data)
            while (item := self._in.next()) is not None:
                if isinstance(item, Frame):
                    self.trace.record(self.peer_name, "in", item)
                else:
                    self.trace.record(self.peer_name, "in", None, error=item.kind)
            if self._in.lost is not None:
                self.trace.record(
                    self.peer_name, "in", None, error=self._in.lost, raw=data[:256].hex()
                )
        super().receive_data(data, now)

    def send(
        self, message: m.Message, invoke_id: int | None = None, now: float | None = None
    ) -> bytes:
        data = super().send(message, invoke_id, now)
        self._out.feed(data)
        while (item := self._out.next()) is not None:
            if isinstance(item, Frame):
                self.trace.record(self.peer_name, "out", item)
        return data
