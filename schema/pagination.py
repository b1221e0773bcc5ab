"""Relay-style connections (edges/node/cursor, pageInfo, totalCount) for any node type."""

from __future__ import annotations

from typing import Generic, TypeVar

import strawberry

from resolvers.pagination import Page

T = TypeVar("T")


@strawberry.type(description="Where a page ends, and whether another follows.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="more items follow this page")
    end_cursor: str | None = strawberry.field(
        description="the last edge's cursor: pass it as after for the next page; null: no edges"
    )


@strawberry.type(description="One item of a page, with the cursor that points at it.")
class Edge(Generic[T]):
    node: T = strawberry.field(description="the item")
    cursor: str = strawberry.field(description="opaque; pass as after to continue behind it")


@strawberry.type(
    description="A page of items (Relay style): pass first and pageInfo.endCursor as after "
    "to get the next page."
)
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="this page's items, in order")
    page_info: PageInfo = strawberry.field(description="where this page ends")
    total_count: int = strawberry.field(description="items in all pages, not just this one")


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
