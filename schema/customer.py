"""Root fields of the customer domain: ``customer``, ``customers``, ``household``."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry

from graph.repositories.access import count_matches, customer_id_window, search_candidates
from graph.store import Row
from resolvers.errors import BadUserInput, NotFound
from resolvers.pagination import check_first, decode_cursor, encode_cursor
from resolvers.search import (
    PAD_ROW,
    CustomerFilter,
    SearchPlan,
    customer_filter,
    order_rows,
    plan_search,
    visible_matches,
)
from resolvers.search import CustomerOrder as _CustomerOrder
from resolvers.search_scope import search_scope
from schema.enums import Segment
from schema.pagination import Connection, connection
from schema.types import Ctx, Customer, Household, load_customer, load_customers

CustomerConnection = Connection[Customer]
CustomerOrder = strawberry.enum(_CustomerOrder, name="CustomerOrder")


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
        settings = info.context.settings
        limit = check_first(first, settings.max_page_size)
        cursor = decode_cursor(after, 1)
        wanted = customer_filter(
            search,
            segment,
            high=settings.segment_high_assets,
            middle=settings.segment_middle_assets,
        )
        order = _CustomerOrder(order_by)
        privacy = info.context.privacy
        plan = SearchPlan(wanted, scan=False, window=True)
        scope = None
        if privacy is not None:
            privacy.audit_always = True  # matched or not, every search leaves one record
            floor, best = await privacy.reach()
            plan = plan_search(wanted, floor, best)
            if plan.scan and not floor.allow:
                # A scoped caller scans its scope, not the book (resolvers.search_scope).
                scope = await search_scope(privacy, info.context.store)
        wanted = plan.wanted
        if plan.window and order == _CustomerOrder.ID:
            page = await _window(info, wanted, limit, cursor[0] if cursor else None)
            if page is not None:
                return page
        candidates = await search_candidates(
            info.context.store,
            text=wanted.text,
            name=wanted.name,
            phone=wanted.phone,
            id_number=wanted.id_number,
            email=wanted.email,
            min_assets=wanted.min_assets,
            max_assets=wanted.max_assets,
            with_assets=order == _CustomerOrder.TOTAL_ASSETS or wanted.by_segment,
            cap=settings.search_candidate_cap,
            scan=plan.scan,
            scope=scope,
        )
        decisions = None
        if privacy is not None:
            asked = candidates or [PAD_ROW] * plan.pad
            decided = await privacy.decide_candidates(asked, fresh=plan.pad)
            decisions = {cid: d for cid, d in decided.items() if cid != PAD_ROW["id"]}
        rows = order_rows(visible_matches(candidates, decisions, wanted), decisions, order)
        start = 0
        if cursor is not None:
            ids = [r["id"] for r in rows]
            if order == _CustomerOrder.ID:
                start = next((i for i, cid in enumerate(ids) if cid > cursor[0]), len(ids))
            elif cursor[0] in ids:
                start = ids.index(cursor[0]) + 1
            else:
                raise BadUserInput("after is not a cursor of this listing", field="after")
        window = [r["id"] for r in rows[start : start + limit]]
        page = await load_customers(info, window)
        return connection(
            [(c, encode_cursor(c.customer_id)) for c in page],
            has_next=len(rows) > start + limit,
            total=len(rows),
        )

    @strawberry.field(description="a household and its members; unknown id: null + NOT_FOUND")
    async def household(self, info: Ctx, id: strawberry.ID) -> Household | None:
        row = await info.context.loaders.household.load(str(id))
        privacy = info.context.privacy
        members = [m["customerId"] for m in (row or {}).get("members") or []]
        # The name (e.g. "张家") is the head's surname: only for callers who see a member, and
        # masked as that member's name. One error for an unknown household and one without a
        # visible member (no existence oracle).
        visible = members
        if privacy is not None and (row is None or not (visible := await privacy.allowed(members))):
            raise await privacy.unseen(str(id), what="household")
        if row is None:
            raise NotFound("no household with this id", id=str(id))
        return Household(
            customer_id=visible[0] if visible else "",
            id=strawberry.ID(row["id"]),
            name=row.get("name"),
        )


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


async def _plain_window(info: Ctx, limit: int, after: str | None) -> CustomerConnection | None:
    """An unfiltered page: the ids from the index, then the rows through the customer loader,
    which load_customers decides (the next page's first row too, so hasNextPage is never a
    customer the caller may not see), with the accounts and the count alongside."""
    store = info.context.store
    ids = await customer_id_window(store, after, limit + 1)
    early = (
        [info.context.loaders.accounts.load_many(ids[:limit])]
        if _asks(info, _ACCOUNT_FIELDS)
        else []
    )
    total, customers, *_ = await asyncio.gather(
        count_matches(store, text=None, name=None, phone=None, min_assets=None, max_assets=None),
        load_customers(info, ids),
        *early,
    )
    if len(customers) != len(ids):
        return None  # the policy hid a row the plan expected to be visible
    return connection(
        [(c, encode_cursor(c.customer_id)) for c in customers[:limit]],
        has_next=len(ids) > limit,
        total=total,
    )


async def _window(
    info: Ctx, wanted: CustomerFilter, limit: int, after: str | None
) -> CustomerConnection | None:
    """One page in id order read as a window: the ``limit + 1`` matches after ``after``,
    decided and checked like any page, and the total counted in the graph. None (decide every
    candidate instead) should the policy hide a row the plan expected to be visible."""
    store = info.context.store
    if wanted.text is None and not wanted.by_segment:
        return await _plain_window(info, limit, after)
    if wanted.name is not None:
        # Sealed names match by tokens in the graph: only decrypted rows count them exactly.
        return None
    rows: list[Row] = await search_candidates(
        store,
        text=wanted.text,
        name=wanted.name,
        phone=wanted.phone,
        id_number=wanted.id_number,
        email=wanted.email,
        min_assets=wanted.min_assets,
        max_assets=wanted.max_assets,
        with_assets=wanted.by_segment,
        cap=limit + 1,
        after=after,
    )
    privacy = info.context.privacy
    decisions = None
    if privacy is not None and rows:
        decisions = await privacy.decide_candidates(rows)
    visible = visible_matches(rows, decisions, wanted)
    if len(visible) != len(rows):
        return None
    ids = [r["id"] for r in visible[:limit]]
    # Accounts (for segment, totalAssets, accounts) load with the page instead of after it:
    # the same loader and batch the fields would use, one round trip earlier.
    early = [info.context.loaders.accounts.load_many(ids)] if _asks(info, _ACCOUNT_FIELDS) else []
    # The count is one more round trip: it runs while the page loads.
    total, page, *_ = await asyncio.gather(
        count_matches(
            store,
            text=wanted.text,
            name=wanted.name,
            phone=wanted.phone,
            min_assets=wanted.min_assets,
            max_assets=wanted.max_assets,
            id_number=wanted.id_number,
            email=wanted.email,
        ),
        load_customers(info, ids),
        *early,
    )
    return connection(
        [(c, encode_cursor(c.customer_id)) for c in page],
        has_next=len(visible) > limit,
        total=total,
    )


__all__ = ["CustomerConnection", "CustomerQuery"]
