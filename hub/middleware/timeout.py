"""Give every HTTP request a deadline; answer 504 if nothing was sent by then.

The deadline cancels the request's task: the GraphQL execution is cut off where it waits.
Its audit record is written on the way out (schema/extensions/audit.py), which tells a
timeout from other cancellations by :data:`shared.deadline.request_deadline`, set here."""

from __future__ import annotations

import asyncio

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.deadline import request_deadline


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
            async with asyncio.timeout(self.timeout_s) as deadline:
                token = request_deadline.set(deadline)
                try:
                    await self.app(scope, receive, tracked_send)
                finally:
                    request_deadline.reset(token)
        except TimeoutError:
            if started:
                raise
            response = JSONResponse(
                {"errors": [{"message": "request timed out", "extensions": {"code": "TIMEOUT"}}]},
                status_code=504,
            )
            await response(scope, receive, send)
