"""Errors leave the API with a code and a safe message, never a stack trace.

Known errors keep their message (ApiError, privacy errors) or get a fixed one (graph down);
anything else becomes "Unexpected error." with code INTERNAL_SERVER_ERROR and is logged here.
While introspection is off, graphql-core's own messages (validation, variable coercion) keep
only the names the caller wrote: "Cannot query field 'x' on type 'Customer'" named a type the
caller never did, as did required arguments and input fields, enum and expected types.
Whatever they quote of the caller's input is capped (schema/extensions/quoted_input.py).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from graph.errors import GraphTimeout, GraphUnavailable
from privacy.types import PolicyUnavailable, PrivacyError
from resolvers.errors import ApiError
from schema.extensions.quoted_input import QUOTE_MAX, cap_quoted, long_values

log = logging.getLogger("c360.graphql")

GRAPH_UNAVAILABLE = "GRAPH_UNAVAILABLE"


def _masked(error: GraphQLError) -> bool:
    """Parse/validation errors have no original error and no path; their messages are about
    the query. An error at a path without a code is graphql-core's own while completing the
    answer (a value our Int cannot serialize, an enum value it does not know): the value is
    ours, not the caller's, so it is masked (and logged) like any unexpected error."""
    original = error.original_error
    if isinstance(original, ApiError):
        return False
    if error.path is not None and not (error.extensions or {}).get("code"):
        return True
    return original is not None and not isinstance(original, GraphQLError)


_QUOTED = re.compile(r"'([^']*)'")
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
HIDDEN = "(hidden)"


def _from_graphql(error: GraphQLError) -> bool:
    """graphql-core's own error about the document or its variables (not one of ours)."""
    original = error.original_error
    return original is None or (
        isinstance(original, GraphQLError) and not isinstance(original, ApiError)
    )


def _document_code(error: GraphQLError) -> str | None:
    """The code of graphql-core's own error about the document or its variables: a syntax
    error, a variable's value that cannot be coerced (it wraps the scalar's error, has no
    path), or a validation error (no original error); None for anything else."""
    if error.original_error is None:
        if error.message.startswith("Syntax Error"):
            return "GRAPHQL_PARSE_FAILED"
        if error.message.startswith("Variable values are nested too deeply"):
            return "BAD_USER_INPUT"
        return "GRAPHQL_VALIDATION_FAILED"
    if error.path is None and _from_graphql(error):
        return "BAD_USER_INPUT"
    return None


def written_names(query: str | None, variables: Any) -> frozenset[str]:
    """Every name in the caller's document and variables: what a message may echo."""
    return frozenset(_NAME.findall(f"{query or ''} {variables or ''}"))


def only_written_names(message: str, written: frozenset[str]) -> str:
    """``message`` with each quoted part that names something the caller did not write (a
    type, an argument, an input field) replaced by "(hidden)": the schema stays unlisted."""

    def quoted(match: re.Match[str]) -> str:
        names = _NAME.findall(match.group(1))
        return match.group(0) if names and set(names) <= written else HIDDEN

    return _QUOTED.sub(quoted, message)


class ErrorCodes(MaskErrors):
    def __init__(self, hide_schema: bool = False) -> None:
        super().__init__(should_mask_error=_masked, error_message="Unexpected error.")
        self.hide_schema = hide_schema
        self._logged: set[str] = set()

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        # Errors about the document itself (parse, validation, variable coercion) get a code
        # too, so clients can tell them apart by code as they do every other error.
        self._logged = set()
        processed = super()._process_errors(errors)
        written: frozenset[str] | None = None
        long: list[str] | None = None
        for error in processed:
            if not (error.extensions or {}).get("code") and (code := _document_code(error)):
                error.extensions = {**(error.extensions or {}), "code": code}
            if not (error.extensions or {}).get("code"):
                # Every error has a code (README): one neither ours nor about the document.
                error.extensions = {**(error.extensions or {}), "code": "INTERNAL_SERVER_ERROR"}
            if len(error.message) > QUOTE_MAX and not isinstance(error.original_error, ApiError):
                # graphql-core's and strawberry's messages quote a bad value whole (ours cap
                # it with shared/echo.py already).
                if long is None:
                    ctx = self.execution_context
                    long = long_values(ctx.query, ctx.graphql_document, ctx.variables)
                error.message = cap_quoted(error.message, long)
            if self.hide_schema and _from_graphql(error):
                if written is None:
                    ctx = self.execution_context
                    written = written_names(ctx.query, ctx.variables)
                error.message = only_written_names(error.message, written)
        return processed

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, GraphUnavailable):
            message, code = (
                "the graph database is unavailable; try again shortly",
                GRAPH_UNAVAILABLE,
            )
        elif isinstance(original, GraphTimeout):
            message, code = (
                "the graph took longer than this request may (C360_REQUEST_TIMEOUT_S) and "
                "stopped the read: ask for less (a shorter time range, fewer items, a simpler "
                "query)",
                "TIMEOUT",
            )
        elif isinstance(original, PrivacyError):
            message, code = original.public_message, original.code
            if isinstance(original, PolicyUnavailable) and str(original) not in self._logged:
                # The client is told "the server log says why": so it must, every time (once
                # per reason and response: a list's fields share one engine failure).
                self._logged.add(str(original))
                log.warning("POLICY_UNAVAILABLE at %s: %s", error.path, original)
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


__all__ = ["GRAPH_UNAVAILABLE", "HIDDEN", "ErrorCodes", "only_written_names", "written_names"]
