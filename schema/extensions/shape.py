"""The shape of a GraphQL document: depth, aliases and estimated cost, in linear time.

Strawberry's depth and alias limiters walk every fragment spread again at every place it is
used, so ``fragment F0 {...F1 ...F1}`` chains double their work per fragment (n=30 ran for
minutes). Here each fragment is measured once and its figures are memoised; a spread then
costs one dictionary look-up. Numbers may be huge (2**30 aliases) but are computed cheaply.

Cost is the estimated number of values resolved: every field counts once per row of its
parent; a field with a ``first`` argument multiplies what lies under it by its page size
(a variable counts as the largest page, the default when ``first`` is absent), a list
bounded by other arguments (a trend's buckets, ``topPosts``: schema/extensions/list_sizes.py)
by the rows those arguments imply, other list fields by ``LIST_ESTIMATE``; ``edges`` of a
connection adds no factor of its own (its page was counted on the connection field). Aliases
are separate fields, so they count separately.

Introspection counts no depth (graphql-core's MaxIntrospectionDepthRule bounds its nesting,
and GraphiQL's own introspection query is 13 levels deep). ``__type`` counts cost like any
other selection; ``__typename`` counts nothing. A ``__schema`` counts one: its answer is the
whole schema (GraphiQL's query: 8 600 values, 190 KB), which the list estimate would put at
50 000, so ``schemas`` counts the copies asked for instead (every ``__schema`` and every alias
inside one), and the limits rule allows one per operation.

A root field that scans candidates whatever its page (``customers`` with a search, a segment
or an order other than ID: every candidate in the caller's scope is read and decided before a
page is cut, resolvers/customers.py) adds ``SCAN_ESTIMATE`` on top of its page: a page of one
costs what the scan costs, so 30 aliased searches of ``first: 1`` are over the cost limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    EnumValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    TypeMetaFieldDef,
    VariableNode,
    get_named_type,
)
from graphql.language import DocumentNode

from schema.extensions.list_sizes import Bounds, bounds_of, rows

LIST_ESTIMATE = 10
PAGE_ARGUMENT = "first"
# Values a candidate scan counts as: a scoped caller's scope or a privileged caller's matches,
# read and decided before the page is cut (up to C360_SEARCH_CANDIDATE_CAP rows). 25 scans
# reach C360_MAX_COST's default of 50,000.
SCAN_ESTIMATE = 2_000
# Root fields that scan, and the arguments that make them: a given search text or segment,
# an order other than ID. A variable counts as given (it may be).
SCANNING_FIELDS = {"customers": ("search", "segment", "orderBy")}


@dataclass(frozen=True)
class Shape:
    """``depth``: nested selection levels below the root (a leaf counts 0); ``aliases``:
    aliased fields, fragments counted at every use; ``cost``: estimated values per row of the
    parent (the operation's root has one row)."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0
    schemas: int = 0

    def __add__(self, other: Shape) -> Shape:
        return Shape(
            max(self.depth, other.depth),
            self.aliases + other.aliases,
            self.cost + other.cost,
            self.schemas + other.schemas,
        )


@dataclass(frozen=True)
class Pages:
    """Page sizes used for the estimate (``first`` absent -> default; a variable -> max)."""

    default: int
    maximum: int


class _Measure:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        pages: Pages,
        variables: Mapping[str, Any] | None,
    ) -> None:
        self.schema = schema
        self.pages = pages
        self.variables = variables or {}
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        # A fragment's figures depend on the list bounds set above it (a trend's buckets):
        # memoised per (fragment, bounds), still once per fragment in a document without them.
        self.memo: dict[tuple[str, Bounds], Shape] = {}
        self.in_progress: set[str] = set()

    def operation(self, op: OperationDefinitionNode) -> Shape:
        root = self.schema.get_root_type(op.operation)
        return self.selections(op.selection_set, root, ())

    def selections(
        self, node: SelectionSetNode, parent: GraphQLNamedType | None, bounds: Bounds
    ) -> Shape:
        total = Shape()
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                total = total + self.field(selection, parent, bounds)
            elif isinstance(selection, InlineFragmentNode):
                inner = parent
                if selection.type_condition is not None:
                    inner = self.schema.get_type(selection.type_condition.name.value) or parent
                total = total + self.selections(selection.selection_set, inner, bounds)
            elif isinstance(selection, FragmentSpreadNode):
                total = total + self.fragment(selection.name.value, bounds)
        return total

    def fragment(self, name: str, bounds: Bounds) -> Shape:
        if (name, bounds) in self.memo:
            return self.memo[(name, bounds)]
        definition = self.fragments.get(name)
        # Unknown fragments and cycles are reported by graphql-core's own rules.
        if definition is None or name in self.in_progress:
            return Shape()
        self.in_progress.add(name)
        parent = self.schema.get_type(definition.type_condition.name.value)
        shape = self.selections(definition.selection_set, parent, bounds)
        self.in_progress.discard(name)
        self.memo[(name, bounds)] = shape
        return shape

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, bounds: Bounds) -> Shape:
        aliases = 1 if node.alias is not None else 0
        name = node.name.value
        if name == "__typename":
            return Shape(aliases=aliases)
        definition = self.definition(name, parent)
        if node.selection_set is None:
            # A leaf counts one, a sized list of leaves (an alert report's bucket starts) its rows.
            sized = rows(parent.name, name, bounds) if parent is not None else None
            return Shape(aliases=aliases, cost=1 if sized is None else max(sized, 1))
        if name == "__schema":
            inner = self.selections(node.selection_set, None, bounds)
            return Shape(aliases=aliases + inner.aliases, cost=1, schemas=1 + inner.aliases)
        if definition is not None:
            bounds = bounds_of(node, definition, bounds, self.variables)
        child_type = get_named_type(definition.type) if definition is not None else None
        inner = self.selections(node.selection_set, child_type, bounds)
        factor = self.factor(node, parent, definition, bounds)
        scan = SCAN_ESTIMATE if self.scans(node, parent) else 0
        introspection = name.startswith("__")
        return Shape(
            depth=0 if introspection else inner.depth + 1,
            aliases=aliases + inner.aliases,
            cost=1 + scan + factor * inner.cost,
            schemas=inner.schemas,
        )

    def definition(self, name: str, parent: GraphQLNamedType | None) -> GraphQLField | None:
        """The schema's definition of field ``name`` of ``parent``; the root's introspection
        fields are graphql-core's meta fields, not fields of the query type."""
        if name == "__type" and parent is not None and parent is self.schema.query_type:
            return TypeMetaFieldDef
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            field: GraphQLField | None = parent.fields.get(name)
            return field
        return None

    def scans(self, node: FieldNode, parent: GraphQLNamedType | None) -> bool:
        """Whether ``node`` is a root field asked to scan candidates (SCANNING_FIELDS)."""
        if parent is None or parent is not self.schema.query_type:
            return False
        scanning = SCANNING_FIELDS.get(node.name.value, ())
        for argument in node.arguments or ():
            if argument.name.value not in scanning:
                continue
            value = argument.value
            if isinstance(value, NullValueNode):
                continue
            if isinstance(value, StringValueNode) and not value.value.strip():
                continue  # an empty search lists like none
            if isinstance(value, EnumValueNode) and value.value == "ID":
                continue  # orderBy: ID pages the listing as a window
            return True
        return False

    def factor(
        self,
        node: FieldNode,
        parent: GraphQLNamedType | None,
        definition: GraphQLField | None,
        bounds: Bounds,
    ) -> int:
        if definition is None:
            return 1
        if PAGE_ARGUMENT in definition.args:
            return self.page_size(node)
        if parent is not None and (sized := rows(parent.name, node.name.value, bounds)) is not None:
            return sized
        if node.name.value == "edges" and parent is not None and parent.name.endswith("Connection"):
            return 1
        field_type = definition.type
        if isinstance(field_type, GraphQLNonNull):
            field_type = field_type.of_type
        return LIST_ESTIMATE if isinstance(field_type, GraphQLList) else 1

    def page_size(self, node: FieldNode) -> int:
        for argument in node.arguments or ():
            if argument.name.value != PAGE_ARGUMENT:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(0, min(int(value.value), self.pages.maximum))
            if isinstance(value, VariableNode):
                return self.pages.maximum
        return self.pages.default


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    pages: Pages,
    variables: Mapping[str, Any] | None = None,
) -> list[tuple[OperationDefinitionNode, Shape]]:
    """The shape of every operation in ``document``; each fragment is measured once (per
    list bounds). ``variables``: the request's, for the arguments that bound lists."""
    measure_ = _Measure(schema, document, pages, variables)
    return [
        (d, measure_.operation(d))
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    ]


__all__ = ["LIST_ESTIMATE", "SCANNING_FIELDS", "SCAN_ESTIMATE", "Pages", "Shape", "measure"]
