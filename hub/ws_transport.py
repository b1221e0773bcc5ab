"""The websocket side of /graphql (graphql-transport-ws): subscriptions only, held to the
same persisted-query allow-list as HTTP, both checked when a ``subscribe`` message arrives.

Persisted queries: in "only" mode an unlisted document is refused before it is parsed, with
the code HTTP gives (``PERSISTED_QUERY_NOT_ALLOWED``); a hash may stand for its document.

Subscriptions only: a query or mutation sent over the socket would run on the connection's
context, which has no principal-bound privacy context of its own, no request log, body limit
or timeout; it answered POLICY_UNAVAILABLE ("no principal"). Serving it would need a second
copy of the HTTP path's privacy, audit and limits kept equal forever; refusing it (code
``OPERATION_NOT_SUPPORTED``) leaves one path for reads and writes of personal data.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, OperationType, get_operation_ast, parse
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    Message,
    SubscribeMessage,
)

from hub.graphql_http import BAD_REQUEST, OPERATION_NOT_SUPPORTED
from hub.persisted import PersistedQueries, PersistedQueryError
from schema.extensions.operation_selection import MUST_NAME, needs_operation_name
from shared.echo import echo

QUERIES_OVER_HTTP = (
    "the websocket serves subscriptions only; send queries and mutations to POST /graphql"
)


class NoOperationSelected(ValueError):
    """The document holds no operation by the given name, or several and no name was given:
    BAD_REQUEST, as over HTTP. (Left to strawberry, an unknown name got a bare ``complete``
    and several unnamed operations "Unexpected error." with a logged stack trace.)"""


def operation_type(query: str, operation_name: Any, max_tokens: int) -> OperationType | None:
    """The type of the operation ``query`` names, or None when the document does not parse
    or mixes an anonymous operation with others (strawberry then answers with the syntax or
    validation error); NoOperationSelected when the name picks no operation."""
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return None
    name = operation_name if isinstance(operation_name, str) else None
    if needs_operation_name(document, name):
        raise NoOperationSelected(MUST_NAME)
    operation = get_operation_ast(document, name)
    if operation is None and name is not None:
        raise NoOperationSelected(f'Unknown operation named "{echo(name)}".')
    return operation.operation if operation is not None else None


class SubscriptionsOnlyHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    async def handle_message(self, message: Message) -> None:
        # A JSON frame that is not an object (``[]``, ``"x"``) would reach strawberry's
        # ``message["type"]`` as a TypeError that ends the connection with a server error;
        # it is an invalid message like an unknown type: close 4400.
        if not isinstance(message, dict):
            await self.handle_invalid_message("a message must be a JSON object")
            return
        await super().handle_message(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload: Any = message.get("payload")
        if (
            not self.connection_acknowledged
            or message["id"] in self.operations
            or not isinstance(payload, dict)
        ):
            # Strawberry's own answers: close 4401 / 4409 / 4400.
            await super().handle_subscribe(message)
            return
        query = payload.get("query")
        if query is not None and not isinstance(query, str):
            await self._refuse(message["id"], BAD_REQUEST, "payload.query must be a string")
            return
        persisted: PersistedQueries = self.view.persisted  # type: ignore[attr-defined]
        try:
            query = persisted.resolve(query, payload.get("extensions"))
        except PersistedQueryError as exc:
            await self._refuse(message["id"], exc.code, exc.message)
            return
        if query is None:
            await self._refuse(message["id"], BAD_REQUEST, "No GraphQL query found in the request")
            return
        max_tokens = self.view.settings.max_tokens  # type: ignore[attr-defined]
        try:
            kind = operation_type(query, payload.get("operationName"), max_tokens)
        except NoOperationSelected as exc:
            await self._refuse(message["id"], BAD_REQUEST, str(exc))
            return
        if kind is not None and kind is not OperationType.SUBSCRIPTION:
            await self._refuse(message["id"], OPERATION_NOT_SUPPORTED, QUERIES_OVER_HTTP)
            return
        message["payload"]["query"] = query  # the listed document a hash stands for
        await super().handle_subscribe(message)

    async def _refuse(self, op_id: str, code: str, text: str) -> None:
        # graphql-transport-ws "error": the operation ends here, nothing was executed.
        error = GraphQLError(text, extensions={"code": code})
        await self.send_message({"id": op_id, "type": "error", "payload": [error.formatted]})


__all__ = [
    "QUERIES_OVER_HTTP",
    "NoOperationSelected",
    "SubscriptionsOnlyHandler",
    "operation_type",
]
