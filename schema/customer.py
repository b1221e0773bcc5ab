"""Root fields of the customer domain: ``customer``, ``customers``, ``household``."""

from __future__ import annotations

from typing import Any

import strawberry

from resolvers import customers as resolve
from resolvers.errors import NotFound
from resolvers.search import CustomerOrder as _CustomerOrder
from schema.enums import Segment
from schema.pagination import Connection, connection
from schema.types import Ctx, Customer, Household, load_customer

CustomerConnection = Connection[Customer]
CustomerOrder = _CustomerOrder
strawberry.enum(CustomerOrder, name="CustomerOrder")


@strawberry.type
class CustomerQuery:
    @strawberry.field(description="one customer's 360 view; unknown id: null + NOT_FOUND")
    async def customer(self, info: Ctx, id: strawberry.ID) -> Customer | None:
        customer = await load_customer(info, str(id))
        if customer is None:
            raise NotFound("no customer with this id", id=str(id))
        return customer

    @strawberry.field(
        description="search: name contains, exact id, or exact phone number, ID number or "
        "e-mail. Only customers you may see are listed and counted; a name, phone, ID number "
        "or e-mail search only matches customers whose value you see unmasked (searching by "
        "phone number, ID number or e-mail without it revealed, or by segment without amounts "
        "revealed or banded, is FORBIDDEN_FILTER); no customer access at all: FORBIDDEN"
    )
    async def customers(
        self,
        info: Ctx,
        search: str | None = None,
        segment: Segment | None = None,
        first: int | None = None,
        after: str | None = None,
        order_by: CustomerOrder = _CustomerOrder.ID,
    ) -> CustomerConnection:
        page = await resolve.search_customers(
            info.context,
            search,
            segment,
            first,
            after,
            _CustomerOrder(order_by),
            prefetch_accounts=_asks(info, _ACCOUNT_FIELDS),
        )
        return connection(page.map(Customer.from_row))

    @strawberry.field(description="a household and its members; unknown id: null + NOT_FOUND")
    async def household(self, info: Ctx, id: strawberry.ID) -> Household | None:
        row, member = await resolve.household(info.context, str(id))
        # The name is masked as the first visible member's name.
        return Household(customer_id=member, id=strawberry.ID(row["id"]), name=row.get("name"))


_ACCOUNT_FIELDS = frozenset({"segment", "totalAssets", "accounts"})


def _asks(info: Ctx, names: frozenset[str]) -> bool:
    """Whether any of ``names`` is selected anywhere under this field (fragments included)."""
    pending: list[Any] = list(info.selected_fields)
    while pending:
        selection = pending.pop()
        if getattr(selection, "name", None) in names:
            return True
        pending.extend(getattr(selection, "selections", None) or [])
    return False


__all__ = ["CustomerConnection", "CustomerQuery"]
