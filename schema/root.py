"""The root schema, assembled from per-domain query and mutation classes.

A new domain adds its classes to QUERIES / MUTATIONS; nothing else changes.
"""

from __future__ import annotations

import strawberry
from strawberry.extensions import ParserCache
from strawberry.tools import merge_types

from hub.settings import Settings
from schema.customer import CustomerQuery
from schema.customer_mutations import CustomerMutation
from schema.extensions.audit import AuditRequest
from schema.extensions.errors import ErrorCodes
from schema.extensions.limits import ExtensionFactory, limit_extensions
from schema.nba import NbaMutation, NbaQuery
from schema.privacy import PrivacyMutation, PrivacyQuery
from schema.satisfaction import SatisfactionQuery
from schema.social import SocialMutation, SocialQuery

QUERIES: tuple[type, ...] = (
    CustomerQuery,
    SocialQuery,
    PrivacyQuery,
    NbaQuery,
    SatisfactionQuery,
)
MUTATIONS: tuple[type, ...] = (CustomerMutation, SocialMutation, PrivacyMutation, NbaMutation)


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
        extensions=[
            # First in, last out: it sees the final result, errors of later extensions included.
            ErrorCodes,
            # Repeated operations skip parsing (a module-level LRU shared across requests).
            lambda: ParserCache(maxsize=256),
            *limit_extensions(settings),
            # Outside the data it guards: it drops the data when the record cannot be written.
            AuditRequest,
            *(extensions or []),
        ],
    )


__all__ = ["MUTATIONS", "QUERIES", "build_schema"]
