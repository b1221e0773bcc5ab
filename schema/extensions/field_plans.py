"""Selections of plain fields compiled once a request, completed in one loop per object.

graphql-core completes an object field by field: a ``Path``, ``execute_field``,
``complete_value`` and a dict insert per field, and for a list of objects the same again per
item (``complete_list_item_value``, ``complete_object_value``, ``collect_subfields``). In a 360
view most objects are plain all the way down: a transaction page's 20 edges are a cursor and a
node of seven attributes, one of them masked. :func:`compile_plan` turns an object type's
selection into a tuple of entries once per request when every selected field is plain (see
schema/extensions/plain_fields.py: no resolver, argument or extension of its own), a plain
``@sensitive`` leaf, ``__typename``, or a plain attribute holding an object or a list of objects
whose own selection compiles too; :func:`run_plan` completes a source object with it.

It never reports an error itself: anything unusual (a null for a non-null field, a value the
scalar refuses, a masked field whose decision the request does not hold yet, a value that is
not a list, an exception) gives :data:`ORDINARY`, and the caller completes that object on
graphql-core's own path, which answers or reports the error where it belongs. The only side
effect of a plan that gave up half way is the audit note of the masked fields it passed
(``MaskField.shown``), which graphql-core's path notes again into the same sets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLString,
    Undefined,
)
from graphql.execution.collect_fields import FieldDetailsList

from schema.extensions.fast_masking import MASKED_KEY

# On a GraphQLField's extensions: (attribute, leaf type) of a plain leaf field (plain_fields).
PLAIN_KEY = "c360-plain"
# On a GraphQLField's extensions: the attribute of a plain field holding an object or a list
# of objects (no resolver, argument or extension of its own; set by plain_fields.install).
OBJECT_KEY = "c360-plain-object"

# A value the plan does not complete: graphql-core's path does.
ORDINARY: Any = object()

# Entry kinds. TEXT: a plain String or ID leaf, whose scalar gives a ``str`` back as it is
# (graphql-core's serialize_string / serialize_id), so a ``str`` value is not passed through
# it (~200 calls per 360 view); anything else is coerced as a LEAF is.
LEAF, MASKED, OBJECT, TYPENAME, TEXT = range(5)
TEXT_SCALARS = (GraphQLString, GraphQLID)

# (response name, kind, attribute, field name, leaf type or sub-plan, MaskField or None,
#  non-null, list (0: no list, 1: list of nullable items, 2: list of non-null items))
Entry = tuple[str, int, str, str, Any, Any, bool, int]
Plan = tuple[Entry, ...]
# (object type, field details) -> the grouped field set of that selection, or None when it
# defers anything (graphql-core's memoized collect_subfields).
Collect = Callable[[GraphQLObjectType, FieldDetailsList], Mapping[str, FieldDetailsList] | None]


def _unwrap(output: Any) -> tuple[Any, bool, int] | None:
    """(named type, non-null, list mode) of ``T``, ``T!``, ``[T]``, ``[T!]``, ``[T]!``,
    ``[T!]!``; None for deeper lists."""
    nonnull = isinstance(output, GraphQLNonNull)
    inner = output.of_type if nonnull else output
    if not isinstance(inner, GraphQLList):
        return inner, nonnull, 0
    item = inner.of_type
    item_nonnull = isinstance(item, GraphQLNonNull)
    named = item.of_type if item_nonnull else item
    if isinstance(named, GraphQLList | GraphQLNonNull):
        return None
    return named, nonnull, 2 if item_nonnull else 1


def compile_plan(
    parent: GraphQLObjectType,
    grouped: Mapping[str, FieldDetailsList],
    collect: Collect,
    depth: int = 0,
) -> Plan | None:
    """The plan for ``grouped`` (a selection of ``parent``), or None when any selected field
    needs graphql-core's path."""
    if depth > 8:
        return None
    entries: list[Entry] = []
    for response_name, details in grouped.items():
        node = details[0].node
        name = node.name.value
        if name == "__typename":
            entries.append((response_name, TYPENAME, parent.name, name, None, None, True, 0))
            continue
        field: GraphQLField | None = parent.fields.get(name)
        if field is None or node.arguments or field.args:
            return None
        extensions = field.extensions
        unwrapped = _unwrap(field.type)
        if unwrapped is None:
            return None
        named, nonnull, listed = unwrapped
        if PLAIN_KEY in extensions and not listed:
            attribute, leaf = extensions[PLAIN_KEY]
            kind = TEXT if any(leaf is scalar for scalar in TEXT_SCALARS) else LEAF
            entries.append((response_name, kind, attribute, name, leaf, None, nonnull, 0))
        elif (
            MASKED_KEY in extensions
            and not listed
            and isinstance(named, GraphQLScalarType | GraphQLEnumType)
        ):
            attribute, mask = extensions[MASKED_KEY]
            entries.append((response_name, MASKED, attribute, name, named, mask, nonnull, 0))
        elif OBJECT_KEY in extensions and isinstance(named, GraphQLObjectType):
            if named.is_type_of is not None:
                return None
            sub_grouped = collect(named, details)
            if sub_grouped is None:
                return None
            sub = compile_plan(named, sub_grouped, collect, depth + 1)
            if sub is None:
                return None
            attribute = extensions[OBJECT_KEY]
            entries.append((response_name, OBJECT, attribute, name, sub, None, nonnull, listed))
        else:
            return None
    return tuple(entries)


def run_plan(plan: Plan, source: Any, privacy: Any) -> Any:
    """The completed dict of ``source`` by ``plan``, or :data:`ORDINARY`. ``privacy``: the
    request's RequestPrivacy (its decision for ``source`` is looked up once per object)."""
    out: dict[str, Any] = {}
    decision: Any = Undefined
    try:
        for response_name, kind, attribute, name, target, mask, nonnull, listed in plan:
            if kind == TYPENAME:
                out[response_name] = attribute
                continue
            value = getattr(source, attribute)
            if kind == TEXT and type(value) is str:
                out[response_name] = value
                continue
            if kind == MASKED:
                if decision is Undefined:
                    # No request privacy (a schema outside the hub) raises: ORDINARY below.
                    decision = privacy.cached(source)
                if decision is None:
                    return ORDINARY  # graphql-core's path waits for the decision
                value = mask.shown(privacy, name, value, decision, source)
            if value is None:
                if nonnull:
                    return ORDINARY
                out[response_name] = None
            elif kind != OBJECT:
                coerced = target.coerce_output_value(value)
                if coerced is None or coerced is Undefined:
                    return ORDINARY
                out[response_name] = coerced
            elif not listed:
                completed = run_plan(target, value, privacy)
                if completed is ORDINARY:
                    return ORDINARY
                out[response_name] = completed
            else:
                if type(value) is not list and type(value) is not tuple:
                    return ORDINARY
                items: list[Any] = []
                for item in value:
                    if item is None:
                        if listed == 2:
                            return ORDINARY
                        items.append(None)
                        continue
                    completed = run_plan(target, item, privacy)
                    if completed is ORDINARY:
                        return ORDINARY
                    items.append(completed)
                out[response_name] = items
    except Exception:
        return ORDINARY
    return out


__all__ = ["OBJECT_KEY", "ORDINARY", "PLAIN_KEY", "Plan", "compile_plan", "run_plan"]
