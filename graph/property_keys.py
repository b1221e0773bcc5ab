"""Property names a Cypher query names literally (``c.id``, ``{kind: ...}``).

Why: FalkorDB (4.16) logs writes as effects that carry a bare attribute *id*; the attribute's
name is logged only inside the effects of a query that created it while executing. A name
first seen while a query is *compiled* gets its id then, unlogged: when that query writes
nothing, or another write commits first using the id, replaying the log numbers the names
differently (values land under other names, or the server crashes on read). So every name a
write mentions literally is created first by ``DECLARE_KEYS``, which creates it while
executing (``SET n += $keys``), so the log names it before any effect uses its id.
"""

from __future__ import annotations

import re
from typing import LiteralString

# `x.name` (not a call like `db.indexes(`) and `{name:` / `, name:` map keys.
_ACCESS = re.compile(r"\.\s*([A-Za-z_]\w*)\b(?!\s*\()")
_MAP_KEY = re.compile(r"[{,]\s*([A-Za-z_]\w*)\s*:(?!:)")
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")

# One logged write that creates the names at run time and leaves no node behind.
DECLARE_KEYS: LiteralString = "CREATE (n) SET n += $keys DELETE n"


def literal_property_names(query: str) -> frozenset[str]:
    """Names the query may use as properties (a superset: map keys and param fields too;
    declaring an unused name is harmless)."""
    text = _STRING.sub("''", query)
    return frozenset(_ACCESS.findall(text)) | frozenset(_MAP_KEY.findall(text))


__all__ = ["DECLARE_KEYS", "literal_property_names"]
