"""Give every HTTP request a deadline; answer 504 if nothing was sent by then."""

from __future__ import annotations

import asyncio

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class TimeoutMiddleware:
    def __init__(self, app: ASGIApp, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            async with asyncio.timeout(self.timeout_s):
                await self.app(scope, receive, tracked_send)
        except TimeoutError:
            if started:
                raise
            response = JSONResponse(
                {"errors": [{"message": "request timed out", "extensions": {"code": "TIMEOUT"}}]},
                status_code=504,
            )
            await response(scope, receive, send)
