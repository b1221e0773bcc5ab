"""Requests refused before execution over HTTP (QA probe, session 14): JSON GraphQL-shaped
bodies with ``extensions.code`` and a 4xx status, never strawberry's text/plain, never a stack
trace; a subscription over HTTP is refused with a code, not run into a TypeError."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.store import GraphStore
from hub.settings import Settings
from tests.api.conftest import serve

QUERY = "{ customers(first: 1) { totalCount } }"


@pytest.fixture
def headers(make_token: Callable[..., str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token()}"}


def _refused(response: httpx.Response, code: str, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body: dict[str, Any] = response.json()
    assert [e.get("extensions", {}).get("code") for e in body["errors"]] == [code], body
    assert "Traceback" not in response.text and "data" not in body
    return body


async def test_a_subscription_over_http_is_refused_with_a_code(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    sent = {"query": "subscription { mentionAdded { postId } }"}
    response = await client.post("/graphql", json=sent, headers=headers)
    body = _refused(response, "OPERATION_NOT_SUPPORTED")
    assert "websocket" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("content", "content_type", "says"),
    [
        (b"{not json", "application/json", "Unable to parse request body as JSON"),
        (b'[{"query": "{ __typename }"}]', "application/json", "Batching is not enabled"),
        (b'{"query": "{ __typename }"}', "text/plain", "Unsupported content type"),
        (b'{"query": "{ __typename }", "variables": "x"}', "application/json", "variables"),
        (b'{"query": "{ __typename }", "operationName": "Nope"}', "application/json", "Nope"),
    ],
)
async def test_malformed_requests_get_a_json_error_with_a_code(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    content: bytes,
    content_type: str,
    says: str,
) -> None:
    response = await client.post(
        "/graphql", content=content, headers={**headers, "content-type": content_type}
    )
    body = _refused(response, "BAD_REQUEST")
    assert says in body["errors"][0]["message"], body


async def test_the_graphql_response_media_type_is_kept_for_refusals(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    strict = {**headers, "Accept": "application/graphql-response+json"}
    response = await client.post(
        "/graphql", content=b"{", headers={**strict, "content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ customers(first:1 { totalCount } }", None, "GRAPHQL_PARSE_FAILED"),
        ("query($f: Int) { customers(first: $f) { totalCount } }", {"f": "abc"}, "BAD_USER_INPUT"),
        ("query($id: ID!) { customer(id: $id) { id } }", {}, "BAD_USER_INPUT"),
        ("{ customers(first: 1) { nope } }", None, "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_document_and_variable_errors_carry_a_code(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    query: str,
    variables: dict[str, Any] | None,
    code: str,
) -> None:
    sent = {"query": query, "variables": variables}
    body = (await client.post("/graphql", json=sent, headers=headers)).json()
    assert body["data"] is None, body
    assert [e.get("extensions", {}).get("code") for e in body["errors"]] == [code], body


async def test_a_listed_query_still_runs(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    body = (await client.post("/graphql", json={"query": QUERY}, headers=headers)).json()
    assert body == {"data": {"customers": {"totalCount": 0}}}


async def test_a_method_other_than_get_or_post_is_refused_with_a_code(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.put("/graphql", json={"query": QUERY}, headers=headers)
    _refused(response, "METHOD_NOT_ALLOWED", status=405)
    assert response.headers["allow"] == "GET, HEAD, POST, OPTIONS"


async def test_options_lists_the_methods_and_allows_no_cross_origin_page(
    client: httpx.AsyncClient,
) -> None:
    """OPTIONS answered strawberry's 405 (its text, as a JSON error); it is a method every
    resource takes (RFC 9110, 9.3.7). No token is needed, and no CORS is configured: a
    browser's preflight gets the methods but no Access-Control-Allow-* header."""
    for sent in (
        {},
        {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
         "Access-Control-Request-Headers": "authorization, content-type"},
    ):  # fmt: skip
        response = await client.options("/graphql", headers=sent)
        assert (response.status_code, response.content) == (204, b""), response.text
        assert response.headers["allow"] == "GET, HEAD, POST, OPTIONS"
        assert not [h for h in response.headers if h.lower().startswith("access-control-")]


async def test_a_browser_get_without_the_graphiql_page_is_not_found_with_a_code(
    store: GraphStore, settings: Settings, headers: dict[str, str]
) -> None:
    page_off = settings.model_copy(update={"graphiql": False})
    async with serve(store, page_off) as client:
        response = await client.get("/graphql", headers={**headers, "Accept": "text/html"})
    _refused(response, "NOT_FOUND", status=404)


@pytest.mark.parametrize(
    "query",
    [
        "{ __typename }",
        '{ customer(id: "C1") { id } }',
        'mutation { upsertCustomer(input: {id: "C900001", name: "x"}) { id } }',
    ],
)
async def test_an_operation_in_a_get_query_string_runs_nothing(
    client: httpx.AsyncClient, store: GraphStore, data_dir: Path, query: str
) -> None:
    # GET carries no bearer check: it serves the GraphiQL page only. QA (session 15) found
    # GETs with ?query= executed, mutations included, with no principal.
    log = data_dir / "audit" / "audit.log"
    before = log.read_bytes() if log.exists() else b""
    response = await client.get("/graphql", params={"query": query})
    _refused(response, "METHOD_NOT_ALLOWED", status=405)
    assert not await store.read("MATCH (c:Customer {id: 'C900001'}) RETURN c.id AS id")
    assert (log.read_bytes() if log.exists() else b"") == before  # nothing ran, nothing audited


async def test_a_method_other_than_post_needs_no_token_to_be_refused(
    client: httpx.AsyncClient,
) -> None:
    response = await client.put("/graphql", json={"query": QUERY})
    _refused(response, "METHOD_NOT_ALLOWED", status=405)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("PUT", "/healthz", 405), ("DELETE", "/readyz", 405), ("GET", "/no-such-path", 404)],
)
async def test_the_routers_refusals_are_json_too(
    client: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json"), response.headers
    assert response.json()["error"]
    if status == 405:
        assert "GET" in response.headers["allow"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/graphql/"), ("GET", "/graphql/"), ("GET", "/graphql/?query=%7B__typename%7D")],
)
async def test_graphql_with_a_trailing_slash_is_an_unknown_path(
    client: httpx.AsyncClient, headers: dict[str, str], method: str, path: str
) -> None:
    """/graphql/ is no alias of /graphql: a JSON 404 like any unknown path, not Starlette's 307
    to /graphql (which some clients follow as a GET without the body, or resend with the
    token), and the query is not run; with a token or without, the answer is the same."""
    for sent in (headers, {}):
        response = await client.request(
            method, path, json={"query": QUERY} if method == "POST" else None, headers=sent
        )
        assert response.status_code == 404, (response.status_code, response.headers)
        assert "location" not in response.headers
        assert response.headers["content-type"].startswith("application/json"), response.headers
        assert response.json() == {"error": "Not Found"}
