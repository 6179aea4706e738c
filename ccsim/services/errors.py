"""One error type for every refusal, rendered as ``{"error": reason, "detail": text}``.

``reason`` is a stable machine-readable code clients branch on; ``detail`` is
for people and never echoes secrets or stack traces.
"""

from __future__ import annotations


class ApiError(Exception):
    """A refusal with an HTTP status and a machine-readable reason."""

    def __init__(self, status: int, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.status = status
        self.reason = reason
        self.detail = detail or reason.replace("_", " ")


def not_found(what: str = "work order") -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def forbidden(detail: str = "not allowed") -> ApiError:
    return ApiError(403, "forbidden", detail)
