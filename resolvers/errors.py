"""Errors a client may see: each carries ``extensions.code`` (and the offending field)."""

from __future__ import annotations

from typing import Any

from shared.echo import echo

# Extensions that carry what the caller sent (the id it asked for): capped (shared/echo.py).
_ECHOED = ("id",)


class ApiError(Exception):
    """An error whose message is safe to show; graphql-core copies ``extensions`` over."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        for key in _ECHOED:
            if key in extensions:
                extensions[key] = echo(extensions[key])
        self.extensions: dict[str, Any] = {"code": self.code, **extensions}


class NotFound(ApiError):
    code = "NOT_FOUND"


class BadUserInput(ApiError):
    code = "BAD_USER_INPUT"

    def __init__(self, message: str, field: str, **extensions: Any) -> None:
        super().__init__(message, field=field, **extensions)


class SearchTooBroad(ApiError):
    """``SEARCH_TOO_BROAD``: a search that would read more candidates than
    ``C360_SEARCH_MAX_CANDIDATES``; the caller narrows it (nothing personal is said)."""

    code = "SEARCH_TOO_BROAD"


__all__ = ["ApiError", "BadUserInput", "NotFound", "SearchTooBroad"]
