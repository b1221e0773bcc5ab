"""Root fields of the customer domain: ``customer``, ``customers``, ``household``."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types.nodes import SelectedField

from resolvers import customers as resolve
from resolvers.errors import NotFound
from resolvers.prefetch360 import PageWanted, Wants360, prefetch_360
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
        await prefetch_360(info.context, str(id), wants_360(info))
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


# Customer fields -> the loader-backed parts of the 360 view they read (resolvers.prefetch360).
_PARTS: dict[str, frozenset[str]] = {
    "accounts": frozenset({"accounts"}),
    "totalAssets": frozenset({"accounts"}),
    "segment": frozenset({"accounts"}),
    "lifecycleStage": frozenset({"accounts", "activity"}),
    "churnRisk": frozenset({"accounts", "activity"}),
    "household": frozenset({"household"}),
    "advisor": frozenset({"advisor"}),
    "relatedCustomers": frozenset({"related"}),
    "transactions": frozenset({"transactions"}),
    "interactions": frozenset({"interactions"}),
}


def wants_360(info: Ctx) -> Wants360:
    """What the ``customer`` field's selection reads (fragments included), for the prefetch."""
    parts: set[str] = set()
    linked: set[str] = set()
    pages: dict[str, list[dict[str, Any]]] = {"transactions": [], "interactions": []}
    for selection in _fields(info.selected_fields[0].selections):
        name = selection.name
        parts |= _PARTS.get(name, frozenset())
        below = {f.name for f in _fields(selection.selections)}
        if name == "accounts" and "coOwners" in below:
            linked.add("coOwners")
        elif name == "household" and "members" in below:
            parts.add("members")
            linked.add("members")
        elif name == "relatedCustomers":
            linked.add("related")
        elif name in pages:
            pages[name].append(selection.arguments)
    return Wants360(
        parts=frozenset(parts),
        linked=frozenset(linked),
        transactions=_page(pages["transactions"], unless=("from", "to")),
        interactions=_page(pages["interactions"]),
    )


def _page(selected: list[dict[str, Any]], unless: tuple[str, ...] = ()) -> PageWanted | None:
    """The arguments of the one selection of a page field; None for none, several (aliases)
    or arguments the projection does not read (a time range)."""
    if len(selected) != 1 or any(selected[0].get(name) is not None for name in unless):
        return None
    args = selected[0]
    first, after, kind = args.get("first"), args.get("after"), args.get("kind")
    if isinstance(first, str):  # a literal comes as its source text
        try:
            first = int(first)
        except ValueError:
            return None
    if not (
        (first is None or isinstance(first, int))
        and (after is None or isinstance(after, str))
        and (kind is None or isinstance(kind, str))
    ):
        return None
    return PageWanted(first=first, after=after, kind=kind)


def _fields(selections: list[Any]) -> list[Any]:
    """The fields of a selection set, fragments and inline fragments flattened."""
    out: list[Any] = []
    pending = list(reversed(selections))
    while pending:
        selection = pending.pop()
        if isinstance(selection, SelectedField):
            out.append(selection)
        else:
            pending.extend(reversed(selection.selections or []))
    return out


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
