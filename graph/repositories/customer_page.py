"""One page of the customer listing in id order, without an id lookup first.

An unfiltered ``customers(first: N, after: X)`` page used to take three reads, two of them one
after the other: the id window, then the rows (with their policy attributes) and the accounts
(for ``segment``) by those ids. :func:`customer_page` reads the window's rows with their policy
attributes and, when asked, the same window's accounts at the same time (two of the graph
server's threads), shaped exactly as ``customers_with_access`` and ``accounts_by_customer``
shape them, so the request's loaders can be primed with them. (One query for both was slower:
the server ran the accounts' walk on the same thread as the rows.)
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from graph.fieldcipher import CUSTOMER, open_rows
from graph.repositories.access import (
    ACCESS_COLUMNS,
    ACCESS_KEY,
    ACCESS_MATCH,
    access_attributes,
)
from graph.store import GraphStore, Row

_WINDOW = """
MATCH (c:Customer) WHERE c.id > $after
WITH c ORDER BY c.id LIMIT $limit
"""
_ROWS = _WINDOW + "WITH c" + ACCESS_MATCH + "RETURN c.id AS id, c {.*} AS c," + ACCESS_COLUMNS
# The same window's accounts: one row per account with every owner (the customer included),
# one row with a null account for a customer without any. A pattern comprehension for the
# co-owners cost the graph server ~3x as much (FalkorDB runs it as a sub-plan per row).
_ACCOUNTS = (
    _WINDOW
    + """
OPTIONAL MATCH (c)-[o:OWNS]->(acc:Account)<-[:OWNS]-(x:Customer)
RETURN c.id AS id, acc {.*} AS account, o.role AS role, collect(x.id) AS owners
"""
)


@dataclass(frozen=True)
class CustomerPage:
    """``rows``: customers in id order (``customers_with_access`` rows); ``accounts``: by
    customer id (``accounts_by_customer`` rows), None when not asked for."""

    rows: list[Row]
    accounts: dict[str, list[Row]] | None


def _account_order(row: Row) -> tuple[Any, ...]:
    # accounts_by_customer's ``ORDER BY a.openedAt, a.id``: nulls last, as Cypher sorts them.
    opened, account_id = row.get("openedAt"), row.get("id")
    return (opened is None, opened or "", account_id is None, account_id or "")


async def _rows(store: GraphStore, after: str | None, limit: int) -> list[Row]:
    rows = await store.read(_ROWS, {"after": after or "", "limit": limit})
    rows.sort(key=lambda r: r["id"])
    opened = open_rows(store, CUSTOMER, {r["id"]: r["c"] for r in rows})
    customers: list[Row] = []
    for r in rows:
        customer = dict(opened[r["id"]])
        customer[ACCESS_KEY] = access_attributes({**customer, **r})
        customers.append(customer)
    return customers


async def _accounts(store: GraphStore, after: str | None, limit: int) -> dict[str, list[Row]]:
    rows = await store.read(_ACCOUNTS, {"after": after or "", "limit": limit})
    out: dict[str, list[Row]] = {}
    for r in rows:
        held = out.setdefault(r["id"], [])
        if r["account"] is not None:
            co_owners = sorted(o for o in r["owners"] if o != r["id"])
            held.append({**r["account"], "role": r["role"], "coOwnerIds": co_owners})
    for held in out.values():
        held.sort(key=_account_order)
    return out


async def customer_page(
    store: GraphStore, after: str | None, limit: int, *, with_accounts: bool
) -> CustomerPage:
    """Up to ``limit`` customers with ids above ``after`` (the id index's range scan), each
    with its policy attributes under ``ACCESS_KEY`` and its personal fields opened; with
    ``with_accounts`` also the accounts of the same window, read at the same time. Should a
    write land between the two reads, a customer missing from the accounts' window is left
    out of ``accounts`` (its loader then reads them)."""
    if not with_accounts:
        return CustomerPage(await _rows(store, after, limit), None)
    rows, accounts = await asyncio.gather(
        _rows(store, after, limit), _accounts(store, after, limit)
    )
    return CustomerPage(rows, accounts)


__all__ = ["CustomerPage", "customer_page"]
