"""An unfiltered customer page (graph/repositories/customer_page.py): the rows and accounts it
reads are the ones the request's loaders would read, and a page costs the window's reads and
the count, whatever it selects."""

from __future__ import annotations

from graph.repositories import customer360 as repo
from graph.repositories.access import customers_with_access
from graph.repositories.customer_page import customer_page
from graph.store import GraphStore
from tests.api.conftest import Api
from tests.api.seed import seed_family

LIST = """query($a: String) { customers(first: 3, after: $a) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id name phone riskProfile segment createdAt accounts { id coOwners { id } } } }
} }"""


async def test_page_rows_are_the_loaders_rows(store: GraphStore) -> None:
    for prefix in "abc":
        await seed_family(store, prefix, accounts=3)
    page = await customer_page(store, "a-1", 3, with_accounts=True)
    ids = [r["id"] for r in page.rows]
    assert ids == ["a-2", "b-1", "b-2"]
    by_loader = await customers_with_access(store, ids)
    assert page.rows == [by_loader[cid] for cid in ids]
    accounts = await repo.accounts_by_customer(store, ids)
    for rows in accounts.values():
        for account in rows:
            account["coOwnerIds"] = sorted(account["coOwnerIds"])
    assert page.accounts == {cid: accounts[cid] for cid in ids}
    assert any(a["coOwnerIds"] for rows in accounts.values() for a in rows), "a joint account"
    bare = await customer_page(store, None, 100, with_accounts=False)
    assert [r["id"] for r in bare.rows] == ["a-1", "a-2", "b-1", "b-2", "c-1", "c-2"]
    assert bare.accounts is None
    assert (await customer_page(store, "c-2", 10, with_accounts=True)).rows == []


async def test_plain_page_is_one_read_and_the_count(store: GraphStore, api: Api) -> None:
    for prefix in "abcd":
        await seed_family(store, prefix, accounts=2)
    before = store.stats.round_trips
    body = await api.gql(LIST, {"a": None})
    assert "errors" not in body, body
    # The id window, then its rows and accounts and the count side by side: nothing per
    # customer (the rows carry the policy attributes, the accounts are primed).
    assert store.stats.round_trips - before <= 4
    conn = body["data"]["customers"]
    assert [e["node"]["id"] for e in conn["edges"]] == ["a-1", "a-2", "b-1"]
    assert conn["totalCount"] == 8 and conn["pageInfo"]["hasNextPage"]
    first = conn["edges"][0]["node"]
    assert first["name"] and first["segment"] and len(first["accounts"]) == 3


async def test_masked_page_through_the_window(store: GraphStore, officer: Api, agent: Api) -> None:
    """A service agent (every customer, phone partial) pages the same ids, masked."""
    for prefix in "ab":
        await seed_family(store, prefix)
    officer_body = await officer.gql(LIST, {"a": None})
    agent_body = await agent.gql(LIST, {"a": None})
    assert "errors" not in agent_body, agent_body
    plain_edges = officer_body["data"]["customers"]["edges"]
    shown_edges = agent_body["data"]["customers"]["edges"]
    assert [e["node"]["id"] for e in shown_edges] == [e["node"]["id"] for e in plain_edges]
    for shown, plain in zip(shown_edges, plain_edges, strict=True):
        assert shown["node"]["phone"] != plain["node"]["phone"]
        assert "*" in shown["node"]["phone"]
