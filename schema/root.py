"""The root schema, assembled from per-domain query and mutation classes.

A new domain adds its classes to QUERIES / MUTATIONS; nothing else changes.
"""

from __future__ import annotations

import strawberry
from strawberry.tools import merge_types

from hub.settings import Settings
from schema.customer import CustomerQuery
from schema.customer_mutations import CustomerMutation
from schema.extensions.errors import ErrorCodes
from schema.extensions.limits import ExtensionFactory, limit_extensions

QUERIES: tuple[type, ...] = (CustomerQuery,)
MUTATIONS: tuple[type, ...] = (CustomerMutation,)


def build_schema(
    settings: Settings, extensions: list[ExtensionFactory] | None = None
) -> strawberry.Schema:
    """The schema with the hardening extensions for ``settings``; ``extensions`` (e.g. the
    privacy layer's) run inside the error masking."""
    query = merge_types("Query", QUERIES)
    mutation = merge_types("Mutation", MUTATIONS) if MUTATIONS else None
    return strawberry.Schema(
        query=query,
        mutation=mutation,
        extensions=[*limit_extensions(settings), *(extensions or []), ErrorCodes],
    )


__all__ = ["MUTATIONS", "QUERIES", "build_schema"]
