"""FalkorDB's ``CYPHER name=value ...`` parameter header, built in C-speed steps.

FalkorDB takes query parameters as Cypher literals in a header before the query. The client
builds it with a recursive Python function (several microseconds per value), which made the
Python side, not the server, the ceiling of batched imports. Here each parameter is encoded by
orjson in one call and JSON is turned into Cypher by replacing its few distinct keys: strings,
numbers, booleans, null, lists and objects are Cypher literals already, except that object keys
are written as backtick-quoted names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson
from falkordb.helpers import stringify_param_value

# ``"name":`` is always an object key: inside a JSON string every quote is escaped (so no
# string content ends a quoted name with ``":``), and a value string is followed by , } or ].
_KEY = re.compile(r'[{,]"([^"\\`]*)":')  # the [{,] anchor makes the scan fast
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _literal(name: str, value: Any) -> str:
    try:
        text = orjson.dumps(value).decode()
    except TypeError as exc:
        # An int beyond 64 bits (FalkorDB's integers), a lone surrogate, an unknown type.
        raise ValueError(f"parameter {name!r} cannot be sent to the graph: {exc}") from None
    if "\\u" in text:
        # orjson writes control characters as \u00XX, which FalkorDB reads literally: let the
        # client's own (slow, rare) encoder handle such a value.
        slow = str(stringify_param_value(value))
        if "\x00" in slow:
            # That encoder writes strings raw into the query text, where a NUL ends the query
            # early (FalkorDB then reports a parse error far from the cause). Callers refuse
            # such input earlier (graph/text.py); this is the last line for any path.
            raise ValueError(
                f"parameter {name!r} holds a NUL character: it cannot be sent to the graph "
                "(it ends the query text)"
            )
        return slow
    if "{" not in text:
        return text  # no object, so no key to rewrite (lists of values: batched writes)
    # A handful of distinct keys: one C-speed scan to find them, one replace each.
    for key in set(_KEY.findall(text)):
        text = text.replace(f'"{key}":', f"`{key}`:")
    return text


def params_header(params: Mapping[str, Any] | None) -> str:
    """``CYPHER a=1 rows=[{`id`:"x"}] `` for ``{"a": 1, "rows": [{"id": "x"}]}`` ("" if none).

    Values: str, int, float, bool, None, lists/tuples and dicts of them with plain names as
    keys (orjson writes NaN and infinities as null: do not pass them). ValueError for a string
    holding a NUL (FalkorDB would read the query as ending there)."""
    if not params:
        return ""
    parts = []
    for name, value in params.items():
        if not _NAME.match(name):
            raise ValueError(f"parameter name {name!r} is not a Cypher name")
        parts.append(f"{name}={_literal(name, value)}")
    return "CYPHER " + " ".join(parts) + " "


__all__ = ["params_header"]
