"""Fields executed without a resolve info (schema/extensions/plain_fields.py) are never
personal: a field marked plain skips the masking, so marking a ``@sensitive``, derived or
quoting field would reveal it without a decision. And a marked field still answers and fails
the way graphql-core's own path does (nulls, non-null violations, bad scalar values)."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLObjectType

from hub.settings import Settings
from schema.extensions import plain_fields
from schema.extensions.masking import DERIVED_METADATA_KEY, SENSITIVE_METADATA_KEY
from schema.root import build_schema

DEFINITION_KEY = "strawberry-definition"


def _fields(schema: strawberry.Schema) -> list[tuple[str, str, Any]]:
    out = []
    for named in schema._schema.type_map.values():
        if isinstance(named, GraphQLObjectType) and not named.name.startswith("__"):
            out.extend((named.name, name, f) for name, f in named.fields.items())
    return out


def test_no_personal_field_is_marked_plain() -> None:
    schema = build_schema(Settings())
    marked = personal = 0
    for type_name, name, field in _fields(schema):
        definition = (field.extensions or {}).get(DEFINITION_KEY)
        meta = (definition.metadata or {}) if definition is not None else {}
        is_personal = (
            SENSITIVE_METADATA_KEY in meta
            or DERIVED_METADATA_KEY in meta
            or bool(definition is not None and definition.extensions)
            or any(d.__class__.__name__ == "Sensitive" for d in (definition.directives or []))
            if definition is not None
            else False
        )
        is_marked = plain_fields.PLAIN_KEY in (field.extensions or {})
        marked += is_marked
        personal += is_personal
        assert not (is_personal and is_marked), f"{type_name}.{name} would skip its masking"
    # The walk saw both kinds (the test is not vacuous).
    assert marked > 100 and personal >= 20
    customer = schema._schema.type_map["Customer"]
    assert isinstance(customer, GraphQLObjectType)
    assert plain_fields.PLAIN_KEY in customer.fields["occupation"].extensions
    for name in ("name", "phone", "idNumber", "birthDate", "segment", "ageBand", "totalAssets"):
        assert plain_fields.PLAIN_KEY not in customer.fields[name].extensions, name


@strawberry.type
class Thing:
    label: str | None
    count: int
    ratio: float


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing | None]:
        return [
            Thing(label="a", count=1, ratio=0.5),
            Thing(label=None, count=2, ratio=1.0),
            Thing(label="c", count=None, ratio=2.0),  # type: ignore[arg-type]
            Thing(label="d", count=4, ratio="not a number"),  # type: ignore[arg-type]
        ]


def test_marked_fields_answer_and_fail_like_the_ordinary_path() -> None:
    ordinary = strawberry.Schema(query=Query)
    fast = strawberry.Schema(
        query=Query, execution_context_class=plain_fields.PlainFieldsExecutionContext
    )
    assert plain_fields.install(fast) == 3
    query = "{ things { label count ratio __typename } }"
    want, got = ordinary.execute_sync(query), fast.execute_sync(query)
    assert got.data == want.data
    assert [(e.message, e.path) for e in got.errors or []] == [
        (e.message, e.path) for e in want.errors or []
    ]
    # The null for a non-null field and the refused float are errors at their paths.
    assert {tuple(e.path or ()) for e in got.errors or []} == {
        ("things", 2, "count"),
        ("things", 3, "ratio"),
    }
