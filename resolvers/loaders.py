"""Per-request DataLoaders: every customer-keyed read is batched into one round trip per
loader and tick, whatever the list sizes. All customer loading goes through here, so a
per-(request, customer) policy decision is batched in one place (resolvers.privacy)."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from graph.repositories import customer360 as repo
from graph.repositories.access import customers_with_access
from graph.repositories.customer360 import Page
from graph.store import GraphStore, Row
from resolvers.analytics import COMPLAINT_WINDOW_DAYS, FLOW_WINDOW_DAYS, iso
from resolvers.paced_loader import PacedDataLoader

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class TransactionPageKey:
    customer_id: str
    limit: int
    after: tuple[str, str] | None = None
    time_from: str | None = None
    time_to: str | None = None


@dataclass(frozen=True)
class InteractionPageKey:
    customer_id: str
    limit: int
    after: tuple[str, str] | None = None
    kind: str | None = None


def _by_id(
    fetch: Callable[[list[str]], Awaitable[Mapping[str, V]]], missing: Callable[[], V]
) -> DataLoader[str, V]:
    async def load(ids: list[str]) -> list[V]:
        found = await fetch(list(dict.fromkeys(ids)))
        return [found.get(i, missing()) for i in ids]

    return PacedDataLoader(load_fn=load)


def _grouped(
    fetch: Callable[[list[str], Any], Awaitable[dict[str, Page]]],
) -> DataLoader[Any, Page]:
    """Keys that share their page arguments go to the graph together, one query per group."""

    async def load(keys: list[Any]) -> list[Page]:
        groups: dict[Any, list[str]] = defaultdict(list)
        for key in keys:
            groups[_args(key)].append(key.customer_id)
        pages: dict[Any, Page] = {}
        for args, ids in groups.items():
            found = await fetch(list(dict.fromkeys(ids)), args)
            for cid in ids:
                pages[(cid, args)] = found.get(cid, Page(0, []))
        return [pages[(k.customer_id, _args(k))] for k in keys]

    return PacedDataLoader(load_fn=load)


def _args(key: Any) -> tuple[Any, ...]:
    return tuple(v for name, v in vars(key).items() if name != "customer_id")


class Loaders:
    """The request's loaders; ``now`` fixes the activity windows for the whole request."""

    def __init__(self, store: GraphStore, now: datetime) -> None:
        flow_since = iso(now - timedelta(days=FLOW_WINDOW_DAYS))
        complaints_since = iso(now - timedelta(days=COMPLAINT_WINDOW_DAYS))
        # Activity as of ``now`` ignores what happened after it (an asOf in the past).
        until = iso(now + timedelta(seconds=1))

        def none() -> None:
            return None

        # Rows carry the policy attributes, so a decision needs no round trip of its own.
        self.customer: DataLoader[str, Row | None] = _by_id(
            lambda ids: customers_with_access(store, ids), none
        )
        self.accounts: DataLoader[str, list[Row]] = _by_id(
            lambda ids: repo.accounts_by_customer(store, ids), list
        )
        self.household_of: DataLoader[str, Row | None] = _by_id(
            lambda ids: repo.household_by_customer(store, ids), none
        )
        self.household: DataLoader[str, Row | None] = _by_id(
            lambda ids: repo.households_by_id(store, ids), none
        )
        self.advisor: DataLoader[str, Row | None] = _by_id(
            lambda ids: repo.advisor_by_customer(store, ids), none
        )
        self.related: DataLoader[str, list[Row]] = _by_id(
            lambda ids: repo.related_by_customer(store, ids), list
        )
        self.activity: DataLoader[str, Row | None] = _by_id(
            lambda ids: repo.activity_by_customer(
                store, ids, flow_since=flow_since, complaints_since=complaints_since, until=until
            ),
            none,
        )
        self.transactions: DataLoader[TransactionPageKey, Page] = _grouped(
            lambda ids, a: repo.transaction_pages(
                store, ids, limit=a[0], after=a[1], time_from=a[2], time_to=a[3]
            )
        )
        self.interactions: DataLoader[InteractionPageKey, Page] = _grouped(
            lambda ids, a: repo.interaction_pages(store, ids, limit=a[0], after=a[1], kind=a[2])
        )

    def forget_customer(self, customer_id: str) -> None:
        """Drop what this request cached about a customer it has just written."""
        for loader in (self.customer, self.accounts, self.activity):
            forget(loader, customer_id)


def forget(loader: DataLoader[Any, Any], key: Any) -> None:
    """Drop one cached key; strawberry's ``clear`` raises for a key never loaded."""
    with contextlib.suppress(KeyError):
        loader.clear(key)


__all__ = ["InteractionPageKey", "Loaders", "TransactionPageKey", "forget"]
