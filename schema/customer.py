"""Root fields of the customer domain: ``customer``, ``customers``, ``household``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    IntValueNode,
    NullValueNode,
    StringValueNode,
    VariableNode,
)
from strawberry.types.nodes import get_variable_values

from resolvers import customers as resolve
from resolvers.errors import NotFound
from resolvers.prefetch360 import PageWanted, Wants360, prefetch_360
from resolvers.search import CustomerOrder as _CustomerOrder
from schema.enums import Segment, describe_values
from schema.pagination import Connection, connection
from schema.selection import asks, fields, selects
from schema.types import Ctx, Customer, Household, household_of, load_customer

CustomerConnection = Connection[Customer]
CustomerOrder = _CustomerOrder
strawberry.enum(
    CustomerOrder,
    name="CustomerOrder",
    description="How the customers search orders its results: ascending, customers without "
    "the value last, ties by id.",
)
describe_values(
    CustomerOrder,
    {
        "ID": "by id (the default)",
        "NAME": "by name; needs names revealed for every listed customer (else FORBIDDEN_FILTER)",
        "CREATED_AT": "by when they became customers",
        "TOTAL_ASSETS": "by totalAssets; needs amounts revealed for every listed customer "
        "(else FORBIDDEN_FILTER)",
    },
)


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
            prefetch_accounts=asks(info, _ACCOUNT_FIELDS),
        )
        return connection(page.map(Customer.from_row))

    @strawberry.field(description="a household and its members; unknown id: null + NOT_FOUND")
    async def household(self, info: Ctx, id: strawberry.ID) -> Household | None:
        row, member = await resolve.household(info.context, str(id))
        return await household_of(info, row, member)


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


@dataclass(frozen=True)
class _Shape:
    """What a ``customer`` selection reads, before its variables are known."""

    parts: frozenset[str]
    linked: frozenset[str]
    transactions: list[FieldNode]
    interactions: list[FieldNode]


# Shapes by the selection's field node (parsed documents are cached, so a client's query
# brings the same node back): (node, shape), bounded. Selections with fragment spreads are
# walked each time (their fragments come with each execution).
_SHAPES: dict[int, tuple[FieldNode, _Shape]] = {}
_SHAPES_MAX = 256


def wants_360(info: Ctx) -> Wants360:
    """What the ``customer`` field's selection reads (fragments included), for the prefetch.
    Walks the document's nodes: strawberry's ``selected_fields`` converts the whole subtree
    with its directives and arguments, which cost more than the round trips it saves."""
    raw = info._raw_info
    node = raw.field_nodes[0]
    known = _SHAPES.get(id(node))
    if known is not None and known[0] is node:
        shape = known[1]
    else:
        shape, cacheable = _shape(node, raw.fragments)
        if cacheable:
            if len(_SHAPES) >= _SHAPES_MAX:
                _SHAPES.clear()
            _SHAPES[id(node)] = (node, shape)
    variables = get_variable_values(raw) if shape.transactions or shape.interactions else {}
    return Wants360(
        parts=shape.parts,
        linked=shape.linked,
        transactions=_page(shape.transactions, variables, unless=("from", "to")),
        interactions=_page(shape.interactions, variables),
    )


def _shape(root: FieldNode, fragments: dict[str, FragmentDefinitionNode]) -> tuple[_Shape, bool]:
    """The selection's shape, and whether it holds no fragment spread (may be cached)."""
    parts: set[str] = set()
    linked: set[str] = set()
    pages: dict[str, list[FieldNode]] = {"transactions": [], "interactions": []}
    spreads = [False]
    for node in fields(root.selection_set, fragments, spreads):
        name = node.name.value
        parts |= _PARTS.get(name, frozenset())
        below = {f.name.value for f in fields(node.selection_set, fragments, spreads)}
        if name == "accounts" and "coOwners" in below:
            linked.add("coOwners")
        elif name == "household" and "members" in below:
            parts.add("members")
            linked.add("members")
        elif name == "relatedCustomers":
            linked.add("related")
        elif name in pages:
            pages[name].append(node)
            if name == "transactions" and selects(node, "description", fragments, spreads):
                # A booking text naming a co-owner is masked by their decision (QuotingField):
                # decided with the root, on rows the projection brings along; not read for a
                # page that shows no booking text (the bench's 360 query).
                linked.add("coOwners")
    shape = _Shape(
        frozenset(parts), frozenset(linked), pages["transactions"], pages["interactions"]
    )
    return shape, not spreads[0]


def _page(
    selected: list[FieldNode], variables: dict[str, Any], unless: tuple[str, ...] = ()
) -> PageWanted | None:
    """The arguments of the one selection of a page field; None for none, several (aliases),
    arguments the projection does not read (a time range) or values it does not expect."""
    if len(selected) != 1:
        return None
    args: dict[str, Any] = {}
    for argument in selected[0].arguments or ():
        value = argument.value
        if isinstance(value, VariableNode):
            args[argument.name.value] = variables.get(value.name.value)
        elif isinstance(value, IntValueNode):
            args[argument.name.value] = int(value.value)
        elif isinstance(value, StringValueNode):
            args[argument.name.value] = value.value
        elif not isinstance(value, NullValueNode):
            return None
    if any(args.get(name) is not None for name in unless):
        return None
    first, after, kind = args.get("first"), args.get("after"), args.get("kind")
    if not (
        (first is None or type(first) is int)
        and (after is None or isinstance(after, str))
        and (kind is None or isinstance(kind, str))
    ):
        return None
    return PageWanted(first=first, after=after, kind=kind)


_ACCOUNT_FIELDS = frozenset({"segment", "totalAssets", "accounts"})


__all__ = ["CustomerConnection", "CustomerQuery"]
