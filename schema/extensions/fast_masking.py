"""Plain personal fields masked without strawberry's per-field machinery.

A ``@sensitive`` field that is a plain attribute (no resolver of its own) went through
strawberry's extension path on every resolution: an ``Info`` object, argument conversion and a
chain of partials around :class:`MaskField`, several times the work of the masking itself
(~40 such fields in a 360 answer, 12 000 in a large list). :func:`install` gives those fields a
graphql-core resolver that reads the attribute and calls the same :class:`MaskField` with the
same decision, so the masking, the audit's field log and the SDL stay as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLResolveInfo

from schema.extensions.masking import MaskField
from schema.extensions.schema_fields import object_fields

# On a GraphQLField's extensions: (attribute, MaskField) of a plain masked field, for the
# execution context's path without a resolve info (schema/extensions/plain_fields.py).
MASKED_KEY = "c360-masked"


def _masked_attribute(attr: str, extension: MaskField) -> Callable[..., Any]:
    def resolve(source: Any, info: GraphQLResolveInfo[Any]) -> Any:
        value = getattr(source, attr)
        decision = info.context.privacy.cached(source)
        if decision is None:
            return extension._later(value, source, info)  # type: ignore[arg-type]
        return extension._apply(value, decision, source, info)  # type: ignore[arg-type]

    return resolve


def install(schema: strawberry.Schema) -> int:
    """Replace the resolvers of plain masked fields; returns how many were replaced."""
    replaced = 0
    for field, definition in object_fields(schema):
        if definition is None or definition.base_resolver is not None:
            continue
        extensions = list(definition.extensions or [])
        if len(extensions) != 1 or not isinstance(extensions[0], MaskField):
            continue
        field.resolve = _masked_attribute(definition.python_name, extensions[0])
        field.extensions = {
            **field.extensions,
            MASKED_KEY: (definition.python_name, extensions[0]),
        }
        replaced += 1
    return replaced


__all__ = ["MASKED_KEY", "install"]
