"""Root fields of the customer domain: ``customer``, ``customers``, ``household``."""

from __future__ import annotations

import strawberry

from graph.repositories.customer360 import search_customer_ids
from resolvers.errors import NotFound
from resolvers.pagination import check_first, decode_cursor, encode_cursor
from resolvers.search import customer_filter
from schema.enums import Segment
from schema.pagination import Connection, connection
from schema.types import Ctx, Customer, Household, load_customers

CustomerConnection = Connection[Customer]


@strawberry.type
class CustomerQuery:
    @strawberry.field(description="one customer's 360 view; unknown id: null + NOT_FOUND")
    async def customer(self, info: Ctx, id: strawberry.ID) -> Customer | None:
        row = await info.context.loaders.customer.load(str(id))
        if row is None:
            raise NotFound("no customer with this id", id=str(id))
        return Customer.from_row(row)

    @strawberry.field(
        description="search: name contains, exact id, or exact phone number; ordered by id"
    )
    async def customers(
        self,
        info: Ctx,
        search: str | None = None,
        segment: Segment | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> CustomerConnection:
        settings = info.context.settings
        limit = check_first(first, settings.max_page_size)
        cursor = decode_cursor(after, 1)
        wanted = customer_filter(
            search,
            segment,
            high=settings.segment_high_assets,
            middle=settings.segment_middle_assets,
        )
        total, ids = await search_customer_ids(
            info.context.store,
            text=wanted.text,
            phone=wanted.phone,
            min_assets=wanted.min_assets,
            max_assets=wanted.max_assets,
            after=cursor[0] if cursor else None,
            limit=limit + 1,
        )
        page = await load_customers(info, ids[:limit])
        return connection(
            [(c, encode_cursor(c.customer_id)) for c in page],
            has_next=len(ids) > limit,
            total=total,
        )

    @strawberry.field(description="a household and its members; unknown id: null + NOT_FOUND")
    async def household(self, info: Ctx, id: strawberry.ID) -> Household | None:
        row = await info.context.loaders.household.load(str(id))
        if row is None:
            raise NotFound("no household with this id", id=str(id))
        return Household(id=strawberry.ID(row["id"]), name=row.get("name"))


__all__ = ["CustomerConnection", "CustomerQuery"]
