"""Where an HTTP request's life ends early: a deadline (504 if nothing was sent by then), and a
client that disconnects before its answer.

The deadline cancels the request's task: the GraphQL execution is cut off where it waits.
Once the request's body is read, the client is watched: a disconnect (the server's receive
says ``http.disconnect``) cancels the task the same way if the request said it may be stopped
(a query: :func:`shared.deadline.stop_when_client_goes`), and nothing is sent (no one is left
to read it); the request log says 499 ``client_disconnected``. The audit record of a cut-off
request is written on the way out (schema/extensions/audit.py), which tells a timeout from a
client gone and from other cancellations by :data:`shared.deadline.current_request`, set here.
A request whose answer has started is not stopped (a streaming answer is its own), and
websockets are not watched here."""

from __future__ import annotations

import asyncio

from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.deadline import RequestLife, current_request

# The request log's line for a request stopped because its client went.
STOPPED = "client disconnected before its answer: its query was stopped"


class _ClientWatch:
    """The request's receive for the app: the body passes through as the app asks for it (the
    body limit and the server's flow control stay the app's); once its last part is handed
    over, one task listens for what comes next, which can only be the disconnect."""

    def __init__(self, receive: Receive, life: RequestLife) -> None:
        self._receive = receive
        self._life = life
        self._listener: asyncio.Task[Message] | None = None

    async def receive(self) -> Message:
        if self._listener is not None:
            # The app asks again (is the client still there?): the listener's answer, so the
            # server's receive has one reader.
            return await asyncio.shield(self._listener)
        message = await self._receive()
        if message["type"] == "http.request" and not message.get("more_body", False):
            self._listener = asyncio.create_task(self._listen())
        return message

    async def _listen(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.disconnect":
            self._life.client_left()
        return message

    def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()


class TimeoutMiddleware:
    def __init__(self, app: ASGIApp, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        task = asyncio.current_task()
        assert task is not None
        started = False
        life: RequestLife | None = None

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if life is not None:
                    life.answering = True
            await send(message)

        try:
            async with asyncio.timeout(self.timeout_s) as deadline:
                life = RequestLife(deadline, task)
                watch = _ClientWatch(receive, life)
                token = current_request.set(life)
                try:
                    await self.app(scope, watch.receive, tracked_send)
                finally:
                    watch.close()
                    current_request.reset(token)
        except TimeoutError:
            if started:
                raise
            response = JSONResponse(
                {"errors": [{"message": "request timed out", "extensions": {"code": "TIMEOUT"}}]},
                status_code=504,
            )
            await response(scope, receive, send)
        except asyncio.CancelledError:
            # Ours (its client went) ends here; any other cancellation (shutdown) goes on.
            if life is None or not life.stopped or task.uncancel() > 0:
                raise
            raise ClientDisconnect(STOPPED) from None
        else:
            if life is not None and life.stopped:
                # Asked for, but the request caught it and ended: the count is balanced again.
                task.uncancel()
