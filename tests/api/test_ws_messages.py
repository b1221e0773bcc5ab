"""Malformed graphql-transport-ws client messages over a REAL uvicorn server (QA, session 17,
as a brand analyst): each closes its socket 4400 with a reason naming the field, as the
protocol says, instead of a TypeError that dropped the connection with 1006 and "Exception in
ASGI application" (``payload: null``, ``id: [1]``), "Unexpected error." (``variables: "x"``) or
a bare ``complete`` (``operationName: 5``); the subscription limit answers an ``error`` with
a code. Every case: nothing logged at ERROR, and the hub goes on serving the subscriptions
already running."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from graph.store import GraphStore
from hub.app import create_app
from hub.settings import Settings
from hub.ws_transport import CLOSE_REASON_MAX, OPERATION_ID_MAX, TOO_MANY_SUBSCRIPTIONS
from tests.api.test_subscriptions import PROTOCOL, Client, open_client, until
from tests.live import uvicorn_in_loop

SUB = "subscription { mentionAdded { postId } }"
LIMIT = 3  # C360_MAX_SUBSCRIPTIONS_PER_CONNECTION for these tests: the 4th is refused


class Hub:
    def __init__(self, host: str, app: Any) -> None:
        self.host = host
        self.app = app

    def listeners(self) -> int:
        return int(self.app.state.bus.listeners("mentions"))

    def publish(self, post_id: str) -> None:
        row = {"platform": "x", "postId": post_id, "createdAt": "", "text": "t"}
        self.app.state.bus.publish("mentions", [row])


@pytest.fixture
async def hub(store: GraphStore, data_dir: Path, free_port: int) -> AsyncIterator[Hub]:
    settings = Settings(data_dir=data_dir, max_subscriptions_per_connection=LIMIT)
    app = create_app(settings, store=store)
    async with uvicorn_in_loop(app, free_port) as host:
        yield Hub(host, app)


@pytest.fixture
def errors() -> Iterator[list[logging.LogRecord]]:
    """Every record logged at ERROR or above while the test runs, by any logger: uvicorn's
    "Exception in ASGI application" goes to ``uvicorn.error``, which does not propagate to
    the root logger that caplog listens on."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.ERROR)
    loggers = [logging.getLogger(name) for name in ("", "uvicorn", "uvicorn.error")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield records
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


@pytest.fixture
def analyst(make_token: Callable[..., str]) -> str:
    return make_token(["brand_analyst"], sub="ba1", purpose="marketing")


async def closed_with(client: Client) -> tuple[int, str]:
    """The close code and reason the server ends ``client``'s socket with (anything else it
    sends first fails the test)."""
    with pytest.raises(ConnectionClosed) as closed:
        message = await client.receive(timeout=30)
        raise AssertionError(f"the server answered instead of closing: {message}")
    received = closed.value.rcvd
    assert received is not None, f"no close frame (abnormal close 1006): {closed.value}"
    return received.code, received.reason


async def delivered(client: Client, hub: Hub, *op_ids: str) -> None:
    """A post published now reaches each of ``op_ids`` on ``client``: it still serves them."""
    hub.publish("p1")
    got = {}
    for _ in op_ids:
        message = await client.receive()
        got[message["id"]] = message
    assert sorted(got) == sorted(op_ids), got
    for message in got.values():
        assert message["type"] == "next", message
        assert message["payload"]["data"]["mentionAdded"] == [{"postId": "p1"}], message


def subscribe(op_id: Any = "bad", **payload: Any) -> dict[str, Any]:
    return {"id": op_id, "type": "subscribe", "payload": {"query": SUB} | payload}


# The QA cases, and the other fields the protocol types; the reason names the field.
ID_RULE = f'"id" must be a non-empty string of at most {OPERATION_ID_MAX} characters'
INVALID = [
    ({"id": "a", "type": "subscribe", "payload": None}, '"payload" must be an object'),
    ({"id": "a", "type": "subscribe", "payload": [1]}, '"payload" must be an object'),
    ({"id": "a", "type": "subscribe"}, '"payload" must be an object'),
    (subscribe([1]), ID_RULE),
    (subscribe(7), ID_RULE),
    (subscribe(""), ID_RULE),
    (subscribe("i" * (OPERATION_ID_MAX + 1)), ID_RULE),
    (subscribe(variables="x"), '"payload.variables" must be an object or null'),
    (subscribe(variables=[1]), '"payload.variables" must be an object or null'),
    (subscribe(operationName=5), '"payload.operationName" must be a string or null'),
    (subscribe(query=5), '"payload.query" must be a string or null'),
    (subscribe(extensions=[1]), '"payload.extensions" must be an object or null'),
    ({"id": [1], "type": "complete"}, ID_RULE),
    ({"type": "ping", "payload": [1]}, 'the payload of "ping" must be an object or null'),
    ({"type": ["subscribe"]}, '"type" must be a string'),
]


@pytest.mark.parametrize(("message", "reason"), INVALID, ids=[json.dumps(m) for m, _ in INVALID])
async def test_an_invalid_message_closes_4400_and_the_hub_serves_on(
    hub: Hub,
    analyst: str,
    errors: list[logging.LogRecord],
    message: dict[str, Any],
    reason: str,
) -> None:
    sender = await open_client(hub.host, analyst)
    await sender.subscribe("live", SUB, {})
    other = await open_client(hub.host, analyst)
    await other.subscribe("other", SUB, {})
    await until(lambda: hub.listeners() == 2, "both subscribed")

    await sender.ws.send(json.dumps(message))
    assert await closed_with(sender) == (4400, f"Invalid message: {reason}")
    # The closed socket's subscription ends; the other socket's goes on.
    await until(lambda: hub.listeners() == 1, "the closed socket's subscription ended")
    await delivered(other, hub, "other")
    await other.ws.close()
    assert not errors, [r.getMessage() for r in errors]


async def test_a_valid_message_still_starts_its_subscription(
    hub: Hub, analyst: str, errors: list[logging.LogRecord]
) -> None:
    # What the protocol allows: null variables/operationName/extensions, an id of the
    # longest length taken, a ping with an object payload.
    client = await open_client(hub.host, analyst)
    longest = "i" * OPERATION_ID_MAX
    valid = subscribe(longest, variables=None, operationName=None, extensions=None)
    await client.ws.send(json.dumps(valid))
    await client.ws.send(json.dumps({"type": "ping", "payload": {"at": 1}}))
    assert await client.receive() == {"type": "pong"}
    await until(lambda: hub.listeners() == 1, "subscribed")
    await delivered(client, hub, longest)
    await client.ws.close()
    assert not errors, [r.getMessage() for r in errors]


async def test_the_subscription_limit_is_an_error_with_a_code_and_the_socket_serves_on(
    hub: Hub, analyst: str, errors: list[logging.LogRecord]
) -> None:
    client = await open_client(hub.host, analyst)
    for n in range(LIMIT):
        await client.subscribe(f"s{n}", SUB, {})
    await until(lambda: hub.listeners() == LIMIT, f"{LIMIT} subscribed")
    await client.subscribe("over", SUB, {})
    refused = await client.receive()
    assert refused["type"] == "error" and refused["id"] == "over", refused
    (error,) = refused["payload"]
    assert error["extensions"] == {"code": TOO_MANY_SUBSCRIPTIONS, "max": LIMIT}, error
    assert "C360_MAX_SUBSCRIPTIONS_PER_CONNECTION" in error["message"]
    # The same socket's subscriptions go on.
    await delivered(client, hub, *(f"s{n}" for n in range(LIMIT)))
    await client.ws.close()
    assert not errors, [r.getMessage() for r in errors]


@pytest.mark.parametrize(
    ("message", "code", "starts"),
    [
        # strawberry's reason quotes the type whole
        ({"type": "x" * 300}, 4400, "Unknown message type: xxx"),
        # a syntax error quotes the token (and asking the audit extension for the operation
        # type of a document that did not parse raised RuntimeError, logged, then "complete")
        (subscribe(query="subscription { " + "y" * 300), 4400, "Syntax Error: "),
        (subscribe(query="subscription {"), 4400, "Syntax Error: Expected Name, found <EOF>."),
        # the id of a running subscription again
        (subscribe("é" * OPERATION_ID_MAX), 4409, "Subscriber for éé"),
    ],
    ids=["long type", "long syntax error", "syntax error", "duplicate id"],
)
async def test_a_close_reason_quoting_the_client_fits_a_close_frame(
    hub: Hub,
    analyst: str,
    errors: list[logging.LogRecord],
    message: dict[str, Any],
    code: int,
    starts: str,
) -> None:
    client = await open_client(hub.host, analyst)
    if code == 4409:
        await client.ws.send(json.dumps(message))
        await until(lambda: hub.listeners() == 1, "subscribed")
    await client.ws.send(json.dumps(message))
    got, reason = await closed_with(client)
    assert got == code and reason.startswith(starts), (got, reason)
    assert len(reason.encode()) <= CLOSE_REASON_MAX, reason
    assert not errors, [r.getMessage() for r in errors]


async def test_connection_init_with_a_null_payload_is_refused_for_its_missing_token(
    hub: Hub, errors: list[logging.LogRecord]
) -> None:
    # The protocol allows ``payload: null``; strawberry closed it 4400 as invalid. It carries
    # no token: 4403, as an init without one.
    async with connect(f"ws://{hub.host}/graphql", subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": None}))
        assert await closed_with(Client(ws)) == (4403, "Forbidden")
    assert not errors, [r.getMessage() for r in errors]
