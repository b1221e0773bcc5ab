"""Opaque cursors and page-size checks shared by every connection."""

from __future__ import annotations

import base64
import binascii

import orjson

from resolvers.errors import BadUserInput

DEFAULT_PAGE_SIZE = 20


def check_first(first: int | None, max_page_size: int, field: str = "first") -> int:
    """The page size to use; a size above the cap is refused rather than silently cut."""
    if first is None:
        return min(DEFAULT_PAGE_SIZE, max_page_size)
    if first < 0:
        raise BadUserInput(f"{field} must be 0 or more", field=field)
    if first > max_page_size:
        raise BadUserInput(
            f"{field} must be at most {max_page_size}", field=field, max=max_page_size
        )
    return first


def encode_cursor(*parts: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(parts))).decode()


def decode_cursor(cursor: str | None, size: int, field: str = "after") -> tuple[str, ...] | None:
    """The parts of a cursor made by :func:`encode_cursor`; anything else is bad input."""
    if cursor is None:
        return None
    try:
        parts = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        parts = None
    if (
        not isinstance(parts, list)
        or len(parts) != size
        or not all(isinstance(p, str) for p in parts)
    ):
        raise BadUserInput("after is not a cursor from this API", field=field)
    return tuple(parts)


__all__ = ["DEFAULT_PAGE_SIZE", "check_first", "decode_cursor", "encode_cursor"]
