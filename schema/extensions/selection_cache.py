"""Collected selections and compiled plans kept across requests, per cached document.

graphql-core collects an object's sub-selection (``collect_subfields``: fragments spread,
fields grouped by response name) once per request and object type, into a memo that lives and
dies with the request: ~17 collections a 360 view, and ~400 objects a request left in the
executor's reference cycle for the garbage collector (the young collections that found them
took 15-25 ms of CPU each under load). The parse cache (strawberry's ``ParserCache``) hands
every request with the same text the same document, so what is collected from its nodes is
the same each time, unless a directive (``@skip``/``@include``/``@defer`` on a variable)
makes it depend on the request: such operations are not cached here at all.

An :class:`OperationCache` is kept per (operation node, schema), the newest
:data:`MAX_OPERATIONS`; it holds the operation and the schema, so the node ids it is keyed by
cannot be reused while it lives.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

MAX_OPERATIONS = 256


class OperationCache:
    """What one operation's executions share: ``collected`` (return type, node ids) ->
    (field details, CollectedFields) and ``plans`` (object type, id of a shared grouped
    field set or field details list) -> (that set, plan or None)."""

    __slots__ = ("collected", "keep", "plans", "usable")

    def __init__(self, keep: tuple[Any, ...]) -> None:
        self.keep = keep  # the operation, schema and fragments: node ids are the key
        self.usable = False  # no directive anywhere: selections do not depend on the request
        self.collected: dict[tuple[Any, ...], tuple[Any, Any]] = {}
        self.plans: dict[tuple[Any, int], tuple[Any, Any]] = {}


_CACHES: OrderedDict[tuple[int, int], OperationCache] = OrderedDict()


def _directed(
    selection_set: SelectionSetNode | None, fragments: dict[str, Any], seen: set[str]
) -> bool:
    """Whether any selection under ``selection_set`` (fragments followed) has a directive."""
    if selection_set is None:
        return False
    for selection in selection_set.selections:
        if selection.directives:
            return True
        if isinstance(selection, FieldNode | InlineFragmentNode):
            if _directed(selection.selection_set, fragments, seen):
                return True
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in seen:
                continue
            seen.add(name)
            fragment = fragments.get(name)
            if isinstance(fragment, FragmentDefinitionNode) and (
                fragment.directives
                or fragment.variable_definitions
                or _directed(fragment.selection_set, fragments, seen)
            ):
                return True
    return False


def operation_cache(
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    schema: Any,
) -> OperationCache | None:
    """The shared cache of ``operation`` on ``schema``; None when the operation's selections
    may depend on the request (any directive on a selection or fragment)."""
    key = (id(operation), id(schema))
    cache = _CACHES.get(key)
    if cache is None or cache.keep[0] is not operation or cache.keep[1] is not schema:
        cache = OperationCache((operation, schema, fragments))
        cache.usable = not _directed(operation.selection_set, fragments, set())
        _CACHES[key] = cache
        while len(_CACHES) > MAX_OPERATIONS:
            _CACHES.popitem(last=False)
    else:
        _CACHES.move_to_end(key)
    return cache if cache.usable else None


__all__ = ["MAX_OPERATIONS", "OperationCache", "operation_cache"]
