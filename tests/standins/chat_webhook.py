"""Stand-in for a chat robot's incoming webhook (DingTalk / WeCom / Slack style): records what
it receives, answers 500 for the first ``fail_first`` requests, then 200 (or ``status``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class Received:
    url: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class ChatWebhook:
    fail_first: int = 0
    status: int = 200
    received: list[Received] = field(default_factory=list)

    def app(self) -> Starlette:
        async def hook(request: Request) -> JSONResponse:
            self.received.append(
                Received(str(request.url), dict(request.headers), await request.body())
            )
            if len(self.received) <= self.fail_first:
                return JSONResponse({"errcode": 500}, status_code=500)
            return JSONResponse({"errcode": 0, "errmsg": "ok"}, status_code=self.status)

        return Starlette(routes=[Route("/{path:path}", hook, methods=["POST"])])
