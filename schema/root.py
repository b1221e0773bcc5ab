"""The root schema, assembled from per-domain query and mutation classes.

A new domain adds its classes to QUERIES / MUTATIONS; nothing else changes.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from schema.audit_chain import AuditChainQuery
from schema.customer import CustomerQuery
from schema.customer_mutations import CustomerMutation
from schema.extensions import fast_masking, loop_turns, plain_fields
from schema.extensions.audit import AuditRequest
from schema.extensions.client_gone import StopQueryWhenClientGoes
from schema.extensions.errors import ErrorCodes
from schema.extensions.hook_runner import CachedHooksRunner
from schema.extensions.input_hygiene import InputHygiene
from schema.extensions.limits import ExtensionFactory, limit_extensions
from schema.extensions.operation_selection import OneOperationOrNamed
from schema.extensions.parser_cache import PARSE_CACHE_SIZE, ParsedOrLeft
from schema.extensions.request_log import RequestLogFacts
from schema.extensions.subscription_audit import SubscriptionAudit
from schema.nba import NbaMutation, NbaQuery
from schema.privacy import PrivacyMutation, PrivacyQuery
from schema.satisfaction import SatisfactionQuery
from schema.scalars import SCALAR_OVERRIDES
from schema.social import SocialMutation, SocialQuery
from schema.subject_requests import SubjectRequestMutation, SubjectRequestQuery
from schema.subscriptions import SocialSubscription
from shared.settings import Settings


class HubSchema(strawberry.Schema):
    # Set by build_schema: no "Did you mean ...?" in variable coercion errors either while
    # introspection is off (validation hides them in schema/extensions/limits.py).
    hide_suggestions = False

    def _get_custom_context_kwargs(
        self, operation_extensions: dict[str, Any] | None = None, *, sync: bool = False
    ) -> dict[str, Any]:
        kwargs = super()._get_custom_context_kwargs(operation_extensions, sync=sync)
        return {**kwargs, "hide_suggestions": self.hide_suggestions}

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        # The extensions' hooks found once per class, not per request (hook_runner.py).
        return CachedHooksRunner(execution_context=execution_context, extensions=extensions)

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # strawberry logs every error with the query text around it; the hub's request log
        # records the error codes instead, and ErrorCodes logs unexpected ones (no values).
        return


QUERIES: tuple[type, ...] = (
    CustomerQuery,
    SocialQuery,
    PrivacyQuery,
    NbaQuery,
    SatisfactionQuery,
    SubjectRequestQuery,
    AuditChainQuery,
)
MUTATIONS: tuple[type, ...] = (
    CustomerMutation,
    SocialMutation,
    PrivacyMutation,
    NbaMutation,
    SubjectRequestMutation,
)
SUBSCRIPTIONS: tuple[type, ...] = (SocialSubscription,)

QUERY_DESCRIPTION = (
    "Reads: customers' 360 views, social listening, next best actions, satisfaction and the "
    "privacy administration. What you see, and how masked, is decided by the privacy policy."
)
MUTATION_DESCRIPTION = (
    "Writes: customer records and interactions, social links, label corrections and alert "
    "rules, campaigns and care tasks, policies and data-subject requests."
)
SUBSCRIPTION_DESCRIPTION = (
    "Live feeds over graphql-transport-ws at /graphql: new mentions and raised alerts, masked "
    "and audited like the queries that show them."
)


def described(root: type, description: str) -> type:
    """A merged root type (strawberry's merge_types takes no description) with one."""
    root.__strawberry_definition__.description = description  # type: ignore[attr-defined]
    return root


def build_schema(
    settings: Settings, extensions: list[ExtensionFactory] | None = None
) -> strawberry.Schema:
    """The schema with the hardening extensions for ``settings``; ``extensions`` (e.g. the
    privacy layer's) run inside the error masking."""
    query = described(merge_types("Query", QUERIES), QUERY_DESCRIPTION)
    mutation = (
        described(merge_types("Mutation", MUTATIONS), MUTATION_DESCRIPTION) if MUTATIONS else None
    )
    schema = HubSchema(
        execution_context_class=plain_fields.PlainFieldsExecutionContext,
        scalar_overrides=SCALAR_OVERRIDES,
        query=query,
        mutation=mutation,
        subscription=described(
            merge_types("Subscription", SUBSCRIPTIONS), SUBSCRIPTION_DESCRIPTION
        ),
        extensions=[
            # Outside everything: it reads the final error codes for the request log.
            RequestLogFacts,
            # First in, last out: it sees the final result, errors of later extensions included.
            lambda: ErrorCodes(hide_schema=not settings.introspection),
            # Repeated operations skip parsing (a module-level LRU shared across requests).
            lambda: ParsedOrLeft(maxsize=PARSE_CACHE_SIZE),
            # Several operations and no operationName: refused, not the first run silently.
            OneOperationOrNamed,
            *limit_extensions(settings),
            InputHygiene,
            # Outside the data it guards: it drops the data when the record cannot be written.
            AuditRequest,
            SubscriptionAudit,
            # A query whose client disconnects is stopped (audited as cut off, above).
            StopQueryWhenClientGoes,
            *(extensions or []),
        ],
    )
    schema.hide_suggestions = not settings.introspection
    fast_masking.install(schema)
    loop_turns.install(schema)
    plain_fields.install(schema)  # after every resolver change: it reads the final resolvers
    return schema


__all__ = ["MUTATIONS", "QUERIES", "SUBSCRIPTIONS", "build_schema"]
