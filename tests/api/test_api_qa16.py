"""API defects a QA probe found (session 16): bad input answers BAD_USER_INPUT / 400, never a
500, a silent cut or a silently chosen operation; upsertCustomer checks what the CRM import
checks."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import httpx
import pytest

from graph.store import GraphStore
from hub.settings import Settings
from schema.extensions.operation_selection import MUST_NAME
from shared.validators import MAX_FIELD_CHARS
from tests.api.conftest import Api, codes, serve
from tests.api.seed import seed_family

EVENTS = """query($after: String) {
  auditEvents(first: 2, after: $after) { edges { node { seq } } }
}"""
UPSERT = "mutation($input: CustomerInput!) { upsertCustomer(input: $input) { id } }"
SEARCH = "query($s: String) { customers(search: $s) { totalCount edges { node { id } } } }"


def _cursor(part: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([part]).encode()).decode()


@pytest.mark.parametrize(
    "seq",
    [
        "9223372036854775808",  # 2**63: OverflowError in the audit index
        "12345678901234567890",
        "²",  # isdigit() but not int(): ValueError
        "1" * 5000,  # int() refuses more than 4300 digits: ValueError
        "١٢٣",  # Arabic-Indic digits: int() read them as 123
        "0",
        "-1",
        " 12",
    ],
)
async def test_an_audit_cursor_beyond_the_seq_range_is_bad_input(api: Api, seq: str) -> None:
    body = await api.gql(EVENTS, {"after": _cursor(seq)})
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["message"] == "after is not a cursor from this API"
    assert body["errors"][0]["extensions"]["field"] == "after"


async def test_an_audit_cursor_at_the_top_of_the_seq_range_reads(api: Api) -> None:
    await api.gql('{ customer(id: "nobody") { id } }')  # one record at least
    body = await api.gql(EVENTS, {"after": _cursor(str(2**63 - 1))})
    assert "errors" not in body, body
    assert body["data"]["auditEvents"]["edges"]


async def test_upsert_customer_refuses_a_value_the_import_refuses(
    store: GraphStore, api: Api, agent: Api
) -> None:
    body = await agent.gql(UPSERT, {"input": {"id": "q16-1", "name": "x" * 200_000}})
    assert codes(body) == ["BAD_USER_INPUT"], body
    error = body["errors"][0]
    # The import's own reason (tests/ingest/test_integrity.py), from the same check.
    assert error["message"] == f"name: 200000 characters (limit {MAX_FIELD_CHARS})"
    assert error["extensions"]["field"] == "name"
    assert not await store.read("MATCH (c:Customer {id: 'q16-1'}) RETURN c.id AS id")
    ok = await agent.gql(UPSERT, {"input": {"id": "q16-1", "name": "x" * MAX_FIELD_CHARS}})
    assert "errors" not in ok, ok


async def test_upsert_customer_with_an_unknown_advisor_creates_nothing(
    store: GraphStore, api: Api, agent: Api
) -> None:
    body = await agent.gql(UPSERT, {"input": {"id": "q16-2", "advisorId": "ADV9999"}})
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == "advisorId"
    assert "advisor" in body["errors"][0]["message"]
    assert not await store.read("MATCH (a:Advisor {id: 'ADV9999'}) RETURN a.id AS id")
    assert not await store.read("MATCH (c:Customer {id: 'q16-2'}) RETURN c.id AS id")
    # A known advisor links as before.
    await seed_family(store, "q16", accounts=0, interactions=0)
    body = await agent.gql(UPSERT, {"input": {"id": "q16-2", "advisorId": "q16-adv"}})
    assert "errors" not in body, body
    linked = await store.read(
        "MATCH (:Customer {id: 'q16-2'})-[:MANAGED_BY]->(a:Advisor) RETURN a.id AS id"
    )
    assert linked == [{"id": "q16-adv"}]


async def test_a_search_text_over_the_limit_is_refused_not_cut(
    store: GraphStore, api: Api, agent: Api
) -> None:
    long_name = "K" * 100
    ok = await agent.gql(UPSERT, {"input": {"id": "q16-3", "name": long_name}})
    assert "errors" not in ok, ok
    body = await api.gql(SEARCH, {"s": long_name + "-SOMETHING-ELSE"})
    assert codes(body) == ["BAD_USER_INPUT"], body
    extensions = body["errors"][0]["extensions"]
    assert extensions["field"] == "search" and extensions["max"] == 100
    # At the limit (spaces around it do not count) the search runs.
    found = await api.gql(SEARCH, {"s": f"  {long_name} "})
    assert found["data"]["customers"]["edges"] == [{"node": {"id": "q16-3"}}]


@pytest.fixture
def headers(make_token: Callable[..., str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token()}"}


TWO = "query A { a: __typename } query B { b: __typename }"


@pytest.mark.parametrize("query", [TWO, TWO + " subscription C { mentionAdded { postId } }"])
async def test_several_operations_without_an_operation_name_are_refused(
    client: httpx.AsyncClient, headers: dict[str, str], query: str
) -> None:
    response = await client.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "errors": [{"message": MUST_NAME, "extensions": {"code": "BAD_REQUEST"}}]
    }


async def test_a_named_operation_of_several_still_runs(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    sent = {"query": TWO, "operationName": "B"}
    response = await client.post("/graphql", json=sent, headers=headers)
    assert response.status_code == 200 and response.json() == {"data": {"b": "Query"}}
    one = await client.post("/graphql", json={"query": "{ a: __typename }"}, headers=headers)
    assert one.json() == {"data": {"a": "Query"}}
    # An anonymous operation among others: validation's own, more precise error.
    sent = {"query": "{ a: __typename } query B { b: __typename }"}
    mixed = (await client.post("/graphql", json=sent, headers=headers)).json()
    assert [e["extensions"]["code"] for e in mixed["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert "anonymous operation must be the only" in mixed["errors"][0]["message"]


async def test_head_of_graphql_answers_as_get_without_content(
    store: GraphStore, settings: Settings, headers: dict[str, str]
) -> None:
    # It answered 405 while its Allow said GET (RFC 9110: HEAD is GET without the content).
    for page in (True, False):
        async with serve(store, settings.model_copy(update={"graphiql": page})) as client:
            for sent in ({"Accept": "text/html"}, {"Accept": "application/json"}):
                got = await client.get("/graphql", headers={**headers, **sent})
                head = await client.head("/graphql", headers={**headers, **sent})
                assert (head.status_code, head.content) == (got.status_code, b""), (page, sent)
                assert head.headers["content-type"] == got.headers["content-type"]
                assert head.headers["content-length"] == str(len(got.content))
    # An operation in its query string runs nothing, as with GET; every 405 names HEAD.
    sent_query = {"query": 'mutation { upsertCustomer(input: {id: "q16-h"}) { id } }'}
    async with serve(store, settings) as client:
        head = await client.head("/graphql", params=sent_query, headers=headers)
        assert head.status_code == 405 and head.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    assert not await store.read("MATCH (c:Customer {id: 'q16-h'}) RETURN c.id AS id")


@pytest.mark.parametrize("status", ["x", "PENDING", ""])
async def test_policy_proposals_of_an_unknown_status_are_bad_input(api: Api, status: str) -> None:
    # QA, session 16: [] (as if none), where erasureRequests says what the statuses are.
    body = await api.gql("query($s: String) { policyProposals(status: $s) { id } }", {"s": status})
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert "pending, failed, approved, rejected" in body["errors"][0]["message"]


async def test_policy_proposals_of_a_known_status_or_all_are_listed(api: Api) -> None:
    for status in ("pending", "approved", None):
        body = await api.gql(
            "query($s: String) { policyProposals(status: $s) { id } }", {"s": status}
        )
        assert body["data"]["policyProposals"] == [], body
