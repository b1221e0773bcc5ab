"""The 360 view's reads in four concurrent round trips instead of ten, most one after another.

The ``customer`` root field asks what its selection needs (:class:`Wants360`). When that is
enough of the view to pay off, one query (graph/repositories/projection360.py) reads the light
parts and the linked customers the selection lists (co-owners, household members, related) and
primes the request's loaders with them; the heavy parts (activity, the transaction and
interaction pages) are loaded through their loaders at the same time, under the keys the field
resolvers will ask with. The root and linked customers are decided together, one policy
evaluation a request.
The resolvers run unchanged and find their loads answered: decisions, masking and the audit
work exactly as without the projection, which only changes how the rows arrive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from graph.repositories.projection360 import View360, customer_view
from resolvers.context import RequestContext
from resolvers.customers import interaction_key, transaction_key
from resolvers.errors import ApiError
from resolvers.loaders import Loaders

# Loader-backed parts a selection may need; the prefetch pays off from this many on (the
# projection reads all the light parts, so a selection of one or two is cheaper through the
# loaders).
PARTS = frozenset(
    {"accounts", "household", "members", "advisor", "related", "activity", "transactions",
     "interactions"}
)  # fmt: skip
MIN_PARTS = 3
K = TypeVar("K")


@dataclass(frozen=True)
class PageWanted:
    """The arguments of the one page field selected (as the GraphQL arguments give them)."""

    first: int | None = None
    after: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class Wants360:
    """What a ``customer`` selection reads: ``parts`` (of :data:`PARTS`), whether it lists
    linked customers, and the page arguments when exactly one such page field is selected."""

    parts: frozenset[str] = frozenset()
    linked: frozenset[str] = field(default_factory=frozenset)  # coOwners, members, related
    transactions: PageWanted | None = None
    interactions: PageWanted | None = None


async def prefetch_360(ctx: RequestContext, customer_id: str, wants: Wants360) -> None:
    """Prime the request's loaders and decisions for ``customer_id``'s 360 view (no-op when
    the selection needs too little of it, or there is no such customer)."""
    if len(wants.parts & PARTS) < MIN_PARTS:
        return
    loaders = ctx.loaders
    # Named before the reads: a request cut off during them still records the attempt.
    ctx.privacy.asking(customer_id)
    # The heavy parts go out now, in this tick, beside the projection (one batch per loader,
    # under the keys the fields will ask with); the fields find them in the loaders' caches.
    heavy: list[Awaitable[Any]] = []
    if "activity" in wants.parts:
        heavy.append(loaders.activity.load(customer_id))
    tx_key = _key(lambda: transaction_key(ctx, customer_id, *_tx(wants), None, None)[1])
    if tx_key is not None:
        heavy.append(loaders.transactions.load(tx_key))
    ix_key = _key(lambda: interaction_key(ctx, customer_id, *_ix(wants))[1])
    if ix_key is not None:
        heavy.append(loaders.interactions.load(ix_key))
    try:
        view = await customer_view(ctx.store, customer_id, linked=wants.linked)
        if view is not None:
            prime(loaders, customer_id, view)
            # One decision batch for the root and every linked customer (rows came along).
            await ctx.privacy.customers.load_many([customer_id, *view.linked])
    finally:
        # Awaited here so a failure is retrieved; the fields that read a part raise it again.
        await asyncio.gather(*heavy, return_exceptions=True)


def prime(loaders: Loaders, customer_id: str, view: View360) -> None:
    """Each part under the key its loader is asked with (already cached keys win)."""
    loaders.customer.prime(customer_id, view.customer)
    loaders.customer.prime_many(view.linked)
    loaders.accounts.prime(customer_id, view.accounts)
    loaders.household_of.prime(customer_id, view.household_of)
    if view.household is not None:
        loaders.household.prime(str(view.household["id"]), view.household)
    loaders.advisor.prime(customer_id, view.advisor)
    loaders.related.prime(customer_id, view.related)


def _tx(wants: Wants360) -> tuple[int | None, str | None]:
    page = wants.transactions
    if page is None:
        raise _NotWanted
    return page.first, page.after


def _ix(wants: Wants360) -> tuple[int | None, str | None, str | None]:
    page = wants.interactions
    if page is None:
        raise _NotWanted
    return page.first, page.after, page.kind


class _NotWanted(Exception):
    """The page is not selected, or not in a shape the projection reads."""


def _key(make: Callable[[], K]) -> K | None:
    """The loader key, or None when the page is not prefetched; bad arguments are left for
    the field's own resolver to report, where the client expects the error."""
    try:
        return make()
    except (_NotWanted, ApiError):
        return None


__all__ = ["MIN_PARTS", "PARTS", "PageWanted", "Wants360", "prefetch_360", "prime"]
