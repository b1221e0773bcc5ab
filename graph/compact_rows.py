"""A ``--compact`` GRAPH.QUERY reply as plain rows, without falkordb's QueryResult.

QueryResult builds an OrderedDict per map and a typed object per value, and graph/falkordb.py
then copied each into plain dicts and lists again: two passes over every value of a reply,
most of a small read's Python. :func:`plain_rows` makes the plain rows in one pass. Nodes,
edges and paths name their labels and property keys by id, which only the client's schema
cache (refreshed by a round trip of its own) resolves; a reply holding one is left to
QueryResult (:class:`NeedsSchema`). The values are those QueryResult gives, made plain the
way graph/falkordb.py's ``_plain`` makes them (tests/graph/test_compact_rows.py compares).
"""

from __future__ import annotations

from typing import Any

from falkordb.query_result import PARSE_SCALAR_TYPES
from redis.exceptions import ResponseError

from graph.store import Row

__all__ = ["NeedsSchema", "plain_rows", "reply_error"]

# FalkorDB's compact value types (falkordb.query_result.ResultSetScalarTypes).
_NULL, _STRING, _INTEGER, _BOOLEAN, _DOUBLE, _ARRAY = 1, 2, 3, 4, 5, 6
_EDGE, _NODE, _PATH, _MAP, _POINT = 7, 8, 9, 10, 11
# Types that need no schema: falkordb's own parsers (vector, temporal values, point).
_SCHEMALESS = frozenset({_POINT, 12, 13, 14, 15, 16})


class NeedsSchema(Exception):
    """The reply holds a node, edge, path or a type this parser does not know."""


def reply_error(reply: Any) -> ResponseError | None:
    """The error a reply carries (in place of the reply, first, or as a run-time error last)."""
    if isinstance(reply, ResponseError):
        return reply
    if isinstance(reply, list) and reply:
        for part in (reply[0], reply[-1]):
            if isinstance(part, ResponseError):
                return part
    return None


def plain_rows(reply: list[Any]) -> list[Row]:
    """The rows of a successful compact reply ([header, records, statistics], or statistics
    alone for a query that returns nothing), its strings decoded (hiredis's reader and the
    query threads' redis-py pool both decode them). Raises NeedsSchema (see the module)."""
    if len(reply) == 1:
        return []
    columns = [name for _, name in reply[0]]
    if not columns:
        return []
    return [dict(zip(columns, [_value(c) for c in row], strict=True)) for row in reply[1]]


def _value(cell: list[Any]) -> Any:
    kind, value = cell
    if kind == _STRING:
        return value
    if kind == _INTEGER:
        return int(value)
    if kind == _NULL:
        return None
    if kind == _MAP:
        return _map(value)
    if kind == _ARRAY:
        return [_value(v) for v in value]
    if kind == _DOUBLE:
        return float(value)
    if kind == _BOOLEAN:
        return value == "true"
    if kind in _SCHEMALESS:
        return PARSE_SCALAR_TYPES[kind](value, None)
    raise NeedsSchema(kind)


def _map(value: list[Any]) -> dict[str, Any]:
    # Most of a reply's values are strings in maps (``c {.*}``): those are taken here without
    # a call each (a third of a small read's parsing).
    out: dict[str, Any] = {}
    for i in range(0, len(value), 2):
        kind, item = value[i + 1]
        out[value[i]] = item if kind == _STRING else _value(value[i + 1])
    return out
