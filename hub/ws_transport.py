"""The websocket side of /graphql (graphql-transport-ws): subscriptions only, held to the
same persisted-query allow-list as HTTP, both checked when a ``subscribe`` message arrives.

Persisted queries: in "only" mode an unlisted document is refused before it is parsed, with
the code HTTP gives (``PERSISTED_QUERY_NOT_ALLOWED``); a hash may stand for its document.

Subscriptions only: a query or mutation sent over the socket would run on the connection's
context, which has no principal-bound privacy context of its own, no request log, body limit
or timeout; it answered POLICY_UNAVAILABLE ("no principal"). Serving it would need a second
copy of the HTTP path's privacy, audit and limits kept equal forever; refusing it (code
``OPERATION_NOT_SUPPORTED``) leaves one path for reads and writes of personal data.

Message shapes: every client message is checked against the protocol before strawberry reads
it (:func:`message_problem`), which assumed them (``payload: null`` or ``id: [1]`` raised a
TypeError that dropped the socket with 1006 and "Exception in ASGI application"; ``variables:
"x"`` answered "Unexpected error."). An invalid message closes the socket 4400, as the
protocol says, with a reason that names the field; a reason never outgrows a close frame.

Size: a message is held to C360_MAX_BODY_BYTES, as a POST body is (:func:`ws_limits`, given
to uvicorn). uvicorn's default was 16 MiB, and permessage-deflate made 15 MB of ``#`` comments
cost 15 KB on the wire: any token froze the hub for seconds while the document parsed. The
`websockets` library counts the limit after decompression and closes 1009 ("message too
big") before the hub reads the message. The document is then parsed for its operation type
in a worker thread, into the parse cache the operation reads: no parse on the event loop.

Rate: each ``subscribe`` takes a request from its subject's bucket, the one POSTs take from
(hub/rate_limit.py, C360_RATE_LIMIT_PER_S); over it, the protocol's "error" (code RATE_LIMITED,
``extensions.retryAfter`` in seconds) and the socket goes on. ``connection_init``, pings and
``complete`` take none: sockets are capped by C360_MAX_CONNECTIONS, subscriptions per subject.

Lifetime: until its ``connection_init`` carries a valid token a socket may be evicted when the
hub reaches C360_MAX_CONNECTIONS (hub/http_protocol.py); once acknowledged it is closed 4403
when its token expires (a socket whose token had expired stayed open, answering pings, for
good; its subscriptions ended only at their next batch).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from graphql import DocumentNode, GraphQLError, OperationType, get_operation_ast
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    Message,
    SubscribeMessage,
)

from hub.graphql_http import BAD_REQUEST, OPERATION_NOT_SUPPORTED
from hub.http_protocol import WS_GUARD
from hub.persisted import PersistedQueries, PersistedQueryError
from hub.rate_limit import RATE_LIMITED, RateLimiter, refusal_text, retry_after
from schema.extensions.input_hygiene import input_errors
from schema.extensions.operation_selection import MUST_NAME, needs_operation_name
from schema.extensions.parser_cache import PARSE_CACHE_SIZE, ParsedOrLeft
from shared.echo import echo
from shared.settings import Settings

QUERIES_OVER_HTTP = (
    "the websocket serves subscriptions only; send queries and mutations to POST /graphql"
)
# The code of the error a subscribe over C360_MAX_SUBSCRIPTIONS_PER_CONNECTION gets (strawberry
# sent "Subscription limit reached" without one).
TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
# The longest operation id taken: clients use UUIDs (36) or counters; the id comes back in
# every message of its operation, so a 1 MB id would make every batch 1 MB larger.
OPERATION_ID_MAX = 128
# A close frame carries at most 125 bytes: the 2-byte code and a reason of 123 bytes of UTF-8
# (RFC 6455 5.5); graphql-ws cuts its reasons the same way.
CLOSE_REASON_MAX = 123
INVALID = "Invalid message: "
# The close of a socket whose token expired (4403, as a connection_init with such a token).
EXPIRED_CODE = 4403
EXPIRED = "the token has expired: reconnect with a fresh one"
# The client messages that carry an operation id.
_WITH_ID = frozenset({"subscribe", "complete"})
# A subscribe payload's fields, each of its type or null (PROTOCOL.md, Subscribe).
_PAYLOAD_FIELDS: tuple[tuple[str, type, str], ...] = (
    ("query", str, "a string"),
    ("variables", dict, "an object"),
    ("operationName", str, "a string"),
    ("extensions", dict, "an object"),
)


def ws_limits(settings: Settings) -> dict[str, Any]:
    """uvicorn's websocket options: a message (decompressed) at most C360_MAX_BODY_BYTES,
    as a POST body; a larger one closes the socket 1009 before the hub reads it."""
    return {"ws_max_size": settings.max_body_bytes}


def message_problem(message: Mapping[str, object]) -> str | None:
    """Why ``message`` (a JSON object) is no valid graphql-transport-ws client message, as a
    close reason; None when strawberry may read it. Unknown types and a missing ``type`` are
    strawberry's (4400 "Unknown message type" / "Failed to parse message")."""
    kind = message.get("type")
    if kind is not None and not isinstance(kind, str):
        return INVALID + '"type" must be a string'
    if kind in _WITH_ID:
        op_id = message.get("id")
        if not isinstance(op_id, str) or not op_id or len(op_id) > OPERATION_ID_MAX:
            return (
                f'{INVALID}"id" must be a non-empty string of at most {OPERATION_ID_MAX} characters'
            )
    ping_payload = message.get("payload") if kind in ("ping", "pong") else None
    if ping_payload is not None and not isinstance(ping_payload, dict):
        return f'{INVALID}the payload of "{kind}" must be an object or null'
    if kind != "subscribe":
        return None
    payload = message.get("payload")
    if not isinstance(payload, dict):
        return INVALID + '"payload" must be an object'
    # A null or missing query is a persisted query's hash alone (extensions.persistedQuery);
    # without one it is refused with BAD_REQUEST, as over HTTP.
    for field, of_type, named in _PAYLOAD_FIELDS:
        value = payload.get(field)
        if value is not None and not isinstance(value, of_type):
            return f'{INVALID}"payload.{field}" must be {named} or null'
    return None


