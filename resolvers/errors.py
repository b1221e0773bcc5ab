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


__all__ = ["ApiError", "BadUserInput", "NotFound"]
