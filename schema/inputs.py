"""Mutation inputs; field names follow the stored properties (validation: shared.records)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from strawberry import UNSET
from strawberry.types.base import get_object_definition
from strawberry.utils.str_converters import to_camel_case


def clearable(description: str) -> Any:
    """A field that an explicit null (or blank text) clears: left out it is UNSET, so the two
    can be told apart (graph.repositories.customers.CLEARABLE lists the same fields)."""
    return strawberry.field(default=UNSET, description=f"{description}; null clears it")


@strawberry.input(
    description="A customer to create or update: fields left out keep their stored values; "
    "null or blank text clears a field that says so (advisorId and the consents: null keeps "
    "them)."
)
class CustomerInput:
    id: strawberry.ID = strawberry.field(description="the customer's id (CRM key)")
    name: str | None = clearable("full name")
    gender: str | None = clearable("M/F/男/女")
    birth_date: date | None = clearable(
        "must match idNumber; with an ID number on record, give idNumber too"
    )
    id_number: str | None = clearable("national ID number; sets birthDate when that is not given")
    phone: str | None = clearable("normalised to E.164 (CN)")
    email: str | None = clearable("e-mail address")
    address: str | None = clearable("postal address")
    occupation: str | None = clearable("free text")
    income_band: str | None = clearable("free text")
    risk_profile: str | None = clearable("保守, 稳健 or 激进")
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
    """An input as the record models' camelCase dict, without the fields not given. A
    :func:`clearable` field given as null is there as None (clear it); any other null is
    not given."""
    definition = get_object_definition(value, strict=True)
    data: dict[str, Any] = {}
    for field in definition.fields:
        item = getattr(value, field.python_name)
        if item is UNSET or (item is None and field.default is not UNSET):
            continue
        data[field.graphql_name or to_camel_case(field.python_name)] = (
            item.isoformat() if isinstance(item, date | datetime) else item
        )
    return data


__all__ = ["CustomerInput", "InteractionInput", "clearable", "record_data"]
