"""Mutation inputs; field names follow the stored properties (validation: shared.records)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.types.base import get_object_definition
from strawberry.utils.str_converters import to_camel_case


@strawberry.input(
    description="A customer to create or update: fields left out (or null) keep their stored "
    "values."
)
class CustomerInput:
    id: strawberry.ID = strawberry.field(description="the customer's id (CRM key)")
    name: str | None = strawberry.field(default=None, description="full name")
    gender: str | None = strawberry.field(default=None, description="M/F/男/女")
    birth_date: date | None = strawberry.field(
        default=None,
        description="must match idNumber; with an ID number on record, give idNumber too",
    )
    id_number: str | None = strawberry.field(
        default=None, description="national ID number; sets birthDate when that is not given"
    )
    phone: str | None = strawberry.field(default=None, description="normalised to E.164 (CN)")
    email: str | None = strawberry.field(default=None, description="e-mail address")
    address: str | None = strawberry.field(default=None, description="postal address")
    occupation: str | None = strawberry.field(default=None, description="free text")
    income_band: str | None = strawberry.field(default=None, description="free text")
    risk_profile: str | None = strawberry.field(default=None, description="保守, 稳健 or 激进")
    advisor_id: str | None = strawberry.field(
        default=None, description="id of an existing advisor to assign"
    )
    consent_marketing: bool | None = strawberry.field(
        default=None, description="may be contacted for marketing (dates consents.updatedAt)"
    )
    consent_data_sharing: bool | None = strawberry.field(
        default=None, description="may have their data shared (dates consents.updatedAt)"
    )


@strawberry.input(description="An interaction to record for an existing customer.")
class InteractionInput:
    customer_id: strawberry.ID = strawberry.field(description="the customer; must exist")
    id: strawberry.ID | None = strawberry.field(default=None, description="generated if absent")
    channel: str | None = strawberry.field(
        default=None, description="PHONE/SMS/CHAT/EMAIL/BRANCH/APP"
    )
    kind: str | None = strawberry.field(
        default=None, description="INQUIRY/COMPLAINT/FEEDBACK/SURVEY/MARKETING"
    )
    time: datetime | None = strawberry.field(default=None, description="default: now")
    summary: str | None = strawberry.field(default=None, description="the note")
    satisfaction: int | None = strawberry.field(
        default=None, description="the customer's score, 1 (worst) .. 5"
    )
    resolved: bool | None = strawberry.field(
        default=None, description="whether the matter was resolved"
    )
    product_code: str | None = strawberry.field(
        default=None, description="code of the product it was about"
    )


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
