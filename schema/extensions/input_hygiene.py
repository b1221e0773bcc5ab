"""Refuse control characters in string input before anything runs.

A NUL or other control character in an argument reached the graph client, which writes it
into the query text: an INTERNAL_SERVER_ERROR. Here it is BAD_USER_INPUT naming the argument
(literals) or the variable and the arguments it feeds. Tab, line feed and carriage return stay
allowed (notes have lines); lone surrogates are refused too (they cannot be encoded).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    GraphQLError,
    ListValueNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    Visitor,
    visit,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from graph.text import CONTROL, has_control

BAD_USER_INPUT = "BAD_USER_INPUT"


def _literal_bad(node: ValueNode) -> bool:
    if isinstance(node, StringValueNode):
        return CONTROL.search(node.value) is not None
    if isinstance(node, ListValueNode):
        return any(_literal_bad(v) for v in node.values)
    if isinstance(node, ObjectValueNode):
        return any(_literal_bad(f.value) for f in node.fields)
    return False


def _variables_in(node: ValueNode) -> Iterator[str]:
    if isinstance(node, VariableNode):
        yield node.name.value
    elif isinstance(node, ListValueNode):
        for v in node.values:
            yield from _variables_in(v)
    elif isinstance(node, ObjectValueNode):
        for f in node.fields:
            yield from _variables_in(f.value)


class _Arguments(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.bad_literals: list[str] = []
        self.fed_by: dict[str, list[str]] = {}

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
        if _literal_bad(node.value):
            self.bad_literals.append(node.name.value)
        for variable in _variables_in(node.value):
            self.fed_by.setdefault(variable, []).append(node.name.value)


# Parsed documents are cached (ParserCache), so a repeated operation is the same object: its
# walk is kept (with the document, so an id is never reused for another) and done once.
_WALKED: dict[int, tuple[DocumentNode, _Arguments]] = {}
_WALKED_MAX = 256


def _arguments(document: DocumentNode) -> _Arguments:
    seen = _WALKED.get(id(document))
    if seen is not None and seen[0] is document:
        return seen[1]
    arguments = _Arguments()
    visit(document, arguments)
    if len(_WALKED) >= _WALKED_MAX:
        _WALKED.pop(next(iter(_WALKED)))
    _WALKED[id(document)] = (document, arguments)
    return arguments


def input_errors(document: DocumentNode, variables: dict[str, Any] | None) -> list[GraphQLError]:
    """BAD_USER_INPUT errors for control characters in literals and variables."""
    arguments = _arguments(document)
    errors = [
        GraphQLError(
            f"argument '{name}' contains a control character",
            extensions={"code": BAD_USER_INPUT, "argument": name},
        )
        for name in dict.fromkeys(arguments.bad_literals)
    ]
    for variable, value in (variables or {}).items():
        if has_control(value):
            fed = sorted(set(arguments.fed_by.get(variable, [])))
            where = f" (argument {', '.join(repr(a) for a in fed)})" if fed else ""
            errors.append(
                GraphQLError(
                    f"variable '${variable}'{where} contains a control character",
                    extensions={"code": BAD_USER_INPUT, "variable": variable, "arguments": fed},
                )
            )
    return errors


class InputHygiene(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.graphql_document is not None:
            errors = input_errors(ctx.graphql_document, ctx.variables)
            if errors:
                # A result set before execution is what strawberry returns instead of running.
                ctx.result = ExecutionResult(data=None, errors=errors)
        yield


__all__ = ["BAD_USER_INPUT", "InputHygiene", "input_errors"]
