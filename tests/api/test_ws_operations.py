"""The websocket side of /graphql over a REAL uvicorn server (QA probe, session 14): every
``subscribe`` message is held to the persisted-query allow-list before it is parsed, as HTTP
is, and queries and mutations are refused there (OPERATION_NOT_SUPPORTED) rather than run
without the HTTP path's privacy context (they answered POLICY_UNAVAILABLE)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from graph.store import GraphStore
from hub.app import create_app
from hub.persisted import sha256_hex
from hub.settings import Settings
from privacy.audit import AuditLog
from privacy.keyring import KeyRing
from schema.extensions.operation_selection import MUST_NAME
from tests.api.test_subscriptions import Client, open_client
from tests.live import uvicorn_in_loop

LISTED_SUB = "subscription { mentionAdded { postId } }"
LISTED_QUERY = "{ customers(first: 1) { totalCount } }"
UNLISTED_SUB = "subscription{ mentionAdded{ postId text } }"
CUSTOMER = '{ customer(id:"C000001"){ id } }'
LOG = 'mutation { logInteraction(input: {customerId: "C000001", kind: "INQUIRY"}) { id } }'
MENTIONS = "{ mentions(first: 1) { totalCount } }"


async def _serve(settings: Settings, store: GraphStore, port: int) -> AsyncIterator[str]:
    async with uvicorn_in_loop(create_app(settings, store=store), port) as host:
        yield host


@pytest.fixture
async def server(store: GraphStore, data_dir: Path, free_port: int) -> AsyncIterator[str]:
    async for host in _serve(Settings(data_dir=data_dir), store, free_port):
        yield host


@pytest.fixture
async def only_server(store: GraphStore, data_dir: Path, free_port: int) -> AsyncIterator[str]:
    allow = data_dir / "persisted.json"
    allow.write_text(json.dumps([LISTED_SUB, LISTED_QUERY]))
    settings = Settings(data_dir=data_dir, persisted_queries=allow, persisted_queries_only=True)
    async for host in _serve(settings, store, free_port):
        yield host


async def _send(client: Client, op_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    await client.ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))
    return await client.receive()


def _code(message: dict[str, Any]) -> str:
    assert message["type"] == "error", message
    return str(message["payload"][0]["extensions"]["code"])


async def test_persisted_only_mode_holds_the_websocket_to_the_allow_list(
    only_server: str, make_token: Callable[..., str]
) -> None:
    client = await open_client(
        only_server, make_token(["brand_analyst"], sub="ba1", purpose="marketing")
    )
    for n, document in enumerate(
        [UNLISTED_SUB, "subscription{ mentionAdded{ nope } }", LISTED_QUERY.replace("1", "2")]
    ):
        refused = await _send(client, f"u{n}", {"query": document})
        assert refused["id"] == f"u{n}"
        # Refused before it was parsed: not GRAPHQL_VALIDATION_FAILED for `nope`.
        assert _code(refused) == "PERSISTED_QUERY_NOT_ALLOWED", refused
    unknown = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(UNLISTED_SUB)}}
    missing = await _send(client, "h0", {"query": None, "extensions": unknown})
    assert _code(missing) == "PERSISTED_QUERY_NOT_FOUND"
    # The listed subscription, by its text and by its hash alone, starts (no error; a ping
    # round trip shows the server has handled both subscribe messages).
    listed = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(LISTED_SUB)}}
    for op_id, payload in (("ok1", {"query": LISTED_SUB}), ("ok2", {"extensions": listed})):
        await client.ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))
    await client.ws.send(json.dumps({"type": "ping"}))
    assert json.loads(await asyncio.wait_for(client.ws.recv(), 10)) == {"type": "pong"}
    await client.ws.close()


async def test_queries_and_mutations_over_the_websocket_are_refused_with_a_code(
    server: str, make_token: Callable[..., str], data_dir: Path
) -> None:
    for role, sub, purpose, document in [
        ("privacy_officer", "po1", "compliance", CUSTOMER),
        ("service_agent", "sa1", "service", LOG),
        ("brand_analyst", "ba1", "marketing", MENTIONS),
    ]:
        client = await open_client(server, make_token([role], sub=sub, purpose=purpose))
        refused = await _send(client, "q", {"query": document})
        assert _code(refused) == "OPERATION_NOT_SUPPORTED", (role, refused)
        assert "POST /graphql" in refused["payload"][0]["message"]
        # The same socket still serves subscriptions.
        await client.ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(client.ws.recv(), 10)) == {"type": "pong"}
        await client.ws.close()
    # Nothing ran: no audit record names these operations.
    records = AuditLog(data_dir / "audit", KeyRing.load(data_dir)).read()
    assert not [r for r in records if r["subject"] in {"po1", "sa1", "ba1"}], records


async def test_a_listed_query_is_still_refused_over_the_websocket(
    only_server: str, make_token: Callable[..., str]
) -> None:
    client = await open_client(only_server, make_token())
    refused = await _send(client, "q", {"query": LISTED_QUERY})
    assert _code(refused) == "OPERATION_NOT_SUPPORTED"
    await client.ws.close()


@pytest.mark.parametrize("frame", ["not json", '"a string"', "[]", "[" * 100 + "]" * 100])
async def test_a_text_frame_that_is_no_json_object_closes_4400(
    server: str, make_token: Callable[..., str], frame: str, caplog: pytest.LogCaptureFixture
) -> None:
    # QA (session 16): "not json" after connection_ack dropped the connection with "Exception
    # in ASGI application" (decode_json's HTTP 400 raised inside the socket); binary frames
    # and unknown message types were already closed 4400.
    client = await open_client(
        server, make_token(["brand_analyst"], sub="ba1", purpose="marketing")
    )
    await client.ws.send(frame)
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(client.ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400, closed.value
    assert "Exception in ASGI application" not in caplog.text


async def test_several_subscriptions_without_an_operation_name_are_refused(
    server: str, make_token: Callable[..., str]
) -> None:
    client = await open_client(
        server, make_token(["brand_analyst"], sub="ba1", purpose="marketing")
    )
    two = "subscription A { mentionAdded { postId } } subscription B { mentionAdded { postId } }"
    refused = await _send(client, "s1", {"query": two})
    assert _code(refused) == "BAD_REQUEST" and refused["id"] == "s1", refused
    assert refused["payload"][0]["message"] == MUST_NAME
    # Named, one of them starts; the socket stays open.
    await client.ws.send(
        json.dumps(
            {"id": "s2", "type": "subscribe", "payload": {"query": two, "operationName": "B"}}
        )
    )
    await client.ws.send(json.dumps({"type": "ping"}))
    assert json.loads(await asyncio.wait_for(client.ws.recv(), 10)) == {"type": "pong"}
    await client.ws.close()


async def test_an_unknown_operation_name_over_the_websocket_is_bad_request(
    server: str, make_token: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    # It got a bare "complete": the subscription ended before it started, nothing said why.
    client = await open_client(
        server, make_token(["brand_analyst"], sub="ba1", purpose="marketing")
    )
    name = "N" * 500
    refused = await _send(client, "u", {"query": LISTED_SUB, "operationName": name})
    assert _code(refused) == "BAD_REQUEST"
    assert refused["payload"][0]["message"] == f'Unknown operation named "{"N" * 64}…(500 chars)".'
    assert "unexpected error" not in caplog.text
    await client.ws.close()
