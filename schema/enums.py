"""Enums of the customer domain."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

import strawberry
from strawberry.types.enum import StrawberryEnumDefinition

from resolvers.analytics import LifecycleStage as _LifecycleStage
from resolvers.analytics import Segment as _Segment


def describe_values(enum: type[StrEnum], descriptions: Mapping[str, str]) -> None:
    """Give the values of an enum registered with strawberry.enum their GraphQL descriptions
    (a StrEnum's members cannot be ``strawberry.enum_value``s, and the enums of other packages
    are registered here, not where they are defined)."""
    definition = enum.__strawberry_definition__  # type: ignore[attr-defined]
    assert isinstance(definition, StrawberryEnumDefinition)
    unknown = set(descriptions) - {v.name for v in definition.values}
    assert not unknown, f"{definition.name} has no values {sorted(unknown)}"
    for value in definition.values:
        value.description = descriptions.get(value.name, value.description)


@strawberry.enum(description="The kind of an account.")
class AccountType(StrEnum):
    SAVINGS = "SAVINGS"
    CHECKING = "CHECKING"
    CREDIT_CARD = "CREDIT_CARD"
    LOAN = "LOAN"
    WEALTH = "WEALTH"


describe_values(
    AccountType,
    {
        "SAVINGS": "a savings account",
        "CHECKING": "a checking (current) account",
        "CREDIT_CARD": "a credit card account; not counted in totalAssets",
        "LOAN": "a loan; not counted in totalAssets",
        "WEALTH": "a wealth-management account",
    },
)


@strawberry.enum(description="How a customer holds an account.")
class AccountRole(StrEnum):
    OWNER = "OWNER"
    JOINT = "JOINT"


describe_values(
    AccountRole,
    {"OWNER": "the account's owner", "JOINT": "one of several owners (a joint account)"},
)


# strawberry.enum registers the class itself (and returns it): the names are the classes, so
# type checkers see enums.
Segment = _Segment
strawberry.enum(
    Segment,
    name="Segment",
    description="A customer's value segment by totalAssets, against the hub's configured "
    "bounds (C360_SEGMENT_HIGH_ASSETS, C360_SEGMENT_MIDDLE_ASSETS).",
)
describe_values(
    Segment,
    {
        "HIGH": "total assets at or above the high bound",
        "MIDDLE": "total assets at or above the middle bound, below the high one",
        "MASS": "total assets below the middle bound",
    },
)
LifecycleStage = _LifecycleStage
strawberry.enum(
    LifecycleStage,
    name="LifecycleStage",
    description="Where a customer is in their relationship with the bank, from tenure, "
    "activity (transactions, interactions) and account statuses.",
)
describe_values(
    LifecycleStage,
    {
        "NEW": "a customer for under 90 days",
        "ACTIVE": "none of the others: active within the last 180 days, or nothing known",
        "LOYAL": "a customer for five years or more, active within the last 180 days",
        "DORMANT": "no activity for 180 days (but under a year)",
        "CHURNED": "every account closed, or no activity for 365 days",
    },
)


E = TypeVar("E", bound=StrEnum)


def parse_enum(enum: type[E], value: object) -> E | None:
    """Stored strings as enum members; an unknown value reads as None rather than failing."""
    try:
        return enum(str(value).upper())
    except ValueError:
        return None


__all__ = [
    "AccountRole",
    "AccountType",
    "LifecycleStage",
    "Segment",
    "describe_values",
    "parse_enum",
]
