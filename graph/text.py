"""Strings the graph cannot be given: control characters and lone surrogates.

The FalkorDB client writes parameters into the query text, where a NUL ends it early; lone
surrogates cannot be encoded at all. Callers refuse such input up front (GraphQL arguments:
BAD_USER_INPUT; webhook items: 400). Tab, line feed and carriage return are ordinary text.
"""

from __future__ import annotations

import re
from typing import Any

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def has_control(value: Any) -> bool:
    """True when ``value`` (JSON-like) holds a control character in a string or a key."""
    if isinstance(value, str):
        return CONTROL.search(value) is not None
    if isinstance(value, dict):
        return any(has_control(k) or has_control(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_control(v) for v in value)
    return False


__all__ = ["CONTROL", "has_control"]
