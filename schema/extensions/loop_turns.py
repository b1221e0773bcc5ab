"""Async fields take a turn on the event loop before their value is completed.

graphql-core completes a resolved list in one go (100 customers with all their fields, then
the next alias's 100, ...), and when many async fields resolve together their completions run
back to back. :func:`install` wraps the graphql-core resolver of every field with an async
resolver so that completing its value waits for a turn (shared.loop_turns); sync fields are
left untouched and cost nothing extra.
"""

from __future__ import annotations

from collections.abc import Callable
from inspect import isawaitable
from typing import Any

import strawberry

from schema.extensions.schema_fields import object_fields
from shared.loop_turns import after_turn


def _paced(resolve: Callable[..., Any]) -> Callable[..., Any]:
    # Positional-only: a field may have an argument called ``source`` or ``info``.
    def run(source: Any, info: Any, /, **kwargs: Any) -> Any:
        result = resolve(source, info, **kwargs)
        return after_turn(result) if isawaitable(result) else result

    return run


def install(schema: strawberry.Schema) -> int:
    """Wrap the resolvers of async fields; returns how many were wrapped."""
    wrapped = 0
    # Subscription fields resolve to streams, not values.
    for field, definition in object_fields(schema, subscriptions=False):
        if definition is None or not definition.is_async or field.resolve is None:
            continue
        field.resolve = _paced(field.resolve)
        wrapped += 1
    return wrapped


__all__ = ["install"]
