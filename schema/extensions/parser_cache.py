"""strawberry's ParserCache, with documents that do not parse left to strawberry's own parse.

ParserCache parses in its ``on_parse`` hook, outside the try that turns a syntax error into a
result: the GraphQLSyntaxError escaped the operation's hooks, strawberry made the result
after they had run, and ErrorCodes never gave it ``extensions.code`` (nor did the token limit's
error). Here a document the cache cannot parse is left unset, so strawberry parses it again
inside that try (a broken document only: parsed twice) and the error is processed as any.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import ParserCache

# Documents kept parsed. strawberry keeps one LRU per size: schema/root.py and the websocket
# transport's pre-parse (hub/ws_transport.py) share this one by using the same size.
PARSE_CACHE_SIZE = 256


class ParsedOrLeft(ParserCache):
    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        try:
            ctx.graphql_document = self.cached_parse_document(ctx.query, **ctx.parse_options)
        except GraphQLError:
            ctx.graphql_document = None
        yield


__all__ = ["PARSE_CACHE_SIZE", "ParsedOrLeft"]
