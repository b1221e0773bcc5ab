"""The hub's ASGI middleware around a small real ASGI app."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hub.middleware.body_limit import BodyLimitMiddleware
from hub.middleware.timeout import TimeoutMiddleware


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


async def test_timeout_answers_504() -> None:
    app = _app(Middleware(TimeoutMiddleware, timeout_s=0.2))
    async with _client(app) as client:
        assert (await client.post("/?sleep=0.01")).status_code == 200
        response = await client.post("/?sleep=2")
        assert response.status_code == 504
        assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
