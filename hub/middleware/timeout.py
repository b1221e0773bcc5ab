"""Where an HTTP request's life ends early: a deadline (504 if nothing was sent by then), and a
client that disconnects before its answer.

The deadline cancels the request's task: the GraphQL execution is cut off where it waits.
A request that says it may be stopped (a query: :func:`shared.deadline.stop_when_client_goes`)
has its client watched once its body is read: a disconnect (the server's receive says
``http.disconnect``) cancels the task the same way, and nothing is sent (no one is left to
read it); the request log says 499 ``client_disconnected``. The audit record of a cut-off
request is written on the way out (schema/extensions/audit.py), which tells a timeout from a
client gone and from other cancellations by :data:`shared.deadline.current_request`, set here.
A request whose answer has started is not stopped (a streaming answer is its own), and
websockets are not watched here.

While the app waits for the request's body, the deadline is when the body is due at
``min_body_rate`` bytes a second after ``body_grace_s`` (C360_MIN_BODY_RATE after
C360_HEADER_TIMEOUT_S) when that is earlier: a body trickled a byte a second is answered 408
after the grace, not 504 after the whole request timeout, and its connection is closed (what
is left of the body is not read). hub/http_protocol.py evicts the slowest body at the
connection cap by the same rate."""

from __future__ import annotations

import asyncio
import math

from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.deadline import RequestLife, current_request

# The request log's line for a request stopped because its client went.
STOPPED = "client disconnected before its answer: its query was stopped"


class _WatchedRequest(RequestLife):
    """The request's life, and its receive and send for the app. The body passes through as
    the app asks for it (the body limit and the server's flow control stay the app's). Once
    its last part is handed over and the request says it may be stopped (a query starting
    to execute), one task listens for what comes next, which can only be the disconnect: a
    client gone before then is seen at once (the server's receive answers a disconnect
    straight away). Nothing else (a webhook, a mutation) pays for a listener."""

    def __init__(
        self,
        deadline: asyncio.Timeout,
        task: asyncio.Task[None],
        receive: Receive,
        send: Send,
        pace: tuple[float, float],
    ) -> None:
        super().__init__(deadline, task)
        self._receive = receive
        self._send = send
        self._body_read = False
        self._listener: asyncio.Task[Message] | None = None
        # When the body is due: the first grace_s are free, then min_rate bytes a second.
        self._grace_s, self._min_rate = pace
        self._began = asyncio.get_running_loop().time()
        self._body_bytes = 0
        self.body_behind = False  # the deadline that passed was the body's

    async def receive(self) -> Message:
        if self._listener is not None:
            # The app asks again (is the client still there?): the listener's answer, so the
            # server's receive has one reader. (Before there is a listener the app's asks go
            # to the server; a disconnect it reads there is answered again to the listener.)
            return await asyncio.shield(self._listener)
        message = await (self._receive() if self._body_read else self._receive_body())
        if message["type"] == "http.request" and not message.get("more_body", False):
            self._body_read = True
            self._listen()
        return message

    async def _receive_body(self) -> Message:
        """The body's next part, with the deadline moved to when the body is due if that is
        earlier (and back once the part is in)."""
        ends = self.deadline.when()
        due = self._began + self._grace_s + self._body_bytes / self._min_rate
        paced = ends is not None and due < ends
        if paced:
            self.deadline.reschedule(due)
        try:
            message = await self._receive()
        finally:
            if paced and self.deadline.expired():
                self.body_behind = True
            elif paced:
                self.deadline.reschedule(ends)
        self._body_bytes += len(message.get("body", b""))
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.answering = True
        await self._send(message)

    def may_stop(self) -> None:
        super().may_stop()
        self._listen()

    def _listen(self) -> None:
        """Start the listener once both hold: the body is read and the request may be stopped."""
        if self.stoppable and self._body_read and self._listener is None:
            self._listener = asyncio.create_task(self._await_disconnect())

    async def _await_disconnect(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.disconnect":
            self.client_left()
        return message

    def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()


def _timed_out(scope: Scope, message: str = "request timed out") -> dict[str, object]:
    """The 504's (and 408's) body in the shape of the route's other answers: a GraphQL error
    for /graphql, ``{"error": ...}`` as the webhook and the other routes answer (QA: a slow
    webhook body got the GraphQL shape, every other webhook error the plain one)."""
    if str(scope.get("path", "")).startswith("/graphql"):
        return {"errors": [{"message": message, "extensions": {"code": "TIMEOUT"}}]}
    return {"error": message}


class TimeoutMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        timeout_s: float,
        body_grace_s: float = math.inf,
        min_body_rate: float = 1.0,
    ) -> None:
        self.app = app
        self.timeout_s = timeout_s
        self.pace = (body_grace_s, min_body_rate)
        self.too_slow = (
            f"request body too slow: under {min_body_rate:g} bytes a second after its first "
            f"{body_grace_s:g} s (C360_MIN_BODY_RATE): send the body with its headers, or faster"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        task = asyncio.current_task()
        assert task is not None
        life: _WatchedRequest | None = None
        try:
            async with asyncio.timeout(self.timeout_s) as deadline:
                life = _WatchedRequest(deadline, task, receive, send, self.pace)
                token = current_request.set(life)
                try:
                    await self.app(scope, life.receive, life.send)
                finally:
                    life.close()
                    current_request.reset(token)
        except TimeoutError:
            if life is not None and life.answering:
                raise
            if life is not None and life.body_behind:
                # The rest of the body is not read: the connection cannot carry another request.
                response = JSONResponse(
                    _timed_out(scope, self.too_slow), 408, headers={"connection": "close"}
                )
            else:
                response = JSONResponse(_timed_out(scope), status_code=504)
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
