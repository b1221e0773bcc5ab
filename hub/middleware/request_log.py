"""One JSON log line per HTTP request, and its request id.

``X-Request-Id`` is taken only when it is 1-64 characters of ``[A-Za-z0-9-_.]``; anything else
is replaced by a fresh id, so ids in logs and the audit trail stay short and clean. The id is
put in ``scope["state"]["request_id"]`` and sent back in the response header.

The line holds: request id, method, route, status, duration, subject, operation name, the
query's SHA-256, outcome and error codes (see schema/extensions/request_log.py) — never query
text, variables or any value from a body.
"""

from __future__ import annotations

import logging
import os
import random
import re
import time
import uuid
from collections.abc import Collection

from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.logs import FIELDS
from schema.extensions.request_log import RequestFacts, current_facts

log = logging.getLogger("c360.request")

REQUEST_ID_HEADER = "x-request-id"
# Logged for a client that went away before its request was read: nginx's "client closed
# request" (no response can reach it, so nothing is sent).
CLIENT_GONE = 499
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# New request ids: 128 bits from a generator seeded once from the OS, in uuid4's hex form. A
# correlation id needs to be unique, not secret; uuid4's draw from the OS per request showed
# at ~2 % of the loop's samples under load. (Not a counter: that would tell the hub's volume.)
_IDS = random.Random(uuid.uuid4().int)
os.register_at_fork(after_in_child=lambda: _IDS.seed(uuid.uuid4().int))  # forked workers


def request_id_from(header: bytes | None) -> str:
    """The client's id when it is well formed, else a new one."""
    if header is not None:
        text = header.decode("latin-1")
        if REQUEST_ID.fullmatch(text):
            return text
    return f"{_IDS.getrandbits(128):032x}"


def outcome_of(status: int, error_codes: Collection[str]) -> str:
    if status == 504:
        return "timeout"
    if status >= 500:
        return "failed"
    if status >= 400:
        return "refused"
    return "graphql_error" if error_codes else "ok"


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp, routes: Collection[str] = ()) -> None:
        self.app = app
        self.routes = frozenset(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(dict(scope.get("headers") or []).get(b"x-request-id"))
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        facts = RequestFacts(request_id)
        token = current_facts.set(facts)
        status = 500
        started = time.perf_counter()

        async def logged_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        failed = True
        gone = ""
        try:
            await self.app(scope, receive, logged_send)
            failed = False
        except ClientDisconnect as exc:
            # The client's own doing, not the hub's: this request's one line says so (at
            # warning level), not an error with a stack trace. Nothing is left to answer.
            # While sending its body, or later, when its query was stopped (the exception
            # says so: hub/middleware/timeout.py).
            status, failed = CLIENT_GONE, False
            gone = str(exc) or "client disconnected while sending its request"
        finally:
            principal = state.get("principal")
            fields = {
                "request_id": request_id,
                "method": scope.get("method"),
                # Only known routes: a path is client text.
                "route": scope.get("path") if scope.get("path") in self.routes else "-",
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "subject": getattr(principal, "subject", None),
                "operation": facts.operation,
                "query_sha256": facts.query_sha256,
                "outcome": "failed" if failed else outcome_of(status, facts.error_codes),
                "error_codes": facts.error_codes,
            }
            if status == CLIENT_GONE:
                fields["outcome"] = "client_disconnected"
                log.warning(gone, extra={FIELDS: fields})
            else:
                log.info("request", extra={FIELDS: fields})
            current_facts.reset(token)


__all__ = ["REQUEST_ID", "RequestLogMiddleware", "outcome_of", "request_id_from"]
