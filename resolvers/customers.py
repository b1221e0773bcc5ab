"""The customer domain's root fields: customers by id (through the request's privacy and
loaders), the customer search listing and households. The schema (schema/customer.py) turns
the rows into types; the work happens here."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime
from functools import partial
from typing import Any, get_args

import orjson

from graph.repositories.access import Scope, count_matches, search_candidates, walk_key
from graph.repositories.customer_page import customer_page
from graph.store import GraphStore, Row
from privacy.types import Decision
from resolvers.analytics import Segment, iso_before, iso_bound
from resolvers.context import RequestContext
from resolvers.errors import BadUserInput
from resolvers.loaders import InteractionPageKey, TransactionPageKey
from resolvers.pagination import (
    Page,
    check_first,
    cursor_seal,
    decode_cursor,
    fetched_page,
    keyed_page,
    page_after,
)
from resolvers.search import (
    PAD_ROW,
    CustomerFilter,
    CustomerOrder,
    SearchPlan,
    bounded_batches,
    customer_filter,
    order_key,
    order_rows,
    plan_search,
    visible_matches,
)
from resolvers.search_scope import search_scope
from shared.records import CARE_KIND, InteractionKind

# The kinds ``interactions(kind:)`` accepts: those an import lets in (shared/records.py), and
# CARE, which the hub writes itself (completeTask logs one per care task done).
INTERACTION_KINDS: tuple[str, ...] = (*get_args(InteractionKind), CARE_KIND)


def by_id(row: Row) -> tuple[str]:
    """The cursor key of a listing in id order (the walk's own, graph.repositories.access)."""
    return (walk_key(row["id"]),)


def by_created(row: Row) -> tuple[str, str, str]:
    """The cursor key of the listing in ``createdAt`` order (search.order_rows: customers
    without one last, ties in id order). createdAt is no personal kind, never masked, so the
    cursor may carry it in clear; orders by a personal field (NAME, TOTAL_ASSETS) seal theirs
    (by_value)."""
    created = row.get("createdAt")
    missing = created is None
    return ("1" if missing else "0", "" if missing else str(created), walk_key(row["id"]))


# The orders whose sort key is personal: their cursors are sealed (pagination.CursorSeal).
_SEALED_ORDERS = (CustomerOrder.NAME, CustomerOrder.TOTAL_ASSETS)


def by_value(order: CustomerOrder, row: Row) -> tuple[str, str, str]:
    """The cursor key of the listing in a personal ``order`` (search.order_key, ties in id
    order): whether the value is missing, the value as text, the id. Sealed, never in clear."""
    missing, value = order_key(row, order)
    return ("1" if missing else "0", "" if missing else str(value), walk_key(row["id"]))


def _value_position(order: CustomerOrder, parts: tuple[str, ...]) -> tuple[bool, Any, str]:
    """A sealed cursor's parts (by_value) as a key comparable with :func:`_row_position`."""
    missing, text, cid = parts
    if missing not in ("0", "1"):
        raise BadUserInput("after is not a cursor from this API", field="after")
    if missing == "1":
        return (True, 0, cid)
    if order == CustomerOrder.NAME:
        return (False, text, cid)
    try:  # an amount: an int stays exact, a float comes back from its repr exactly
        return (False, int(text), cid)
    except ValueError:
        pass
    try:
        return (False, float(text), cid)
    except ValueError:
        raise BadUserInput("after is not a cursor from this API", field="after") from None


def _row_position(order: CustomerOrder, row: Row) -> tuple[bool, Any, str]:
    missing, value = order_key(row, order)
    return (missing, value, walk_key(row["id"]))


def cursor_bound(
    ctx: RequestContext, order: CustomerOrder, search: str | None, segment: Segment | None
) -> str:
    """What a sealed cursor of the customer listing is made for: the order, the filter and the
    caller (its token's subject, roles, branch and purpose), so another caller's cursor does
    not open (it would tell that caller where a customer it may never have seen sorts), nor
    one carried to another role or purpose (which may see other customers or fields), another
    filter (a position in another listing) or another order."""
    p = ctx.principal
    caller = [p.subject, sorted(p.roles), p.branch, p.purpose] if p is not None else None
    listing = [search, segment.value if segment is not None else None]
    return orjson.dumps(["customers", order.value, caller, listing]).decode()


async def customer_rows(ctx: RequestContext, ids: list[str]) -> list[Row]:
    """Customers by id through the request's loader, in order, skipping ids not found and
    customers the policy denies this caller (nested lists just leave them out)."""
    allowed = await ctx.privacy.allowed(ids)
    rows = await ctx.loaders.customer.load_many(allowed)
    return [r for r in rows if r is not None]


async def customer_row(ctx: RequestContext, customer_id: str) -> Row | None:
    """One customer; None when there is none; Forbidden (no values) when the policy denies."""
    await ctx.privacy.require(customer_id)
    return await ctx.loaders.customer.load(customer_id)


async def customers_page(
    ctx: RequestContext, ids: list[str], first: int | None, after: str | None
) -> Page[Row]:
    """A page of a listing of customer ids in id order (campaign members). Decided before it
    is paged, like the ``customers`` listing: a page is filled with customers the caller may
    see, hasNextPage and totalCount count only those, and the cursor always advances; only the
    page's customers are noted for the audit (customer_rows)."""
    limit = check_first(first, ctx.settings.max_page_size)
    decisions = await ctx.privacy.customers.load_many(ids)
    visible = [cid for cid, d in zip(ids, decisions, strict=True) if d is not None and d.allow]
    page = page_after(visible, lambda cid: (cid,), limit, after)
    rows = {r["id"]: r for r in await customer_rows(ctx, [cid for cid, _ in page.items])}
    return Page([(rows[cid], c) for cid, c in page.items if cid in rows], page.has_next, page.total)


async def search_customers(
    ctx: RequestContext,
    search: str | None,
    segment: Segment | None,
    first: int | None,
    after: str | None,
    order: CustomerOrder,
    prefetch_accounts: bool,
) -> Page[Row]:
    """The ``customers`` listing: see resolvers/search.py for how a search may run.
    ``prefetch_accounts``: the selection needs the accounts (segment, totalAssets, accounts),
    loaded with the page instead of after it."""
    settings = ctx.settings
    limit = check_first(first, settings.max_page_size)
    # Only a personal order's cursors are sealed: the key is not read for the others.
    seal = cursor_seal(settings.resolved_data_dir) if order in _SEALED_ORDERS else None
    bound = cursor_bound(ctx, order, search, segment) if seal is not None else ""
    if seal is not None:
        cursor = seal.open(after, 3, bound, settings.cursor_ttl_s)
    else:
        cursor = decode_cursor(after, 3 if order == CustomerOrder.CREATED_AT else 1)
    privacy = ctx.privacy
    privacy.audit_always = True  # matched or not, every search leaves one record
    floor, best = await privacy.reach()
    plan: SearchPlan = plan_search(
        customer_filter(
            search,
            segment,
            high=settings.segment_high_assets,
            middle=settings.segment_middle_assets,
        ),
        floor,
        best,
    )
    # A scoped caller scans its scope, not the book (resolvers.search_scope).
    scope = await search_scope(privacy, ctx.store) if plan.scan and not floor.allow else None
    wanted = plan.wanted
    if plan.window and order == CustomerOrder.ID:
        window = await _window(ctx, wanted, limit, cursor[0] if cursor else None, prefetch_accounts)
        if window is not None:
            return window
    matches, decisions = await _visible_candidates(
        ctx,
        plan,
        with_assets=order == CustomerOrder.TOTAL_ASSETS or wanted.by_segment,
        batch=settings.search_candidate_cap,
        ceiling=settings.search_max_candidates,
        scope=scope,
    )
    rows = order_rows(matches, decisions, order)
    start = 0
    if cursor is not None:
        ids = [r["id"] for r in rows]
        if order == CustomerOrder.ID:
            start = next((i for i, cid in enumerate(ids) if cid > cursor[0]), len(ids))
        elif order == CustomerOrder.CREATED_AT:
            # A keyset: the page after the cursor's position, even when its customer has
            # changed or left the listing since (a screen paging on after a write).
            if cursor[0] not in ("0", "1"):
                raise BadUserInput("after is not a cursor from this API", field="after")
            start = next((i for i, r in enumerate(rows) if by_created(r) > cursor), len(rows))
        else:
            # A keyset too, sealed: the next page follows the cursor's (value, id) even when
            # its customer has changed or left the listing. Every listed row's value is
            # revealed to this caller (order_rows refuses the order otherwise) and the
            # cursor's was, when it was given to this same caller, so where the position falls
            # tells nothing the order itself does not.
            position = _value_position(order, cursor)
            start = next(
                (i for i, r in enumerate(rows) if _row_position(order, r) > position), len(rows)
            )
    listed = rows[start : start + limit]
    page = await customer_rows(ctx, [r["id"] for r in listed])
    has_next, total = len(rows) > start + limit, len(rows)
    if seal is not None:
        # The keys come from the listing's rows: the loader's rows have no assets.
        keys = {r["id"]: by_value(order, r) for r in listed}
        encode = partial(seal.seal, bound)
        return keyed_page(page, lambda r: keys[r["id"]], has_next, total, encode)
    key = by_created if order == CustomerOrder.CREATED_AT else by_id
    return keyed_page(page, key, has_next, total)


async def _visible_candidates(
    ctx: RequestContext,
    plan: SearchPlan,
    *,
    with_assets: bool,
    batch: int,
    ceiling: int,
    scope: Scope | None,
) -> tuple[list[Row], dict[str, Decision]]:
    """Every candidate of the search the caller may list (search.visible_matches), in id
    order, with their decisions: read and decided in batches of ``batch`` (the search
    candidate cap), all of them, so a filter or a count is exact at any book size (the first
    ``batch`` ids alone made ``customers(segment:)`` count a fifth of a 50 000-customer book).
    More than ``ceiling`` candidates in all (C360_SEARCH_MAX_CANDIDATES): SearchTooBroad once
    ``ceiling + 1`` are read (search.bounded_batches), never a count cut short.
    An id lookup that finds nothing decides PAD_ROW instead (search.plan_search)."""
    wanted, privacy = plan.wanted, ctx.privacy
    matches: list[Row] = []
    decisions: dict[str, Decision] = {}
    first = True
    batches = bounded_batches(
        partial(_candidates, ctx.store, wanted, with_assets=with_assets, scan=plan.scan,
                scope=scope),
        batch=batch,
        ceiling=ceiling,
        what="the search",
        advice="narrow it: give search (a name, an id, a phone number, ID number or e-mail)",
    )  # fmt: skip
    async for candidates in batches:
        asked = candidates or ([PAD_ROW] * plan.pad if first else [])
        first = False
        if asked:
            decided = await privacy.decide_candidates(asked, fresh=plan.pad)
            found = visible_matches(candidates, decided, wanted)
            matches.extend(found)
            decisions.update((r["id"], decided[r["id"]]) for r in found)
    return matches, decisions


async def _candidates(
    store: GraphStore,
    wanted: CustomerFilter,
    after: str | None,
    cap: int,
    *,
    with_assets: bool,
    scan: bool = False,
    scope: Scope | None = None,
) -> list[Row]:
    return await search_candidates(
        store,
        text=wanted.text,
        name=wanted.name,
        phone=wanted.phone,
        id_number=wanted.id_number,
        email=wanted.email,
        min_assets=wanted.min_assets,
        max_assets=wanted.max_assets,
        with_assets=with_assets,
        cap=cap,
        scan=scan,
        after=after,
        scope=scope,
    )


async def _plain_window(
    ctx: RequestContext, limit: int, after: str | None, prefetch_accounts: bool
) -> Page[Row] | None:
    """An unfiltered page read as a window (graph.repositories.customer_page): the window's
    rows with their policy attributes (and accounts) prime the request's loaders, and
    customer_rows decides them in one batch (the next page's first row too, so hasNextPage is
    never a customer the caller may not see); the count runs alongside."""
    store, loaders = ctx.store, ctx.loaders
    total, page = await asyncio.gather(
        count_matches(store, text=None, name=None, phone=None, min_assets=None, max_assets=None),
        customer_page(store, after, limit + 1, with_accounts=prefetch_accounts),
    )
    ids = [row["id"] for row in page.rows]
    for row in page.rows:
        loaders.customer.prime(row["id"], row)
    if page.accounts is not None:
        for cid in ids[:limit]:
            if cid in page.accounts:
                loaders.accounts.prime(cid, page.accounts[cid])
    rows = await customer_rows(ctx, ids)
    if len(rows) != len(ids):
        return None  # the policy hid a row the plan expected to be visible
    return fetched_page(rows, limit, total, by_id)


async def _window(
    ctx: RequestContext,
    wanted: CustomerFilter,
    limit: int,
    after: str | None,
    prefetch_accounts: bool,
) -> Page[Row] | None:
    """One page in id order read as a window: the ``limit + 1`` matches after ``after``,
    decided and checked like any page, and the total counted in the graph. None (decide every
    candidate instead) should the policy hide a row the plan expected to be visible."""
    store = ctx.store
    if wanted.text is None and not wanted.by_segment:
        return await _plain_window(ctx, limit, after, prefetch_accounts)
    if wanted.name is not None:
        # Sealed names match by tokens in the graph: only decrypted rows count them exactly.
        return None
    rows = await _candidates(
        store, wanted, with_assets=wanted.by_segment, cap=limit + 1, after=after
    )
    decisions = await ctx.privacy.decide_candidates(rows) if rows else {}
    visible = visible_matches(rows, decisions, wanted)
    if len(visible) != len(rows):
        return None
    ids = [r["id"] for r in visible[:limit]]
    # Accounts (for segment, totalAssets, accounts) load with the page instead of after it:
    # the same loader and batch the fields would use, one round trip earlier.
    early: list[Awaitable[Any]] = [ctx.loaders.accounts.load_many(ids)] if prefetch_accounts else []
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
        customer_rows(ctx, ids),
        *early,
    )
    return keyed_page(page, by_id, len(visible) > limit, total)


