"""Size limits on what a partner sends: one request, and one stored document.

A valid plan may be large (the format reads files up to 64 MiB), but every
partner's later reads of the workspace and its history pay for what one
partner stores, so the server accepts much less. Both limits are set by the
server's operator through the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

REQUEST_VARIABLE = "JOINTPLAN_MAX_REQUEST_BYTES"
DOCUMENT_VARIABLE = "JOINTPLAN_MAX_DOCUMENT_BYTES"
DEFAULT_REQUEST_BYTES = 4 * 1024 * 1024
DEFAULT_DOCUMENT_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    request_bytes: int = DEFAULT_REQUEST_BYTES
    """The body of one request (every route: the API's import, the pages' uploads)."""
    document_bytes: int = DEFAULT_DOCUMENT_BYTES
    """One plan or observations file a partner imports, or a plan version it stores."""

    @classmethod
    def from_environment(cls) -> Limits:
        return cls(_bytes(REQUEST_VARIABLE, DEFAULT_REQUEST_BYTES),
                   _bytes(DOCUMENT_VARIABLE, DEFAULT_DOCUMENT_BYTES))

    def request_message(self, size: int | None) -> str:
        told = f"is {size:,} bytes" if size is not None else "is larger than that"
        return (f"the request {told}; the server accepts at most {self.request_bytes:,} "
                f"bytes in one request ({REQUEST_VARIABLE})")

    def document_message(self, size: int) -> str:
        return (f"the file is {size:,} bytes; the server stores documents of at most "
                f"{self.document_bytes:,} bytes ({DOCUMENT_VARIABLE}). Split it into "
                "several plans")


def _bytes(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name} must be a whole number of bytes >= 1; got {value!r}")
    return int(value)
