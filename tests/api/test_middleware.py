"""The hub's ASGI middleware around a small real ASGI app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hub.app import create_app
from hub.middleware import timeout as timeout_module
from hub.middleware.body_limit import BodyLimitMiddleware
from hub.middleware.timeout import TimeoutMiddleware
from hub.settings import Settings
from shared.deadline import stop_when_client_goes
from tests.api.conftest import Api

UPSERT = "mutation($input: CustomerInput!) { upsertCustomer(input: $input) { id } }"


async def echo(request: Request) -> JSONResponse:
    body = await request.body()
    if request.query_params.get("sleep"):
        await asyncio.sleep(float(request.query_params["sleep"]))
    return JSONResponse({"bytes": len(body)})


def _app(middleware: Middleware) -> Starlette:
    # The same place in the stack as in hub.app: inside Starlette's error middleware.
    return Starlette(routes=[Route("/", echo, methods=["POST"])], middleware=[middleware])


def _client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_body_limit_declared_and_streamed() -> None:
    app = _app(Middleware(BodyLimitMiddleware, max_bytes=100))
    async with _client(app) as client:
        assert (await client.post("/", content=b"x" * 100)).json() == {"bytes": 100}
        assert (await client.post("/", content=b"x" * 101)).status_code == 413

        async def chunks():  # no content-length: counted while read
            for _ in range(5):
                yield b"x" * 30

        response = await client.post("/", content=chunks())
        assert response.status_code == 413
        assert "100 bytes" in response.json()["error"]


async def test_timeout_answers_504_in_the_routes_own_shape() -> None:
    app = Starlette(
        routes=[Route(path, echo, methods=["POST"]) for path in ("/graphql", "/webhook/posts")],
        middleware=[Middleware(TimeoutMiddleware, timeout_s=0.2)],
    )
    async with _client(app) as client:
        assert (await client.post("/graphql?sleep=0.01")).status_code == 200
        response = await client.post("/graphql?sleep=2")
        assert response.status_code == 504
        assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
        # The webhook (and every other route) answers {"error": ...}, as its other refusals.
        response = await client.post("/webhook/posts?sleep=2")
        assert response.status_code == 504
        assert response.json() == {"error": "request timed out"}


async def test_a_client_gone_while_sending_its_body_is_one_warning_line(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The hub's app as uvicorn calls it: the body's first part, then the client disconnects.
    app = create_app(Settings(data_dir=data_dir, webhook_secret="s"))
    messages = [
        {"type": "http.request", "body": b'[{"id": ', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/ingest/posts", "raw_path": b"/ingest/posts",
        "query_string": b"", "root_path": "", "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"127.0.0.1"), (b"content-length", b"1000")],
    }  # fmt: skip
    with caplog.at_level(logging.INFO):
        await app(scope, receive, send)  # no exception reaches the server
    assert sent == []  # nobody is left to answer
    lines = [r for r in caplog.records if r.name.startswith(("c360", "uvicorn", "starlette"))]
    assert [(r.levelname, r.getMessage()) for r in lines] == [
        ("WARNING", "client disconnected while sending its request")
    ]
    assert all(r.exc_info is None for r in lines)


async def _served_to_a_client_that_goes(answer_first: bool) -> tuple[list[str], list[str]]:
    """A request through TimeoutMiddleware as uvicorn hands it over (its body; then, its
    client having gone meanwhile, the disconnect at once), whose app then says it may be
    stopped when its client goes (a query starting to execute), after starting its answer or
    not. What was sent, and what the app got to do."""
    disconnect_read = asyncio.Event()
    messages = [{"type": "http.request", "body": b"{}", "more_body": False}]
    sent: list[str] = []
    done: list[str] = []

    async def receive() -> dict[str, object]:
        if messages:
            return messages.pop(0)
        disconnect_read.set()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(str(message["type"]))

    async def app(scope: dict[str, object], receive: Any, send: Any) -> None:
        await receive()
        if answer_first:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        stop_when_client_goes()
        await disconnect_read.wait()  # a wait: where a stopped request is cancelled
        await asyncio.sleep(0)
        done.append("answered")
        if not answer_first:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    await TimeoutMiddleware(app, timeout_s=60)(scope, receive, send)
    return sent, done


async def test_a_query_whose_client_went_is_stopped_and_sends_nothing() -> None:
    with pytest.raises(ClientDisconnect, match="its query was stopped"):
        await _served_to_a_client_that_goes(answer_first=False)
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0  # its own cancellation is taken back


async def test_an_answer_already_started_is_not_stopped() -> None:
    assert await _served_to_a_client_that_goes(answer_first=True) == (
        ["http.response.start", "http.response.body"],
        ["answered"],
    )


@contextlib.contextmanager
def _listeners_started() -> Iterator[list[object]]:
    """The tasks hub/middleware/timeout.py starts on this loop meanwhile (its only task: the
    listener for a request's client)."""
    loop = asyncio.get_running_loop()
    started: list[object] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        code = getattr(coro, "cr_code", None)
        if code is not None and code.co_filename == timeout_module.__file__:
            started.append(coro)
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(factory)
    try:
        yield started
    finally:
        loop.set_task_factory(None)


async def _one_post(stoppable: bool) -> list[dict[str, object]]:
    """One POST through TimeoutMiddleware as uvicorn hands it over: its body, then nothing (the
    client stays); its app answers, having said it may be stopped (a query) or not. The
    messages the middleware sent on."""

    async def receive() -> dict[str, object]:
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()  # the client stays until the answer
        raise AssertionError("unreachable")

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    async def app(scope: dict[str, object], receive: Any, send: Any) -> None:
        await receive()
        if stoppable:
            stop_when_client_goes()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    messages = [{"type": "http.request", "body": b"{}", "more_body": False}]
    sent: list[dict[str, object]] = []
    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    await TimeoutMiddleware(app, timeout_s=60)(scope, receive, send)
    return sent


async def test_only_a_request_that_may_be_stopped_has_its_client_listened_for() -> None:
    # The hot path: a webhook or a mutation (never stoppable) starts no task for its client.
    answered = [{"type": "http.response.start", "status": 200, "headers": []},
                {"type": "http.response.body", "body": b"{}"}]  # fmt: skip
    with _listeners_started() as started:
        assert await _one_post(stoppable=False) == answered
    assert started == []
    with _listeners_started() as started:  # the client stays: answered all the same
        assert await _one_post(stoppable=True) == answered
    assert len(started) == 1


async def test_a_mutation_through_the_hub_starts_no_client_listener(agent: Api) -> None:
    with _listeners_started() as started:
        body = await agent.gql(UPSERT, {"input": {"id": "C000078", "name": "Bo"}})
    assert body.get("errors") is None and started == []
    with _listeners_started() as started:  # a query does: it may be stopped
        body = await agent.gql('query { customer(id: "C000078") { id } }')
    assert body["data"] == {"customer": {"id": "C000078"}} and len(started) == 1
