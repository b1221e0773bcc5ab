"""The one walk over a built schema's object fields that the resolver installers share
(fast_masking, loop_turns, plain_fields)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import GraphQLField, GraphQLObjectType

DEFINITION_KEY = "strawberry-definition"


def object_fields(
    schema: strawberry.Schema, *, subscriptions: bool = True
) -> Iterator[tuple[GraphQLField, Any]]:
    """(graphql-core field, its strawberry definition) of every non-introspection object type;
    the definition is None for fields strawberry did not define."""
    for named in schema._schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        if not subscriptions and named is schema._schema.subscription_type:
            continue
        for field in named.fields.values():
            yield field, (field.extensions or {}).get(DEFINITION_KEY)


__all__ = ["DEFINITION_KEY", "object_fields"]
