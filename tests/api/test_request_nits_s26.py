"""QA session 26, item 7: small refusals that said too little or the wrong thing. An empty id,
a document graphql-core gives up validating, a persistedQuery extension that is not the
protocol's, a body naming a key twice, and the `serve --demo` banner of a hub held to
persisted queries."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
from graphql import parse

from graph.store import GraphStore
from hub.cli.serve import EXAMPLE_DOCUMENT, banner, example_request
from hub.persisted import sha256_hex
from schema.extensions.limits import build_validator
from schema.root import build_schema
from shared.settings import Settings
from tests.api.conftest import Api, codes, serve

LISTED = "{ customers(first: 1) { totalCount } }"


async def test_an_empty_id_is_told_empty_not_missing(agent: Api) -> None:
    query = "mutation($i: CustomerInput!) { upsertCustomer(input: $i) { id } }"
    for empty in ("", "   "):
        body = await agent.gql(query, {"i": {"id": empty, "name": "x"}})
        assert codes(body) == ["BAD_USER_INPUT"], body
        (error,) = body["errors"]
        assert error["message"] == "id: must not be empty; give the record's id"
        assert error["extensions"]["field"] == "id"
    # No id at all is the schema's to refuse (CustomerInput.id is ID!).
    missing = await agent.gql('mutation { upsertCustomer(input: {name: "x"}) { id } }')
    assert codes(missing) == ["GRAPHQL_VALIDATION_FAILED"]


def test_a_document_graphql_core_gives_up_on_says_what_to_do(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    schema = build_schema(settings)._schema
    validator = build_validator(settings)
    errors = validator.validate(schema, parse("{ " + " ".join(["__typename"] * 1_200) + " }"))
    assert [e.message.startswith("the document is too large to validate") for e in errors] == [
        True
    ], [e.message for e in errors]
    assert "ask for each field once" in errors[0].message
    assert errors[0].extensions == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert validator.validate(schema, parse("{ " + " __typename" * 300 + " }")) == []


async def _post(settings: Settings, store: GraphStore, token: str, body: str) -> httpx.Response:
    async with serve(store, settings) as client:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        return await client.post("/graphql", content=body, headers=headers)


async def test_a_persisted_query_extension_not_of_the_protocol_is_a_bad_request(
    client: httpx.AsyncClient, make_token: Callable[..., str]
) -> None:
    headers = {"Authorization": f"Bearer {make_token()}"}
    digest = sha256_hex(LISTED)
    for persisted, said in (
        ({"version": 1, "sha256Hash": 5}, "sha256Hash must be a string"),
        ({"version": 1}, "sha256Hash must be a string"),
        ({"version": 2, "sha256Hash": digest}, "version 2 is not supported"),
        ({"version": "1", "sha256Hash": digest}, 'version "1" is not supported'),
        ({"version": True, "sha256Hash": digest}, "version true is not supported"),
        ({"sha256Hash": digest}, "version null is not supported"),
    ):
        sent = {"query": LISTED, "extensions": {"persistedQuery": persisted}}
        response = await client.post("/graphql", json=sent, headers=headers)
        assert response.status_code == 400, (persisted, response.text)
        (error,) = response.json()["errors"]
        assert error["extensions"]["code"] == "BAD_REQUEST"
        assert said in error["message"], error["message"]
    sent = {"query": LISTED, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    assert "errors" not in (await client.post("/graphql", json=sent, headers=headers)).json()


async def test_a_body_naming_a_key_twice_is_refused(
    client: httpx.AsyncClient, make_token: Callable[..., str]
) -> None:
    headers = {"Authorization": f"Bearer {make_token()}", "Content-Type": "application/json"}
    twice: dict[str, str] = {
        "query": '{"query": "{ __typename }", "query": "{ customers { totalCount } }"}',
        "id": '{"query": "query($id: ID!) { customer(id: $id) { id } }", '
        '"variables": {"id": "C1", "id": "C2"}}',
    }
    for key, body in twice.items():
        response = await client.post("/graphql", content=body, headers=headers)
        assert response.status_code == 400, response.text
        (error,) = response.json()["errors"]
        assert error["extensions"]["code"] == "BAD_REQUEST"
        assert error["message"] == (
            f'the request body names the key "{key}" twice in one object; send each key once'
        )
    once = '{"query": "{ __typename }", "variables": {"a": {"query": 1}}}'
    response = await client.post("/graphql", content=once, headers=headers)
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_the_demo_banner_of_a_persisted_only_hub_suggests_a_request_it_runs(
    store: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    allow = data_dir / "persisted.json"
    allow.write_text(json.dumps([LISTED]))
    settings = Settings(data_dir=data_dir, persisted_queries=allow, persisted_queries_only=True)
    text = banner(settings, "TOKEN123")
    assert "persisted queries only" in text and EXAMPLE_DOCUMENT not in text
    _, body = example_request(settings)
    assert sha256_hex(LISTED) in text and json.loads(body)["extensions"]["persistedQuery"] == {
        "version": 1,
        "sha256Hash": sha256_hex(LISTED),
    }
    response = await _post(settings, store, make_token(), body)
    assert response.json() == {"data": {"customers": {"totalCount": 0}}}, response.text
    # Listed, the usual example is kept; without the mode too.
    allow.write_text(json.dumps([LISTED, EXAMPLE_DOCUMENT]))
    assert json.loads(example_request(settings)[1]) == {"query": EXAMPLE_DOCUMENT}
    open_settings = Settings(data_dir=data_dir, persisted_queries=allow)
    assert example_request(open_settings)[0] == "try:"
    # The QA's allow-list: a subscription (refused over HTTP) and a query with a variable.
    one = "query One($id: ID!) { customer(id: $id) { id name } }"
    allow.write_text(json.dumps(["subscription S { mentionAdded { postId } }", one]))
    note, body = example_request(settings)
    assert note.endswith("(fill in its variables):")
    assert json.loads(body) == {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(one)}},
        "variables": {"id": "<ID!>"},
    }
    allow.write_text(json.dumps(["subscription S { mentionAdded { postId } }"]))
    assert "none is listed" in example_request(settings)[0]
