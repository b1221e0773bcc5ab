"""Caller input that graphql-core's (and strawberry's) own messages quote back, cut short.

Their coercion and validation messages quote a value whole: a 200 000-character DateTime
variable, enum value, literal or field name came back as a 200 KB message. Every long value
the caller sent (a variable's string, a dict key, a name, a string or number literal of the
document) is replaced in a message by its first :data:`QUOTE_MAX` characters and its length
(shared/echo.py), in each form a message prints it (as sent, escaped as GraphQL prints strings,
as Python's repr); what still exceeds :data:`MESSAGE_MAX` (a value escaped some other way) is
cut there, so no message quotes more than a few hundred characters of input.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    EnumValueNode,
    FloatValueNode,
    IntValueNode,
    NameNode,
    Node,
    StringValueNode,
)
from graphql.language.print_string import print_string

from shared.echo import echo

# Characters of one quoted value a message keeps (graphql-core's own ``inspect`` limit).
QUOTE_MAX = 240
# The longest message that quotes input: a template and a few capped values.
MESSAGE_MAX = 1_000
# Long values tried per message, longest first; the rest fall to MESSAGE_MAX.
VALUES_TRIED = 16
_LONG_NAME = re.compile(rf"[_A-Za-z][_0-9A-Za-z]{{{QUOTE_MAX},}}")


def long_values(query: str | None, document: DocumentNode | None, variables: Any) -> list[str]:
    """The caller's values over QUOTE_MAX characters, longest first (at most VALUES_TRIED)."""
    found: set[str] = set(_strings(variables))
    if document is not None:
        found.update(_literals(document))
    elif query:  # a document that did not parse: its long names (a syntax error quotes them)
        found.update(_LONG_NAME.findall(query))
    ordered = sorted((v for v in found if len(v) > QUOTE_MAX), key=len, reverse=True)
    return ordered[:VALUES_TRIED]


def cap_quoted(message: str, values: list[str]) -> str:
    """``message`` with each of ``values`` it quotes capped, and at most MESSAGE_MAX long."""
    for value in values:
        short = echo(value, QUOTE_MAX)
        for form in _forms(value):
            if form in message:
                message = message.replace(form, short)
    return echo(message, MESSAGE_MAX)


def _forms(value: str) -> Iterator[str]:
    yield value
    yield print_string(value)[1:-1]
    yield json.dumps(value, ensure_ascii=False)[1:-1]
    yield repr(value)[1:-1]


def _strings(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for key, inner in item.items():
                yield str(key)
                stack.append(inner)
        elif isinstance(item, list):
            stack.extend(item)


def _literals(document: DocumentNode) -> Iterator[str]:
    """Names and scalar literals of ``document`` (its AST, without recursion)."""
    stack: list[Any] = [document]
    while stack:
        item = stack.pop()
        if isinstance(
            item, NameNode | StringValueNode | IntValueNode | FloatValueNode | EnumValueNode
        ):
            yield item.value
        elif isinstance(item, Node):
            stack.extend(getattr(item, key) for key in item.keys if key != "loc")
        elif isinstance(item, tuple | list):
            stack.extend(item)


__all__ = ["MESSAGE_MAX", "QUOTE_MAX", "cap_quoted", "long_values"]
