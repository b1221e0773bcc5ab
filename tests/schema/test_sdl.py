"""The exported SDL is current, and every personal field is marked for the privacy layer."""

from __future__ import annotations

import dataclasses

from hub.settings import Settings
from schema.directives import SENSITIVE_METADATA_KEY, Sensitive
from schema.export import SDL_PATH, sdl
from schema.root import build_schema
from schema.types import Account, Customer, Transaction

EXPECTED_SENSITIVE = {
    (Customer, "name"): "NAME",
    (Customer, "birth_date"): "BIRTH_DATE",
    (Customer, "id_number"): "NATIONAL_ID",
    (Customer, "phone"): "PHONE",
    (Customer, "email"): "EMAIL",
    (Customer, "address"): "ADDRESS",
    (Customer, "total_assets"): "AMOUNT",
    (Account, "balance"): "AMOUNT",
    (Transaction, "amount"): "AMOUNT",
}


def test_exported_sdl_is_current() -> None:
    assert SDL_PATH.read_text(encoding="utf-8") == sdl(), (
        "schema/schema.graphql is out of date: run `python -m schema.export`"
    )


def test_sensitive_directive_in_sdl() -> None:
    text = sdl()
    assert "directive @sensitive(kind: SensitiveKind!) on FIELD_DEFINITION" in text
    assert "phone: String @sensitive(kind: PHONE)" in text
    assert "balance: String @sensitive(kind: AMOUNT)" in text


def _sensitive_fields(cls: type) -> dict[str, str]:
    found = {}
    for field in cls.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        kinds = [d.kind for d in field.directives if isinstance(d, Sensitive)]
        if kinds:
            assert field.metadata[SENSITIVE_METADATA_KEY] == kinds[0]
            found[field.python_name] = str(kinds[0])
    return found


def test_every_personal_field_is_marked_and_governed() -> None:
    found = {
        (cls, name): kind
        for cls in (Customer, Account, Transaction)
        for name, kind in _sensitive_fields(cls).items()
    }
    assert found == EXPECTED_SENSITIVE
    for cls in (Customer, Account, Transaction):
        # The Private customer_id names whose policy decision governs the sensitive fields.
        names = {f.name for f in dataclasses.fields(cls)}
        assert "customer_id" in names
    graphql_types = build_schema(Settings())._schema.type_map
    for name in ("Customer", "Account", "Transaction"):
        assert "customerId" not in graphql_types[name].fields  # type: ignore[attr-defined]