def close_reason(text: str) -> str:
    """``text`` cut to fit a close frame (:data:`CLOSE_REASON_MAX` bytes of UTF-8): a longer
    reason, e.g. one quoting the caller's message type, must not fail the close itself."""
    # "replace": a lone surrogate has no UTF-8 form (the hub's JSON decoding refuses them; a
    # reason must not fail the close all the same).
    data = text.encode("utf-8", "replace")
    if len(data) <= CLOSE_REASON_MAX:
        return data.decode("utf-8")
    return data[: CLOSE_REASON_MAX - 3].decode("utf-8", "ignore") + "…"


# The cache the operation parses through (strawberry's on_parse passes ``max_tokens`` alone).
_parsed = ParsedOrLeft(maxsize=PARSE_CACHE_SIZE).cached_parse_document


class NoOperationSelected(ValueError):
    """The document holds no operation by the given name, or several and no name was given:
    BAD_REQUEST, as over HTTP. (Left to strawberry, an unknown name got a bare ``complete``
    and several unnamed operations "Unexpected error." with a logged stack trace.)"""


def operation_type(
    query: str, operation_name: Any, max_tokens: int
) -> tuple[OperationType | None, DocumentNode | None]:
    """The type of the operation ``query`` names and the parsed document, or (None, None)
    when the document does not parse, (None, document) when it mixes an anonymous operation
    with others (strawberry then answers with the syntax or validation error);
    NoOperationSelected when the name picks no operation."""
    try:
        # Through the parse cache the operation's own parse uses, with its arguments: run
        # here, in a thread, that parse on the loop is a cache hit.
        document = _parsed(query, max_tokens=max_tokens)
    except GraphQLError:
        return None, None
    name = operation_name if isinstance(operation_name, str) else None
    if needs_operation_name(document, name):
        raise NoOperationSelected(MUST_NAME)
    operation = get_operation_ast(document, name)
    if operation is None and name is not None:
        raise NoOperationSelected(f'Unknown operation named "{echo(name)}".')
    return (operation.operation if operation is not None else None), document


class SubscriptionsOnlyHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    _expiry: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        if not self.connection_acknowledged or self._expiry is not None:
            return
        scope = getattr(self.websocket, "ws", None)
        guard = getattr(scope, "scope", {}).get(WS_GUARD)
        if guard is not None:
            guard.authenticated()  # no longer evictable at the connection cap
        principal = getattr(self.context, "principal", None)
        exp = principal.claims.get("exp") if principal is not None else None
        if isinstance(exp, int | float):
            self._expiry = asyncio.create_task(self._close_at(exp))

    async def _close_at(self, exp: float) -> None:
        # Past exp by the clock ConnectionContext.begin_batch reads (expired: exp < now).
        while time.time() <= exp:
            await asyncio.sleep(exp - time.time() + 0.01)
        await self.websocket.close(code=EXPIRED_CODE, reason=EXPIRED)

    async def shutdown(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        await super().shutdown()

    async def handle_message(self, message: Message) -> None:
        # A JSON frame that is not an object (``[]``, ``"x"``) would reach strawberry's
        # ``message["type"]`` as a TypeError that ends the connection with a server error;
        # it is an invalid message like an unknown type: close 4400.
        if not isinstance(message, dict):
            await self.handle_invalid_message("a message must be a JSON object")
            return
        problem = message_problem(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        if message.get("type") == "connection_init" and message.get("payload", {}) is None:
            # The protocol allows a null payload; strawberry closed 4400 for it. No payload
            # carries no token: 4403 as for any init without one.
            message = {"type": "connection_init"}
        await super().handle_message(message)

    async def handle_invalid_message(self, error_message: str) -> None:
        await self.websocket.close(code=4400, reason=close_reason(error_message))

    @staticmethod
    def _get_pre_execution_close_reason(error: GraphQLError) -> str | None:
        # A syntax error quotes the caller's token ("Unexpected Name 'xxx…'"): cut to fit.
        reason = BaseGraphQLTransportWSHandler._get_pre_execution_close_reason(error)
        return None if reason is None else close_reason(reason)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        # message_problem has checked the shape: ``id`` a short string, ``payload`` an object.
        payload: Any = message["payload"]
        op_id = message["id"]
        if not self.connection_acknowledged:
            await super().handle_subscribe(message)  # strawberry's close 4401
            return
        if op_id in self.operations:
            # Strawberry's 4409 quotes the id whole, which may not fit a close frame.
            reason = close_reason(f"Subscriber for {echo(op_id)} already exists")
            await self.websocket.close(code=4409, reason=reason)
            return
        # A subscribe is a request of its subject's (hub/rate_limit.py), as a POST is: over
        # the rate, the protocol's "error" with the seconds to wait; the socket goes on.
        limiter: RateLimiter = self.view.rate_limiter  # type: ignore[attr-defined]
        wait = limiter.take(self._subject())
        if wait:
            text = refusal_text(wait)
            await self._refuse(op_id, RATE_LIMITED, text, retryAfter=retry_after(wait))
            return
        limit = self.max_subscriptions_per_connection
        if limit is not None and len(self.operations) >= limit:
            # The protocol's "error" (the socket and its other subscriptions go on), with a code.
            text = (
                f"at most {limit} subscriptions at once on one socket "
                "(C360_MAX_SUBSCRIPTIONS_PER_CONNECTION): complete one or open another socket"
            )
            await self._refuse(op_id, TOO_MANY_SUBSCRIPTIONS, text, max=limit)
            return
        subject = self._subject()
        per_subject = self.view.settings.max_subscriptions_per_subject  # type: ignore[attr-defined]
        if SubscriptionsOnlyHandler.running.get(subject, 0) >= per_subject:
            # One token opened 300 sockets of 10 subscriptions: starting them held the loop
            # (and /readyz) for seconds. Each socket is capped; so is the subject.
            text = (
                f"at most {per_subject} subscriptions at once for one user, over all sockets "
                "(C360_MAX_SUBSCRIPTIONS_PER_SUBJECT): complete one first"
            )
            await self._refuse(op_id, TOO_MANY_SUBSCRIPTIONS, text, max=per_subject)
            return
        # The slot is taken before the parse (an await): sockets of one subject subscribing
        # at once cannot all pass the check. Given back when the operation ends, or now.
        self._take(subject)
        started = False
        try:
            started = await self._subscribe(message, payload, op_id)
        finally:
            if not started:
                self._give(subject)
            else:
                task = self.operations[op_id].task
                if task is None:
                    self._give(subject)
                else:
                    task.add_done_callback(lambda _task: self._give(subject))

    async def _subscribe(self, message: SubscribeMessage, payload: Any, op_id: str) -> bool:
        """The rest of :meth:`handle_subscribe`: True when the operation started."""
        query = payload.get("query")
        persisted: PersistedQueries = self.view.persisted  # type: ignore[attr-defined]
        try:
            query = persisted.resolve(query, payload.get("extensions"), self._subject())
        except PersistedQueryError as exc:
            await self._refuse(op_id, exc.code, exc.message)
            return False
        if query is None:
            await self._refuse(op_id, BAD_REQUEST, "No GraphQL query found in the request")
            return False
        max_tokens = self.view.settings.max_tokens  # type: ignore[attr-defined]
        try:
            # In a thread: a document up to C360_MAX_BODY_BYTES of comments takes a while to
            # parse, and the loop serves every other socket and request meanwhile.
            kind, document = await asyncio.to_thread(
                operation_type, query, payload.get("operationName"), max_tokens
            )
        except NoOperationSelected as exc:
            await self._refuse(op_id, BAD_REQUEST, str(exc))
            return False
        if kind is not None and kind is not OperationType.SUBSCRIPTION:
            await self._refuse(op_id, OPERATION_NOT_SUPPORTED, QUERIES_OVER_HTTP)
            return False
        if document is not None:
            # Control characters, as over HTTP (schema/extensions/input_hygiene.py): that
            # extension's refusal is a result set before execution, which a subscription
            # ignores (no error, no complete, no events).
            errors = input_errors(document, payload.get("variables"))
            if errors:
                await self._send_errors(op_id, errors)
                return False
        message["payload"]["query"] = query  # the listed document a hash stands for
        await super().handle_subscribe(message)
        return op_id in self.operations

    # Subscriptions running per token subject in this process, over all its sockets.
    running: ClassVar[dict[str, int]] = {}

    def _subject(self) -> str:
        principal = getattr(self.context, "principal", None)
        return str(getattr(principal, "subject", ""))

    @classmethod
    def _take(cls, subject: str) -> None:
        cls.running[subject] = cls.running.get(subject, 0) + 1

    @classmethod
    def _give(cls, subject: str) -> None:
        left = cls.running.get(subject, 0) - 1
        if left > 0:
            cls.running[subject] = left
        else:
            cls.running.pop(subject, None)

    async def _refuse(self, op_id: str, code: str, text: str, **extensions: Any) -> None:
        # graphql-transport-ws "error": the operation ends here, nothing was executed.
        error = GraphQLError(text, extensions={"code": code, **extensions})
        await self._send_errors(op_id, [error])

    async def _send_errors(self, op_id: str, errors: list[GraphQLError]) -> None:
        payload = [error.formatted for error in errors]
        await self.send_message({"id": op_id, "type": "error", "payload": payload})


__all__ = [
    "CLOSE_REASON_MAX",
    "EXPIRED",
    "EXPIRED_CODE",
    "OPERATION_ID_MAX",
    "QUERIES_OVER_HTTP",
    "TOO_MANY_SUBSCRIPTIONS",
    "NoOperationSelected",
    "SubscriptionsOnlyHandler",
    "close_reason",
    "message_problem",
    "operation_type",
    "ws_limits",
]
