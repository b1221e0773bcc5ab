"""The deadline of the HTTP request being served (``C360_REQUEST_TIMEOUT_S``).

hub/middleware/timeout.py sets it around the request; code below the hub that sees the request
cancelled asks :func:`deadline_passed` whether the deadline cut it off (the audit record of a
cut-off request says why, schema/extensions/audit.py) or something else did (the server
shutting down). A context variable: the middleware and the request's code run in one task.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar

request_deadline: ContextVar[asyncio.Timeout | None] = ContextVar(
    "c360_request_deadline", default=None
)


def deadline_passed() -> bool:
    """True once the current request's deadline has passed (and it is being cut off)."""
    deadline = request_deadline.get()
    return deadline is not None and deadline.expired()


__all__ = ["deadline_passed", "request_deadline"]
