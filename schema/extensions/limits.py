"""Query-shape limits from Settings: tokens, depth, aliases, cost and introspection.

graphql-core's rules are built once per schema, so the validation cache (keyed by query text)
holds for the process. Depth, aliases and cost are one check over :func:`measure` (linear in
the document, fragments memoised) that runs for every request after them: it reads the
variables (a trend's ``$from``/``$to`` tell its buckets), which the text does not.
Validation runs in :class:`Validate` with suggestions ("Did you mean ...?") hidden whenever
introspection is off: they would name fields introspection hides.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    NoSchemaIntrospectionCustomRule,
    specified_rules,
    validate,
)
from strawberry.extensions import MaxTokensLimiter, SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from resolvers.pagination import DEFAULT_PAGE_SIZE
from schema.extensions.shape import Pages, measure
from shared.settings import Settings

ExtensionFactory = Callable[[], SchemaExtension]

TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
TOO_COSTLY = "QUERY_TOO_COSTLY"
# graphql-core's whole message when its rules exceed the recursion limit.
ABORTED = "Validation aborted."
VALIDATION_CACHE_SIZE = 512
VALIDATION_THREADS = 2


ShapeCheck = Callable[[GraphQLSchema, DocumentNode, Mapping[str, Any] | None], list[GraphQLError]]


def shape_check(settings: Settings) -> ShapeCheck:
    """Errors for operations over the depth, alias or cost limit (or asking for ``__schema``
    twice); the error's ``extensions`` carry the figure and the limit. It reads the request's
    variables (a trend's window given as ``$from``/``$to`` counts the buckets it spans), so it
    runs for every request, after the cached rules: linear, about a millisecond."""
    max_depth, max_aliases, max_cost = settings.max_depth, settings.max_aliases, settings.max_cost
    pages = Pages(min(DEFAULT_PAGE_SIZE, settings.max_page_size), settings.max_page_size)

    def check(
        schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any] | None
    ) -> list[GraphQLError]:
        errors: list[GraphQLError] = []
        try:
            shapes = measure(schema, document, pages, variables)
        except RecursionError:
            # Only with C360_MAX_TOKENS raised far beyond its default: fragments nested
            # hundreds deep. Too deep by any measure.
            return [
                GraphQLError(
                    f"the document nests fragments too deeply (limit {max_depth})",
                    document,
                    extensions={"code": TOO_DEEP, "max": max_depth},
                )
            ]
        for operation, shape in shapes:
            name = operation.name.value if operation.name else "anonymous"
            if shape.depth > max_depth:
                errors.append(
                    GraphQLError(
                        f"'{name}' exceeds maximum operation depth of {max_depth}",
                        operation,
                        extensions={"code": TOO_DEEP, "depth": shape.depth, "max": max_depth},
                    )
                )
            if shape.aliases > max_aliases:
                errors.append(
                    GraphQLError(
                        f"'{name}' has {_figure(shape.aliases)} aliases; at most "
                        f"{max_aliases} are allowed",
                        operation,
                        extensions={
                            "code": TOO_MANY_ALIASES,
                            "aliases": _figure(shape.aliases),
                            "max": max_aliases,
                        },
                    )
                )
            if shape.schemas > 1:
                errors.append(
                    GraphQLError(
                        f"'{name}' asks for the whole schema {_figure(shape.schemas)} times "
                        "(every __schema, and every alias inside one, is another copy); ask "
                        "for __schema once per operation, without aliases inside it",
                        operation,
                        extensions={
                            "code": TOO_COSTLY,
                            "schemas": _figure(shape.schemas),
                            "max": 1,
                        },
                    )
                )
            if shape.cost > max_cost:
                errors.append(
                    GraphQLError(
                        f"'{name}' would resolve about {_figure(shape.cost)} values; at "
                        f"most {max_cost} are allowed (ask for smaller pages, shorter "
                        "windows or a coarser interval, or fewer nested lists)",
                        operation,
                        extensions={
                            "code": TOO_COSTLY,
                            "cost": _figure(shape.cost),
                            "maxCost": max_cost,
                        },
                    )
                )
        return errors

    return check


def _figure(value: int) -> int | str:
    # Fragment chains reach 2**1000 and more: keep the JSON a plain number where it fits.
    return value if value < 2**53 else f"{value:.3e}"


class Validator:
    """The document rules of one schema, built once, with an LRU of results by query text."""

    def __init__(
        self,
        rules: tuple[type[ASTValidationRule], ...],
        hide_suggestions: bool,
        shape: ShapeCheck,
    ) -> None:
        self.rules = rules
        self.shape = shape
        self.hide_suggestions = hide_suggestions
        self._cache: OrderedDict[str, list[GraphQLError]] = OrderedDict()
        self._shapes: OrderedDict[str, list[GraphQLError]] = OrderedDict()
        # Validations get threads of their own: one abandoned at the request timeout runs to
        # its (linear, bounded) end without taking a thread from the loop's default pool.
        self.threads = ThreadPoolExecutor(VALIDATION_THREADS, thread_name_prefix="validate")

    def cached(self, query: str) -> list[GraphQLError] | None:
        errors = self._cache.get(query)
        if errors is None:
            return None
        self._cache.move_to_end(query)
        return list(errors)

    def remember(self, query: str, errors: list[GraphQLError]) -> None:
        self._cache[query] = list(errors)
        if len(self._cache) > VALIDATION_CACHE_SIZE:
            self._cache.popitem(last=False)

    def shape_errors(
        self,
        query: str | None,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any] | None,
    ) -> list[GraphQLError]:
        """The shape check's errors, kept by query text when the check read no variable (a
        360 view's ``$id`` bounds no list): measuring a 360 document is ~0.5 ms, a fifth of
        the hub's CPU for the request, on every request otherwise."""
        if query is not None and (kept := self._shapes.get(query)) is not None:
            self._shapes.move_to_end(query)
            return list(kept)
        read = _Reads(variables or {})
        errors = self.shape(schema, document, read)
        if query is not None and not read.asked:
            self._shapes[query] = list(errors)
            if len(self._shapes) > VALIDATION_CACHE_SIZE:
                self._shapes.popitem(last=False)
        return errors

    def rule_errors(self, schema: GraphQLSchema, document: DocumentNode) -> list[GraphQLError]:
        """graphql-core's rules (what the cache holds by query text)."""
        errors = validate(schema, document, self.rules, hide_suggestions=self.hide_suggestions)
        return [_explained(error) for error in errors]

    def validate(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any] | None = None,
    ) -> list[GraphQLError]:
        """Every error: the rules' and the shape's (uncached)."""
        return self.rule_errors(schema, document) + self.shape(schema, document, variables)


