"""The hub's schema finds extension hooks once per class (schema/extensions/hook_runner.py):
the hooks must run exactly as strawberry's own runner runs them: order, nesting, the
exception a hook sees, errors and results."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension

from schema.extensions.hook_runner import CachedHooksRunner
from schema.root import HubSchema


def _extensions(events: list[str]) -> list[type[SchemaExtension]]:
    class Generators(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            events.append("gen op in")
            yield
            result = self.execution_context.result
            events.append(f"gen op out errors={len(getattr(result, 'errors', None) or [])}")

        def on_parse(self) -> Iterator[None]:
            events.append("gen parse in")
            yield
            events.append("gen parse out")

        def on_execute(self) -> Iterator[None]:
            events.append("gen exec in")
            try:
                yield
            except Exception as exc:  # a hook sees what the stage raised, as before
                events.append(f"gen exec saw {type(exc).__name__}")
                raise
            events.append("gen exec out")

    class AsyncGenerators(SchemaExtension):
        async def on_operation(self) -> AsyncIterator[None]:
            events.append("async op in")
            yield
            events.append("async op out")

        async def on_execute(self) -> AsyncIterator[None]:
            events.append("async exec in")
            yield
            events.append("async exec out")

    class Plain(SchemaExtension):
        def on_validate(self) -> None:  # type: ignore[override]
            events.append("plain validate")

        async def on_execute(self) -> None:  # type: ignore[override]
            events.append("coroutine exec")

    class Results(SchemaExtension):
        def get_results(self) -> dict[str, Any]:
            return {"seen": len(events)}

    return [Generators, AsyncGenerators, Plain, Results]


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "hi"

    @strawberry.field
    def broken(self) -> str:
        raise ValueError("no")


class _StrawberryRunner(HubSchema):
    """The hub's schema class with strawberry's own runner, for comparison."""

    def create_extensions_runner(self, execution_context: Any, extensions: Any) -> Any:
        return strawberry.Schema.create_extensions_runner(self, execution_context, extensions)


async def _run(schema_class: type[strawberry.Schema], query: str) -> tuple[list[str], Any]:
    events: list[str] = []
    schema = schema_class(query=Query, extensions=_extensions(events))
    runner = schema.create_extensions_runner(None, schema.get_extensions())  # type: ignore[arg-type]
    assert isinstance(runner, CachedHooksRunner) == (schema_class is HubSchema)
    result = await schema.execute(query)
    errors = [(e.message, e.path) for e in result.errors or []]
    return events, (result.data, errors, result.extensions)


@pytest.mark.parametrize(
    "query",
    ["{ hello }", "{ hello broken }", "{ nope }", "{ hello", "query A { hello } query B { hello }"],
)
async def test_hooks_run_as_strawberrys_runner_runs_them(query: str) -> None:
    ours = await _run(HubSchema, query)
    theirs = await _run(_StrawberryRunner, query)
    assert ours == theirs
    assert ours[0]  # the hooks ran at all


async def test_every_hook_kind_runs_in_order() -> None:
    events, (data, errors, extensions) = await _run(HubSchema, "{ hello }")
    assert data == {"hello": "hi"} and errors == []
    assert events == [
        "gen op in",
        "async op in",
        "gen parse in",
        "gen parse out",
        "plain validate",
        "gen exec in",
        "async exec in",
        "coroutine exec",
        "async exec out",
        "gen exec out",
        "async op out",
        "gen op out errors=0",
    ]
    assert extensions == {"seen": len(events)}


async def test_a_stage_that_raises_is_seen_by_the_hook() -> None:
    events: list[str] = []

    class Raises(SchemaExtension):
        def on_execute(self) -> Iterator[None]:
            yield
            raise RuntimeError("after execution")

    schema = HubSchema(query=Query, extensions=[*_extensions(events), Raises])
    result = await schema.execute("{ hello }")
    assert result.errors and "after execution" in result.errors[0].message
    assert "gen exec saw RuntimeError" in events
