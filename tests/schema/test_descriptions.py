"""The schema documents itself: GraphiQL and introspection show a description for every type
of ours, and for every field of the types clients use most."""

from __future__ import annotations

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    specified_scalar_types,
)

from hub.settings import Settings
from schema.root import build_schema

# The types frontends build on first: every field of each is described.
CORE_TYPES = (
    "Customer",
    "Consents",
    "Account",
    "Transaction",
    "Interaction",
    "Product",
    "Household",
    "HouseholdMember",
    "RelatedCustomer",
    "Advisor",
    "Branch",
    "ChurnRisk",
    "Post",
    "PostMetrics",
    "SocialAccount",
    "Sentiment",
    "SentimentProbabilities",
    "SentimentSummary",
    "SentimentBucket",
    "EmotionCounts",
    "PageInfo",
    "CareTask",
    "Recommendation",
    "Campaign",
    "Query",
    "Mutation",
)


@pytest.fixture(scope="module")
def graphql_schema() -> GraphQLSchema:
    return build_schema(Settings())._schema


def _ours(schema: GraphQLSchema) -> dict[str, GraphQLNamedType]:
    """Every named type but the introspection ones and GraphQL's own scalars."""
    return {
        name: t
        for name, t in schema.type_map.items()
        if not name.startswith("__") and name not in specified_scalar_types
    }


def _is_connection(name: str) -> bool:
    return name.endswith(("Connection", "Edge"))


def test_every_type_of_ours_is_described(graphql_schema: GraphQLSchema) -> None:
    types = _ours(graphql_schema)
    assert "Customer" in types and "Long" in types  # the walk sees our types
    missing = sorted(name for name, t in types.items() if not (t.description or "").strip())
    assert missing == []


def test_every_field_of_the_core_types_is_described(graphql_schema: GraphQLSchema) -> None:
    types = _ours(graphql_schema)
    names = [*CORE_TYPES, *sorted(n for n in types if _is_connection(n))]
    assert "CustomerConnection" in names and "PostEdge" in names
    missing = []
    for name in names:
        t = types[name]
        assert isinstance(t, GraphQLObjectType | GraphQLInputObjectType | GraphQLInterfaceType), (
            name
        )
        missing += [
            f"{name}.{field}"
            for field, definition in t.fields.items()
            if not (definition.description or "").strip()
        ]
    assert missing == []


def test_every_input_field_is_described(graphql_schema: GraphQLSchema) -> None:
    missing = [
        f"{name}.{field}"
        for name, t in _ours(graphql_schema).items()
        if isinstance(t, GraphQLInputObjectType)
        for field, definition in t.fields.items()
        if not (definition.description or "").strip()
    ]
    assert sorted(missing) == []


def test_enum_values_whose_meaning_is_not_obvious_are_described(
    graphql_schema: GraphQLSchema,
) -> None:
    expected = {
        "LifecycleStage": ("NEW", "ACTIVE", "LOYAL", "DORMANT", "CHURNED"),
        "TaskKind": ("BIRTHDAY", "MATURITY", "BALANCE_DROP", "COMPLAINT", "CHURN_RISK"),
        "Segment": ("HIGH", "MIDDLE", "MASS"),
        "SentimentLabel": ("UNSUPPORTED",),
        "AlertKind": ("VOLUME", "NEGATIVE_SHARE"),
        "DeliveryStatus": ("DELIVERED", "DEAD"),
    }
    missing = []
    for name, values in expected.items():
        t = graphql_schema.type_map[name]
        assert isinstance(t, GraphQLEnumType)
        missing += [f"{name}.{v}" for v in values if not (t.values[v].description or "").strip()]
    assert missing == []