async def household(ctx: RequestContext, household_id: str) -> tuple[Row, str]:
    """A household and the first of its members the caller may see. One error for an unknown
    household and one without a visible member (no existence oracle)."""
    row = await ctx.loaders.household.load(household_id)
    members = [m["customerId"] for m in (row or {}).get("members") or []]
    privacy = ctx.privacy
    if row is None or not (visible := await privacy.allowed(members)):
        raise await privacy.unseen(household_id, what="household")
    return row, visible[0]


def household_head(row: Row) -> str | None:
    """The member a household is named after: its HEAD, else its first member."""
    members = row.get("members") or []
    heads = [m["customerId"] for m in members if m.get("role") == "HEAD"]
    return heads[0] if heads else (members[0]["customerId"] if members else None)


async def household_name_governor(ctx: RequestContext, household_id: str) -> str | None:
    """The customer whose decision governs a household's name (the head's surname + 家), or
    None when the caller may not see the head: then the name is not shown at all, though the
    household is (through a member the caller sees), or the surname of a customer the caller
    may not see would leak through it."""
    row = await ctx.loaders.household.load(household_id)
    head = household_head(row or {})
    if head is None:
        return None
    # The head's decision, without counting a hidden head as a denial of the request.
    (decision,) = await ctx.privacy.customers.load_many([head])
    return head if decision is not None and decision.allow else None


