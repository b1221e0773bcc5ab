"""The 360 projection returns every part exactly as its own reader does (so loaders primed
with it answer the same), for demo customers, a customer with nothing linked, later pages
and one interaction kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from graph.repositories import customer360 as repo
from graph.repositories.access import customers_with_access
from graph.repositories.customers import upsert_customers
from graph.repositories.projection360 import LINKED, PageArgs, customer_view
from graph.store import GraphStore
from hub.demo import seed_demo
from resolvers.analytics import COMPLAINT_WINDOW_DAYS, FLOW_WINDOW_DAYS, iso

NOW = datetime.now(UTC)
WINDOWS = {
    "flow_since": iso(NOW - timedelta(days=FLOW_WINDOW_DAYS)),
    "complaints_since": iso(NOW - timedelta(days=COMPLAINT_WINDOW_DAYS)),
    "until": iso(NOW),
}
PAGE = PageArgs(6)


async def _readers(
    store: GraphStore,
    cid: str,
    tx: PageArgs,
    ix: PageArgs,
    kind: str | None,
) -> dict[str, Any]:
    """Each part read by its own reader, as the loaders would."""
    household_of = (await repo.household_by_customer(store, [cid])).get(cid)
    return {
        "customer": (await customers_with_access(store, [cid]))[cid],
        "accounts": (await repo.accounts_by_customer(store, [cid])).get(cid, []),
        "household_of": household_of,
        "household": (await repo.households_by_id(store, [household_of["id"]]))[household_of["id"]]
        if household_of
        else None,
        "advisor": (await repo.advisor_by_customer(store, [cid])).get(cid),
        "related": (await repo.related_by_customer(store, [cid])).get(cid, []),
        "activity": (await repo.activity_by_customer(store, [cid], **WINDOWS))[cid],
        "transactions": (
            await repo.transaction_pages(
                store, [cid], limit=tx.limit, after=tx.after, time_from=None, time_to=None
            )
        )[cid],
        "interactions": (
            await repo.interaction_pages(store, [cid], limit=ix.limit, after=ix.after, kind=kind)
        )[cid],
    }


async def _check(
    store: GraphStore,
    cid: str,
    tx: PageArgs = PAGE,
    ix: PageArgs = PAGE,
    kind: str | None = None,
) -> None:
    view = await customer_view(
        store,
        cid,
        transactions=tx,
        interactions=ix,
        interaction_kind=kind,
        linked=frozenset(LINKED),
        **WINDOWS,
    )
    assert view is not None
    expected = await _readers(store, cid, tx, ix, kind)
    for part, value in expected.items():
        assert getattr(view, part) == value, (cid, part)
    # The linked customers are those the view's lists name, read as the customer loader does.
    named = {o for a in expected["accounts"] for o in a["coOwnerIds"]}
    named |= {link["customerId"] for link in expected["related"]}
    named |= {m["customerId"] for m in (expected["household"] or {}).get("members", [])}
    named.discard(cid)
    assert view.linked == await customers_with_access(store, sorted(named))


async def test_projection_matches_the_readers_on_demo_customers(store: GraphStore) -> None:
    await seed_demo(store, customers=40, progress=False)
    rows = await store.read("MATCH (c:Customer) RETURN c.id AS id ORDER BY id")
    ids = [r["id"] for r in rows]
    linked = 0
    for cid in ids:
        await _check(store, cid)
        view = await customer_view(
            store, cid, transactions=PageArgs(6), interactions=PageArgs(6), interaction_kind=None,
            **WINDOWS,
        )  # fmt: skip
        assert view is not None
        linked += bool(view.household and view.related and view.advisor)
    assert linked > 0  # the demo book exercises the linked parts


async def test_projection_of_later_pages_and_one_kind(store: GraphStore) -> None:
    await seed_demo(store, customers=20, progress=False)
    rows = await store.read(
        "MATCH (c:Customer)-[:OWNS]->(:Account)-[:HAS_TRANSACTION]->(t:Transaction) "
        "WITH c, count(t) AS n ORDER BY n DESC, c.id LIMIT 1 RETURN c.id AS id"
    )
    cid = rows[0]["id"]
    first = (
        await repo.transaction_pages(
            store, [cid], limit=3, after=None, time_from=None, time_to=None
        )
    )[cid]
    last = first.items[-1]
    ix = (await repo.interaction_pages(store, [cid], limit=1, after=None, kind=None))[cid]
    kind = ix.items[0]["kind"] if ix.items else "COMPLAINT"
    await _check(
        store,
        cid,
        tx=PageArgs(4, (str(last["time"]), str(last["id"]))),
        ix=PageArgs(2),
        kind=kind,
    )


async def test_projection_of_a_customer_with_nothing_linked(store: GraphStore) -> None:
    await upsert_customers(store, [{"id": "lone", "props": {"name": "孤"}}])
    await _check(store, "lone")
    none = await customer_view(
        store, "nobody", transactions=PageArgs(6), interactions=PageArgs(6),
        interaction_kind=None, **WINDOWS,
    )  # fmt: skip
    assert none is None