class _Reads(dict[str, Any]):
    """The request's variables, noting whether the shape check read any. Never falsy, so
    graphql-core's value_from_ast_untyped asks it even when the request sent none (the
    answer may then depend on them for the next request of the same text)."""

    asked = False

    def __bool__(self) -> bool:
        return True

    def __contains__(self, key: object) -> bool:
        self.asked = True
        return super().__contains__(key)

    def __getitem__(self, key: str) -> Any:
        self.asked = True
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.asked = True
        return super().get(key, default)


def _explained(error: GraphQLError) -> GraphQLError:
    """graphql-core's bare "Validation aborted." (its rules ran out of recursion: about 1 000
    repeats of one field in a selection) said neither what is wrong nor what to do."""
    if error.message != ABORTED:
        return error
    return GraphQLError(
        "the document is too large to validate (graphql-core gave up comparing its fields: "
        "one field repeated hundreds of times, or very many fields in one selection); ask "
        "for each field once (the answer names it once however often it is asked) and split "
        "a large operation into smaller ones",
        extensions={"code": "GRAPHQL_VALIDATION_FAILED"},
    )


class Validate(SchemaExtension):
    """Runs :class:`Validator` in place of strawberry's own validation step.

    A 2,000-token document takes graphql-core's rules a few hundred milliseconds: that runs in
    a worker thread so the event loop (health checks, other requests) keeps its turn. The cache
    is touched only from the loop. At the request timeout the await is cancelled and the
    response goes out; the thread's result is dropped (never cached).
    """

    def __init__(self, validator: Validator) -> None:
        super().__init__()
        self.validator = validator

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        document, query = context.graphql_document, context.query
        if document is not None:
            schema = context.schema._schema
            errors = self.validator.cached(query) if query is not None else None
            if errors is None:
                errors = await asyncio.get_running_loop().run_in_executor(
                    self.validator.threads, self.validator.rule_errors, schema, document
                )
                if query is not None:
                    self.validator.remember(query, errors)
            shape = self.validator.shape_errors(query, schema, document, context.variables)
            context.pre_execution_errors = errors + shape
        yield


def build_validator(settings: Settings) -> Validator:
    rules: tuple[type[ASTValidationRule], ...] = (
        *specified_rules,
        MaybeNullValidationRule,
        OneOfInputValidationRule,
    )
    if not settings.introspection:
        rules = (*rules, NoSchemaIntrospectionCustomRule)
    return Validator(
        rules, hide_suggestions=not settings.introspection, shape=shape_check(settings)
    )


def limit_extensions(settings: Settings) -> list[ExtensionFactory]:
    """Factories: strawberry builds fresh extension instances for every request; the validator
    (rules and cache) is shared by all of them."""
    validator = build_validator(settings)
    return [
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: Validate(validator),
    ]


__all__ = [
    "TOO_COSTLY",
    "TOO_DEEP",
    "TOO_MANY_ALIASES",
    "ExtensionFactory",
    "Validate",
    "Validator",
    "build_validator",
    "limit_extensions",
    "shape_check",
]