def by_time(row: Row) -> tuple[str, str]:
    """The cursor key of a newest-first listing of transactions or interactions."""
    return (str(row["time"]), str(row["id"]))


def _time_window(
    ctx: RequestContext, first: int | None, after: str | None
) -> tuple[int, tuple[str, str] | None]:
    limit = check_first(first, ctx.settings.max_page_size)
    cursor = decode_cursor(after, 2)
    return limit, (cursor[0], cursor[1]) if cursor else None


def transaction_key(
    ctx: RequestContext,
    customer_id: str,
    first: int | None,
    after: str | None,
    since: datetime | None,
    until: datetime | None,
) -> tuple[int, TransactionPageKey]:
    """(page size, loader key) of a transactions page; BadUserInput for bad arguments (a
    window [from, to) that is empty or reversed too, as ``mentions`` says)."""
    limit, cursor = _time_window(ctx, first, after)
    # As instants (one side may lack an offset: read as iso_bound reads it), fractions kept.
    if since is not None and until is not None and until.astimezone(UTC) <= since.astimezone(UTC):
        raise BadUserInput("to must be after from", field="to")
    return limit, TransactionPageKey(
        customer_id=customer_id,
        limit=limit + 1,
        after=cursor,
        time_from=iso_bound(since) if since else None,
        # The repository takes ``to`` inclusive (``<=``): the last whole second before it.
        time_to=iso_before(until) if until else None,
    )


