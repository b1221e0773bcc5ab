"""Enums of the customer domain."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

import strawberry

from resolvers.analytics import LifecycleStage as _LifecycleStage
from resolvers.analytics import Segment as _Segment


@strawberry.enum
class AccountType(StrEnum):
    SAVINGS = "SAVINGS"
    CHECKING = "CHECKING"
    CREDIT_CARD = "CREDIT_CARD"
    LOAN = "LOAN"
    WEALTH = "WEALTH"


@strawberry.enum
class AccountRole(StrEnum):
    OWNER = "OWNER"
    JOINT = "JOINT"


# strawberry.enum registers the class itself (and returns it): the names are the classes, so
# type checkers see enums.
Segment = _Segment
strawberry.enum(Segment, name="Segment")
LifecycleStage = _LifecycleStage
strawberry.enum(LifecycleStage, name="LifecycleStage")


E = TypeVar("E", bound=StrEnum)


def parse_enum(enum: type[E], value: object) -> E | None:
    """Stored strings as enum members; an unknown value reads as None rather than failing."""
    try:
        return enum(str(value).upper())
    except ValueError:
        return None


__all__ = ["AccountRole", "AccountType", "LifecycleStage", "Segment", "parse_enum"]
