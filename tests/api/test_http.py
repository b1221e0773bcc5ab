"""The HTTP surface: auth, error shapes, limits, health and readiness."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from graph.store import GraphStore
from hub.app import create_app
from hub.settings import Settings
from tests.api.conftest import ALL_PURPOSES, Api
from tests.standins.opa_server import opa_standin

QUERY = {"query": '{ customer(id: "x") { id } }'}


def _no_trace(text: str) -> None:
    assert "Traceback" not in text and 'File "' not in text


async def test_no_token_is_401_json(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json=QUERY)
    assert response.status_code == 401
    assert "bearer" in response.json()["error"]
    assert response.headers["www-authenticate"] == "Bearer"


async def test_bad_and_expired_tokens_are_401(
    client: httpx.AsyncClient, make_token: Callable[..., str]
) -> None:
    for token in ("not-a-jwt", make_token(ttl=timedelta(hours=-1))):
        response = await client.post(
            "/graphql", json=QUERY, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401
        assert response.json()["error"]


async def test_purpose_header_within_token_only(
    client: httpx.AsyncClient, make_token: Callable[..., str]
) -> None:
    token = make_token(purpose="service", purposes=None)
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": "marketing"}
    response = await client.post("/graphql", json=QUERY, headers=headers)
    assert response.status_code == 403
    assert "marketing" in response.json()["error"]
    headers["X-Purpose"] = "service"
    assert (await client.post("/graphql", json=QUERY, headers=headers)).status_code == 200


async def test_a_non_ascii_purpose_header_is_refused_by_what_it_must_be(
    client: httpx.AsyncClient, make_token: Callable[..., str]
) -> None:
    """UTF-8 bytes in X-Purpose ("营销", marketing in Chinese) reach the hub as latin-1 text:
    the refusal says what the header must be and does not quote the bytes back garbled."""
    token = make_token(purposes=ALL_PURPOSES)
    for sent in ("营销".encode(), "marketing\u00a0".encode(), "café".encode("latin-1")):
        headers = {"Authorization": f"Bearer {token}", "X-Purpose": sent}
        response = await client.post("/graphql", json=QUERY, headers=headers)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error.startswith("X-Purpose must be one of ['compliance', 'marketing', "), error
        assert "ASCII" in error and error.isascii(), error  # no "è\x90¥é\x94\x80"
        _no_trace(response.text)


async def test_a_purpose_header_sent_twice_is_refused_not_the_first_used(
    client: httpx.AsyncClient, make_token: Callable[..., str]
) -> None:
    """Two X-Purpose headers (or one holding two, as a proxy joins them): which purpose the
    data may be used for is ambiguous, so 400; the first one was used silently (QA, s22)."""
    token = make_token(purpose="service", purposes=ALL_PURPOSES)
    auth = ("Authorization", f"Bearer {token}")
    for purposes in (
        [("X-Purpose", "service"), ("X-Purpose", "marketing")],
        [("X-Purpose", "service"), ("x-purpose", "service")],
        [("X-Purpose", "service, marketing")],
    ):
        response = await client.post("/graphql", json=QUERY, headers=[auth, *purposes])
        assert response.status_code == 400, (purposes, response.text)
        error = response.json()["error"]
        assert error.startswith("X-Purpose must appear once, with one purpose; "), error
        assert "this request has 2" in error, error
    once = [auth, ("X-Purpose", "marketing")]
    assert (await client.post("/graphql", json=QUERY, headers=once)).status_code == 200


async def test_an_authorization_header_sent_twice_is_refused_not_the_first_used(
    client: httpx.AsyncClient, make_token: Callable[..., str]
) -> None:
    """Two bearer tokens: which one speaks for the request is ambiguous (the first was used
    silently, found beside the X-Purpose case in session 22), so 400, whichever is valid."""
    good = make_token(purpose="service", purposes=ALL_PURPOSES)
    other = make_token(sub="u2", purpose="service", purposes=ALL_PURPOSES)
    for second in (good, other, "not-a-jwt"):
        headers = [("Authorization", f"Bearer {good}"), ("Authorization", f"Bearer {second}")]
        response = await client.post("/graphql", json=QUERY, headers=headers)
        assert response.status_code == 400, (second, response.text)
        assert response.json()["error"].startswith("send the Authorization header once"), (
            response.text
        )
    once = [("Authorization", f"Bearer {good}")]
    assert (await client.post("/graphql", json=QUERY, headers=once)).status_code == 200


async def test_bad_graphql_is_a_graphql_error_without_trace(api: Api) -> None:
    for query in ("{ customer(id: ", "{ nosuchfield }", '{ customer(id: "x") { nope } }'):
        response = await api.client.post("/graphql", json={"query": query}, headers=api.headers)
        body = response.json()
        assert body["errors"][0]["message"]
        _no_trace(response.text)


async def test_limits(api: Api) -> None:
    deep = '{ customer(id: "x") { ' + "household { members { customer { " * 4 + "id"
    deep += " }" * (1 + 3 * 4) + " }"
    response = await api.client.post("/graphql", json={"query": deep}, headers=api.headers)
    assert "exceeds maximum operation depth" in response.json()["errors"][0]["message"]
    aliases = "{ " + " ".join(f"a{i}: customers {{ totalCount }}" for i in range(40)) + " }"
    response = await api.client.post("/graphql", json={"query": aliases}, headers=api.headers)
    assert "aliases" in response.json()["errors"][0]["message"]
    big = {"query": "{ __typename }", "pad": "x" * 1_100_000}
    response = await api.client.post("/graphql", json=big, headers=api.headers)
    assert response.status_code == 413


async def test_introspection_off_by_default(api: Api) -> None:
    body = await api.gql("{ __schema { types { name } } }")
    assert "introspection" in body["errors"][0]["message"].lower()


async def test_introspection_on_when_enabled(
    store: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    app = create_app(Settings(data_dir=data_dir, introspection=True), store=store)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            api = Api(client, make_token(purposes=ALL_PURPOSES))
            body = await api.gql("{ __schema { queryType { name } } }")
            assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_health_ready_and_graphiql(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"graph": "ok"}
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


# Port 1 on loopback refuses connections: a graph that is down, FalkorDB or Neo4j.
@pytest.mark.parametrize("url", ["redis://127.0.0.1:1", "bolt://127.0.0.1:1"])
async def test_unreachable_graph_still_starts(
    data_dir: Path, make_token: Callable[..., str], url: str
) -> None:
    settings = Settings(data_dir=data_dir, graph_url=url)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            assert (await client.get("/healthz")).status_code == 200
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["graph"].startswith("unreachable: ")
            api = Api(client, make_token(purposes=ALL_PURPOSES))
            body = await api.gql('{ customer(id: "x") { id } }')
            assert body["errors"][0]["extensions"]["code"] == "GRAPH_UNAVAILABLE"
            _no_trace(str(body))


async def test_readyz_says_when_the_opa_server_goes_away(store: GraphStore, data_dir: Path) -> None:
    # Session 12 finding: /readyz reported a policy set that failed to load, but stayed 200
    # when the OPA server went away later (every decision then POLICY_UNAVAILABLE).
    with opa_standin() as opa:
        settings = Settings(data_dir=data_dir, opa_url=opa.url, policy_timeout_s=0.5)
        app = create_app(settings, store=store)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                ready = await client.get("/readyz")
                assert ready.status_code == 200 and ready.json() == {"graph": "ok"}, ready.text
                opa.stop()
                gone = await client.get("/readyz")
                assert gone.status_code == 503, gone.text
                assert gone.json()["policy"].startswith("unavailable: OPA"), gone.text


SCHEMA_NAMES = ("Customer", "Query", "Segment", "CustomerInput", "ID!", "String")


async def test_validation_messages_name_only_what_the_caller_wrote(
    api: Api, store: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    # Session 12 finding: with introspection off, validation messages still named schema
    # types, required arguments and input fields the caller never wrote.
    for query, variables, echoed in (
        ('{ customer(id: "x") { nosuch } }', None, "'nosuch'"),
        ('{ customer(id: "x") }', None, "'customer'"),
        ('{ customer(id: "x") { id name { x } } }', None, "'name'"),
        ("{ customer { name } }", None, "required"),
        ("{ customers(segment: NOPE) { totalCount } }", None, "'NOPE'"),
        ('{ customers(segment: "HIGH") { totalCount } }', None, '"HIGH"'),
        ("query($x: Int) { customer(id: $x) { name } }", None, "'Int'"),
        ('{ customer(id: "x") { ... on Account { name } } }', None, "'Account'"),
        ("mutation { upsertCustomer(input: {nope: 1}) { name } }", None, "'nope'"),
        ("mutation($i: Boolean) { upsertCustomer(input: $i) { name } }", None, "'Boolean'"),
    ):
        body = await api.gql(query, variables)
        messages = " ".join(e["message"] for e in body["errors"])
        assert echoed in messages, (query, messages)
        assert not any(f"'{name}'" in messages for name in SCHEMA_NAMES), (query, messages)
        assert "'id'" not in messages, (query, messages)  # a required name never written
        codes = {e["extensions"]["code"] for e in body["errors"]}
        assert codes == {"GRAPHQL_VALIDATION_FAILED"}, body
    # Variables too: the required input field the caller did not send is not named.
    body = await api.gql(
        "mutation($i: CustomerInput!) { upsertCustomer(input: $i) { name } }", {"i": {}}
    )
    (message,) = [e["message"] for e in body["errors"]]
    assert "'CustomerInput'" in message and "required field (hidden)" in message, message
    # With introspection on, the schema is public: the messages keep graphql-core's names.
    app = create_app(Settings(data_dir=data_dir, introspection=True), store=store)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            open_api = Api(client, make_token(purposes=ALL_PURPOSES))
            body = await open_api.gql('{ customer(id: "x") { nosuch } }')
            assert "on type 'Customer'" in body["errors"][0]["message"], body