def interaction_key(
    ctx: RequestContext, customer_id: str, first: int | None, after: str | None, kind: str | None
) -> tuple[int, InteractionPageKey]:
    """(page size, loader key) of an interactions page; BadUserInput for bad arguments (a
    kind no interaction can have too: it would list nothing, silently). The kind is read
    case-insensitively, as logInteraction and the import read it."""
    limit, cursor = _time_window(ctx, first, after)
    if kind is not None:
        kind = kind.strip().upper()
        if kind not in INTERACTION_KINDS:
            raise BadUserInput(
                f"kind must be one of {', '.join(INTERACTION_KINDS)} (or left out for all)",
                field="kind",
            )
    return limit, InteractionPageKey(
        customer_id=customer_id, limit=limit + 1, after=cursor, kind=kind
    )


async def transactions_page(
    ctx: RequestContext,
    customer_id: str,
    first: int | None,
    after: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Page[Row]:
    """Across the customer's accounts, newest first, in [since, until)."""
    limit, key = transaction_key(ctx, customer_id, first, after, since, until)
    page = await ctx.loaders.transactions.load(key)
    return fetched_page(page.items, limit, page.total, by_time)


async def interactions_page(
    ctx: RequestContext, customer_id: str, first: int | None, after: str | None, kind: str | None
) -> Page[Row]:
    """The customer's interactions, newest first, of ``kind`` if given."""
    limit, key = interaction_key(ctx, customer_id, first, after, kind)
    page = await ctx.loaders.interactions.load(key)
    return fetched_page(page.items, limit, page.total, by_time)


__all__ = [
    "INTERACTION_KINDS",
    "by_created",
    "by_time",
    "by_value",
    "cursor_bound",
    "customer_row",
    "customer_rows",
    "customers_page",
    "household",
    "interaction_key",
    "interactions_page",
    "search_customers",
    "transaction_key",
    "transactions_page",
]
