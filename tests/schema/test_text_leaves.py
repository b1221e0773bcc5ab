"""Plain String and ID leaves in compiled plans (schema/extensions/field_plans.py, TEXT): text
is passed through as it is, anything else goes through the scalar, so answers and errors are
graphql-core's own."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.extensions import plain_fields
from schema.extensions.plain_fields import PlainFieldsExecutionContext
from schema.root import HubSchema


@strawberry.type
class Thing:
    name: str
    code: strawberry.ID
    note: str | None


# Values the annotations do not promise (rows from a graph written by other tools): numbers, a
# boolean, a float id, a list where text belongs (an error that nulls the non-null item's
# list), and plain text.
VALUES: list[tuple[Any, Any, Any]] = [
    ("text", "a", None),
    (7, 8, True),
    (2.5, 3.0, "x"),
    ("ok", "z", 12),
    (False, "b", 1.25),
]


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing]:
        return [Thing(name=n, code=c, note=t) for n, c, t in VALUES]

    @strawberry.field
    def broken(self) -> list[Thing] | None:
        return [Thing(name=["no"], code="c", note=None)]  # type: ignore[arg-type]

    @strawberry.field
    def odd_note(self) -> list[Thing]:
        return [Thing(name="n", code="c", note={"no": 1})]  # type: ignore[arg-type]


DOCUMENT = "{ things { name code note } broken { name code } oddNote { name note } }"


def _schema(context_class: type) -> strawberry.Schema:
    schema = HubSchema(query=Query, execution_context_class=context_class)
    plain_fields.install(schema)
    return schema


async def test_text_leaves_answer_like_graphql_core() -> None:
    ours = await _schema(PlainFieldsExecutionContext).execute(DOCUMENT)
    theirs = await _schema(StrawberryGraphQLCoreExecutionContext).execute(DOCUMENT)
    assert ours.data == theirs.data
    assert [(e.message, e.path) for e in ours.errors or []] == [
        (e.message, e.path) for e in theirs.errors or []
    ]
    assert ours.data is not None
    assert ours.data["things"][1] == {"name": "7", "code": "8", "note": "true"}
    assert ours.data["broken"] is None and ours.errors
