"""The websocket's limits over a REAL uvicorn server (QA, session 19): a message is held to
C360_MAX_BODY_BYTES as a POST body is (uvicorn's default let 16 MiB of comments, 15 KB on the
wire with permessage-deflate, freeze the hub while they parsed)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from graph.store import GraphStore
from hub.app import create_app
from hub.settings import Settings
from hub.ws_transport import (
    PARSE_CACHE_SIZE,
    TOO_MANY_SUBSCRIPTIONS,
    SubscriptionsOnlyHandler,
    ws_limits,
)
from schema.extensions.parser_cache import ParsedOrLeft
from tests.api.test_subscriptions import Client, open_client, until
from tests.api.test_ws_messages import Hub, delivered
from tests.live import uvicorn_in_loop

SUB = "subscription { mentionAdded { postId } }"
MAX_BODY = 64_000
PER_SUBJECT = 3  # C360_MAX_SUBSCRIPTIONS_PER_SUBJECT here


@pytest.fixture
async def hub(store: GraphStore, data_dir: Path, free_port: int) -> AsyncIterator[Hub]:
    settings = Settings(
        data_dir=data_dir, max_body_bytes=MAX_BODY, max_subscriptions_per_subject=PER_SUBJECT
    )
    app = create_app(settings, store=store)
    async with uvicorn_in_loop(app, free_port, **ws_limits(settings)) as host:
        yield Hub(host, app)


async def close_code(client: Client) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        message = await client.receive(timeout=30)
        raise AssertionError(f"the server answered instead of closing: {message}")
    assert closed.value.rcvd is not None, f"no close frame: {closed.value}"
    return closed.value.rcvd.code


async def test_a_message_over_the_body_limit_closes_1009_before_it_is_read(
    hub: Hub, make_token: Callable[..., str]
) -> None:
    # Any token: a marketing analyst may not subscribe at all. The comments compress to a
    # few hundred bytes on the wire (the client deflates); decompressed they pass the limit.
    marketing = make_token(["marketing_analyst"], sub="m1", purpose="marketing")
    client = await open_client(hub.host, marketing)
    huge = "#" + "x" * MAX_BODY + "\n" + SUB
    await client.ws.send(json.dumps({"id": "big", "type": "subscribe", "payload": {"query": huge}}))
    assert await close_code(client) == 1009  # message too big
    # A message within the limit (comments and all) still starts its subscription.
    analyst = make_token(["brand_analyst"], sub="ba1", purpose="marketing")
    client = await open_client(hub.host, analyst)
    fits = "#" + "x" * (MAX_BODY // 2) + "\n" + SUB
    await client.ws.send(json.dumps({"id": "s", "type": "subscribe", "payload": {"query": fits}}))
    await until(lambda: hub.listeners() == 1, "subscribed")
    await delivered(client, hub, "s")
    await client.ws.close()


async def test_a_control_character_in_a_variable_is_bad_user_input_as_over_http(
    hub: Hub, make_token: Callable[..., str]
) -> None:
    # Before: no error, no complete, no events (HTTP answered BAD_USER_INPUT).
    client = await open_client(hub.host, make_token(["brand_analyst"], sub="ba1"))
    query = "subscription($q: String) { mentionAdded(query: $q) { text } }"
    await client.subscribe("nul", query, {"q": "招行\u0000"})
    refused = await client.receive()
    assert refused["type"] == "error" and refused["id"] == "nul", refused
    (error,) = refused["payload"]
    assert error["message"] == "variable '$q' (argument 'query') contains a control character"
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "variable": "q",
        "arguments": ["query"],
    }
    await client.subscribe("lit", 'subscription { mentionAdded(query: "a\\u0001") { text } }', {})
    refused = await client.receive()
    assert refused["type"] == "error" and refused["id"] == "lit", refused
    assert refused["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT", refused
    # The socket serves on.
    await client.subscribe("ok", SUB, {})
    await until(lambda: hub.listeners() == 1, "subscribed")
    await delivered(client, hub, "ok")
    await client.ws.close()


async def test_one_subject_runs_at_most_its_cap_of_subscriptions_over_all_sockets(
    hub: Hub, make_token: Callable[..., str]
) -> None:
    # Before: one token opened 300 sockets of 10 subscriptions each.
    token = make_token(["brand_analyst"], sub="many1")
    first, second = await open_client(hub.host, token), await open_client(hub.host, token)
    await first.subscribe("a", SUB, {})
    await first.subscribe("b", SUB, {})
    await second.subscribe("c", SUB, {})
    await until(lambda: hub.listeners() == PER_SUBJECT, f"{PER_SUBJECT} subscribed")
    await second.subscribe("over", SUB, {})
    refused = await second.receive()
    assert refused["type"] == "error" and refused["id"] == "over", refused
    (error,) = refused["payload"]
    assert error["extensions"] == {"code": TOO_MANY_SUBSCRIPTIONS, "max": PER_SUBJECT}, error
    assert "C360_MAX_SUBSCRIPTIONS_PER_SUBJECT" in error["message"]
    # Another user is not held to this one's count.
    other = await open_client(hub.host, make_token(["brand_analyst"], sub="other1"))
    await other.subscribe("o", SUB, {})
    await until(lambda: hub.listeners() == PER_SUBJECT + 1, "the other user subscribed")
    # A completed subscription gives its slot back.
    await first.ws.send(json.dumps({"id": "a", "type": "complete"}))
    running = SubscriptionsOnlyHandler.running
    await until(lambda: running.get("many1") == PER_SUBJECT - 1, "the slot given back")
    await second.subscribe("again", SUB, {})
    await until(lambda: hub.listeners() == PER_SUBJECT + 1, "subscribed again")
    await delivered(second, hub, "c", "again")
    for client in (first, second, other):
        await client.ws.close()
    await until(lambda: "many1" not in running, "every slot given back with the sockets")


async def test_the_document_is_parsed_once_in_a_thread_and_never_on_the_loop(
    hub: Hub, make_token: Callable[..., str]
) -> None:
    # The hub parses a subscribe's document in a worker thread (for its operation type),
    # into the cache the operation's own parse reads: that parse, on the loop, is a hit.
    cache = ParsedOrLeft(maxsize=PARSE_CACHE_SIZE).cached_parse_document
    client = await open_client(hub.host, make_token(["brand_analyst"], sub="ba1"))
    before = cache.cache_info()
    fresh = "# " + "y" * (MAX_BODY // 2) + " a document no test sent before\n" + SUB
    await client.ws.send(json.dumps({"id": "f", "type": "subscribe", "payload": {"query": fresh}}))
    await until(lambda: hub.listeners() == 1, "subscribed")
    after = cache.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 1), (before, after)
    await delivered(client, hub, "f")
    await client.ws.close()
