"""Mutation inputs; field names follow the stored properties (validation: shared.records)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.types.base import get_object_definition
from strawberry.utils.str_converters import to_camel_case


@strawberry.input
class CustomerInput:
    id: strawberry.ID
    name: str | None = None
    gender: str | None = strawberry.field(default=None, description="M/F/男/女")
    birth_date: date | None = None
    id_number: str | None = None
    phone: str | None = strawberry.field(default=None, description="normalised to E.164 (CN)")
    email: str | None = None
    address: str | None = None
    occupation: str | None = None
    income_band: str | None = None
    risk_profile: str | None = strawberry.field(default=None, description="保守, 稳健 or 激进")
    advisor_id: str | None = None
    consent_marketing: bool | None = None
    consent_data_sharing: bool | None = None


@strawberry.input
class InteractionInput:
    customer_id: strawberry.ID
    id: strawberry.ID | None = strawberry.field(default=None, description="generated if absent")
    channel: str | None = strawberry.field(default=None, description="PHONE/CHAT/EMAIL/BRANCH/APP")
    kind: str | None = strawberry.field(
        default=None, description="INQUIRY/COMPLAINT/FEEDBACK/SURVEY/MARKETING"
    )
    time: datetime | None = strawberry.field(default=None, description="default: now")
    summary: str | None = None
    satisfaction: int | None = None
    resolved: bool | None = None
    product_code: str | None = None


def record_data(value: object) -> dict[str, Any]:
    """An input as the record models' camelCase dict, without the fields not given."""
    definition = get_object_definition(value, strict=True)
    data: dict[str, Any] = {}
    for field in definition.fields:
        item = getattr(value, field.python_name)
        if item is None:
            continue
        data[field.graphql_name or to_camel_case(field.python_name)] = (
            item.isoformat() if isinstance(item, date | datetime) else item
        )
    return data


__all__ = ["CustomerInput", "InteractionInput", "record_data"]
