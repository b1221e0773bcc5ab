"""A document with several operations must name the one to run (GraphQL spec, "GetOperation":
"Must provide operation name if query contains multiple operations.").

strawberry picks the document's first operation when no ``operationName`` is given, so
``query A {...} query B {...}`` ran A silently. Checked right after parsing (the parser cache
has set the document), before the operation type is read, and raised as strawberry's own
operation-selection error, which the HTTP view answers 400 BAD_REQUEST like an unknown
operationName (hub/app.py); the websocket refuses such a ``subscribe`` itself, before
strawberry sees it (hub/ws_transport.py).
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import DocumentNode, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError

MUST_NAME = "Must provide operation name if query contains multiple operations."


class OperationNameNeeded(CannotGetOperationTypeError):
    def __init__(self) -> None:
        super().__init__(None)

    def as_http_error_reason(self) -> str:
        return MUST_NAME


def needs_operation_name(document: DocumentNode, operation_name: str | None) -> bool:
    """Whether ``document`` holds several operations and ``operation_name`` picks none. An
    anonymous one among several is refused by validation, more precisely ("This anonymous
    operation must be the only defined operation."): no name would help there."""
    if operation_name is not None:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return len(operations) > 1 and all(o.name is not None for o in operations)


class OneOperationOrNamed(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        yield
        ctx = self.execution_context
        # The name the request gave (strawberry's ``operation_name`` falls back to the first
        # operation's, which is what hid the ambiguity).
        # A private attribute (strawberry 0.341): should a release drop it, the public name is
        # used, which lets the ambiguity through (tests/api/test_api_qa16.py fails) rather
        # than failing every request.
        given = getattr(ctx, "_provided_operation_name", ctx.operation_name)
        document = ctx.graphql_document
        if document is not None and needs_operation_name(document, given):
            raise OperationNameNeeded


__all__ = ["MUST_NAME", "OneOperationOrNamed", "OperationNameNeeded", "needs_operation_name"]
