"""Errors leave the API with a code and a safe message, never a stack trace.

Known errors keep their message (ApiError, privacy errors) or get a fixed one (graph down);
anything else becomes "Unexpected error." with code INTERNAL_SERVER_ERROR and is logged here.
"""

from __future__ import annotations

import logging

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from graph.errors import GraphUnavailable
from privacy.types import PrivacyError
from resolvers.errors import ApiError

log = logging.getLogger("c360.graphql")

GRAPH_UNAVAILABLE = "GRAPH_UNAVAILABLE"


def _masked(error: GraphQLError) -> bool:
    # Parse/validation errors have no original error; their messages are about the query.
    original = error.original_error
    return original is not None and not isinstance(original, ApiError | GraphQLError)


class ErrorCodes(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=_masked, error_message="Unexpected error.")

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        # Errors about the document itself (parse, validation, variable coercion) get a code
        # too, so clients can tell them apart by code as they do every other error.
        processed = super()._process_errors(errors)
        for error in processed:
            if error.original_error is None and not (error.extensions or {}).get("code"):
                syntax = error.message.startswith("Syntax Error")
                code = "GRAPHQL_PARSE_FAILED" if syntax else "GRAPHQL_VALIDATION_FAILED"
                error.extensions = {**(error.extensions or {}), "code": code}
        return processed

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, GraphUnavailable):
            message, code = (
                "the graph database is unavailable; try again shortly",
                GRAPH_UNAVAILABLE,
            )
        elif isinstance(original, PrivacyError):
            message, code = original.public_message, original.code
        else:
            log.error("unexpected error at %s", error.path, exc_info=original)
            message, code = self.error_message, "INTERNAL_SERVER_ERROR"
        return GraphQLError(
            message=message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions={"code": code},
        )


__all__ = ["GRAPH_UNAVAILABLE", "ErrorCodes"]
