"""Uploaded files: safe names, an allow-list of types, and content sniffing.

A declared ``Content-Type`` is a claim by the client; the bytes decide. An
upload is accepted only when its declared type is on the allow-list *and* the
content's magic bytes agree with it, and text is refused when it looks like
markup a browser would render (so HTML sent as ``audio/mpeg`` or ``text/plain``
never comes back as a page). Files are always served as downloads with
``nosniff`` and a sandboxing CSP.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

__all__ = [
    "ALLOWED_TYPES",
    "UploadRefusedError",
    "check_filename",
    "check_upload",
    "download_headers",
    "sniff",
]

_OOXML = "application/vnd.openxmlformats-officedocument."
#: Declared type -> the sniffed family its bytes must have.
ALLOWED_TYPES: dict[str, str] = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/gif": "gif",
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/ogg": "ogg",
    "video/mp4": "mp4",
    "video/webm": "webm",
    "text/plain": "text",
    "text/csv": "text",
    _OOXML + "wordprocessingml.document": "zip",
    _OOXML + "spreadsheetml.sheet": "zip",
    _OOXML + "presentationml.presentation": "zip",
    "application/msword": "ole",
    "application/vnd.ms-excel": "ole",
    "application/vnd.ms-powerpoint": "ole",
}

#: Markup a browser would render or run, searched near the start of "text".
_MARKUP = re.compile(
    rb"<\s*(!doctype|html|head|body|script|iframe|svg|object|embed|img|a\s|meta|style|"
    rb"link|form|xml|\?xml)",
    re.IGNORECASE,
)


class UploadRefusedError(ValueError):
    """The file is refused; ``reason`` is the machine-readable API error."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail


def check_filename(name: str) -> str:
    """The NFC-normalised name, or :class:`UploadRefusedError` for anything path-like or hidden."""
    name = unicodedata.normalize("NFC", name)
    if not name or len(name) > 255:
        raise UploadRefusedError(422, "bad_filename", "a name of 1 to 255 characters is required")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise UploadRefusedError(422, "bad_filename", "control characters in the file name")
    if "/" in name or "\\" in name or name.startswith(".") or ":" in name:
        raise UploadRefusedError(422, "bad_filename", f"not a plain file name: {name!r}")
    return name


def sniff(data: bytes) -> str:
    """The content family from magic bytes: ``pdf``, ``png``, ... ``text``, or ``unknown``."""
    head = data[:16]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if head.startswith(b"RIFF") and data[8:12] == b"WAVE":
        return "wav"
    if data[4:8] == b"ftyp":
        return "mp4"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "unknown"
    if any(ord(c) < 32 and c not in "\n\r\t\f" for c in text):
        return "unknown"
    if _MARKUP.search(data[:4096].lstrip()):
        return "markup"
    return "text"


def check_upload(declared: str, data: bytes, max_bytes: int) -> str:
    """The content type to store, after the allow-list, size and sniffing checks."""
    ctype = declared.split(";", 1)[0].strip().lower()
    if ctype not in ALLOWED_TYPES:
        raise UploadRefusedError(415, "type_not_allowed", f"content type {ctype!r} is not accepted")
    if not data:
        raise UploadRefusedError(422, "empty_file", "the file is empty")
    if len(data) > max_bytes:
        raise UploadRefusedError(413, "file_too_large", f"files are limited to {max_bytes} bytes")
    family = sniff(data)
    if family != ALLOWED_TYPES[ctype]:
        raise UploadRefusedError(
            415, "content_mismatch", f"declared {ctype} but the content is {family}"
        )
    return ctype


def download_headers(filename: str) -> dict[str, str]:
    """Always a download, never rendered: RFC 6266 name, nosniff, and a sandbox CSP."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return {
        "Content-Disposition": (
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
        ),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
