"""The customer list read as page windows (``id > after LIMIT first + 1``, total counted in
the graph) lists exactly what one page of everything lists, filters included."""

from __future__ import annotations

from typing import Any

from graph.store import GraphStore
from tests.api.conftest import Api
from tests.api.seed import seed_family

QUERY = """query($a: String, $first: Int, $q: String, $s: Segment) {
  customers(first: $first, after: $a, search: $q, segment: $s) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id segment } } } }"""


async def pages(api: Api, first: int, **filters: Any) -> tuple[list[str], set[int], int]:
    """Every id paging ``first`` at a time, the totals seen, and how many pages."""
    ids: list[str] = []
    totals: set[int] = set()
    after = None
    count = 0
    while True:
        body = await api.gql(QUERY, {"a": after, "first": first, **filters})
        assert "errors" not in body, body
        conn = body["data"]["customers"]
        ids += [e["node"]["id"] for e in conn["edges"]]
        totals.add(conn["totalCount"])
        count += 1
        if not conn["pageInfo"]["hasNextPage"]:
            return ids, totals, count
        assert conn["edges"], "a page before the last one is never empty"
        after = conn["pageInfo"]["endCursor"]


async def test_windows_list_what_one_page_lists(store: GraphStore, api: Api) -> None:
    for prefix in "abcd":
        await seed_family(store, prefix, balance=600_000.0 if prefix in "ac" else 1_000.0)
    for filters in ({}, {"s": "HIGH"}, {"q": "李"}, {"q": "c-1"}, {"q": "nobody"}):
        everything, totals, _ = await pages(api, 100, **filters)
        paged, paged_totals, count = await pages(api, 3, **filters)
        assert paged == everything, filters
        assert len(set(paged)) == len(paged)
        assert paged_totals == totals == {len(everything)}, filters
        assert count == max(1, -(-len(everything) // 3)), filters
    assert len((await pages(api, 100))[0]) == 8
    assert (await pages(api, 100, s="HIGH"))[0] == ["a-1", "a-2", "c-1", "c-2"]
    assert (await pages(api, 2, q="李"))[0] == ["a-2", "b-2", "c-2", "d-2"]


async def test_a_customer_whose_id_is_not_a_string_is_listed_once(
    store: GraphStore, api: Api
) -> None:
    """Another tool may have written a number as an id: the list pages over it (where its
    string sorts), once (the audit sorted the ids it touched and failed the request). A float
    is no GraphQL ID: a GraphQL error at its path, not a Python comparison error; the value
    is ours, not the caller's, so INTERNAL_SERVER_ERROR without it (session 21)."""
    await seed_family(store, "a", balance=1_000.0)
    await store.write("CREATE (:Customer {id: 42, name: '某'})")
    everything, _, _ = await pages(api, 100)
    paged, _, _ = await pages(api, 1)
    assert paged == everything == ["42", "a-1", "a-2"]
    await store.write("CREATE (:Customer {id: 1.5, name: '某'})")
    body = await api.gql(QUERY, {"first": 100})
    assert [e["path"] for e in body["errors"]] == [["customers", "edges", 0, "node", "id"]]
    assert body["errors"][0]["message"] == "Unexpected error."
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
