"""What the request log may say about a GraphQL operation: its name, the SHA-256 of its text
and the error codes of the result. Never the text, the variables or any value.

The hub's request-log middleware opens a :class:`RequestFacts` for each HTTP request in a
context variable; this extension fills it in. Outside such a request it does nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from strawberry.extensions import SchemaExtension

OPERATION_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")


@dataclass
class RequestFacts:
    """One request's loggable facts (filled in as the request goes)."""

    request_id: str
    subject: str | None = None
    operation: str | None = None
    query_sha256: str | None = None
    error_codes: list[str] = field(default_factory=list)


current_facts: ContextVar[RequestFacts | None] = ContextVar("c360_request_facts", default=None)


def query_sha256(query: str) -> str:
    return hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest()


class RequestLogFacts(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        facts = current_facts.get()
        if facts is None:
            return
        ctx = self.execution_context
        if ctx.query:
            facts.query_sha256 = query_sha256(ctx.query)
        try:
            name = ctx.operation_name
        except RuntimeError:  # several operations and none named: an error anyway
            name = None
        # The name as sent is client text: logged only when it is a GraphQL name.
        facts.operation = name if name and OPERATION_NAME.fullmatch(name) else None
        result = ctx.result
        errors = (result.errors if result is not None else None) or ctx.pre_execution_errors or []
        for error in errors:
            code = str((error.extensions or {}).get("code") or _code_of(error.message))
            if code not in facts.error_codes:
                facts.error_codes.append(code)


def _code_of(message: str) -> str:
    # graphql-core's own errors carry no code; the names are Apollo's, which clients know.
    return (
        "GRAPHQL_PARSE_FAILED"
        if message.startswith("Syntax Error")
        else ("GRAPHQL_VALIDATION_FAILED")
    )


__all__ = ["RequestFacts", "RequestLogFacts", "current_facts", "query_sha256"]
