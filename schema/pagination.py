"""Relay-style connections (edges/node/cursor, pageInfo, totalCount) for any node type."""

from __future__ import annotations

from typing import Generic, TypeVar

import strawberry

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    node: T
    cursor: str


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int


def connection(nodes: list[tuple[T, str]], has_next: bool, total: int) -> Connection[T]:
    """nodes: (node, cursor) in page order."""
    edges = [Edge(node=node, cursor=cursor) for node, cursor in nodes]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None),
        total_count=total,
    )


__all__ = ["Connection", "Edge", "PageInfo", "connection"]
