"""Pages of every listing: opaque cursors, page-size checks and the one ``Page`` shape the
schema turns into a Relay connection (schema/pagination.py)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import orjson

from graph.text import has_control
from resolvers.errors import BadUserInput

DEFAULT_PAGE_SIZE = 20

T = TypeVar("T")
U = TypeVar("U")


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
    """The parts of a cursor made by :func:`encode_cursor`; anything else is bad input. Our
    cursors never hold control characters (graph/text.py): a decoded one that does is not ours,
    and its parts go to the graph as query parameters, where a NUL breaks the query."""
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
        or has_control(parts)
    ):
        raise BadUserInput("after is not a cursor from this API", field=field)
    return tuple(parts)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing: (item, cursor) in page order, whether more follow, and how many
    match in all."""

    items: list[tuple[T, str]]
    has_next: bool
    total: int

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        return Page([(convert(item), c) for item, c in self.items], self.has_next, self.total)


def keyed_page(
    items: Sequence[T], key: Callable[[T], tuple[str, ...]], has_next: bool, total: int
) -> Page[T]:
    """A page whose cursors are its items' keys (the listing's sort key, unique)."""
    return Page([(item, encode_cursor(*key(item))) for item in items], has_next, total)


def fetched_page(
    rows: Sequence[T], limit: int, total: int, key: Callable[[T], tuple[str, ...]]
) -> Page[T]:
    """A page read as ``limit + 1`` rows after a cursor: the extra row says more follow."""
    return keyed_page(rows[:limit], key, len(rows) > limit, total)


def page_after(
    items: Sequence[T],
    key: Callable[[T], tuple[str, ...]],
    limit: int,
    after: str | None,
    parts: int = 1,
) -> Page[T]:
    """The ``limit`` items after the cursor ``after`` of a whole listing in ascending ``key``
    order (a cursor is the key of the last item seen: ``parts`` strings)."""
    cursor = decode_cursor(after, parts)
    start = 0 if cursor is None else next(
        (i for i, item in enumerate(items) if key(item) > cursor), len(items)
    )  # fmt: skip
    return fetched_page(items[start : start + limit + 1], limit, len(items), key)


__all__ = [
    "DEFAULT_PAGE_SIZE",
    "Page",
    "check_first",
    "decode_cursor",
    "encode_cursor",
    "fetched_page",
    "keyed_page",
    "page_after",
]
