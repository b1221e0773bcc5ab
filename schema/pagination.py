"""Relay-style connections (edges/node/cursor, pageInfo, totalCount) for any node type."""

from __future__ import annotations

from typing import Generic, TypeVar

import strawberry

from resolvers.pagination import Page

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


def connection(page: Page[T]) -> Connection[T]:
    """The GraphQL shape of a resolver's page (resolvers/pagination.py)."""
    edges = [Edge(node=node, cursor=cursor) for node, cursor in page.items]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None
        ),
        total_count=page.total,
    )


__all__ = ["Connection", "Edge", "PageInfo", "connection"]
