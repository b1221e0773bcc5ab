"""Plain fields executed without a resolve info: the execution context for the hub's schema.

graphql-core builds a ``GraphQLResolveInfo`` (strawberry's subclass), looks for arguments and
walks ``complete_value`` for every field it executes, ~280 times in one 360 view, most of them
for plain attributes: no resolver, no argument, no field extension, a scalar or enum value.
Those fields are neither personal (``@sensitive`` fields have the masking extension or
schema/extensions/fast_masking.py's resolver) nor computed, so nothing reads an info for them.
:func:`install` marks them once when the schema is built; :class:`PlainFieldsExecutionContext`
completes a marked field by a one-entry plan (schema/extensions/field_plans.py's ``run_plan``,
which completes whole objects too): the attribute read and coerced as ``complete_leaf_value``
would. A plain
``@sensitive`` field (fast_masking's) is masked the same way when the request already holds
its decision: the same ``MaskField.shown``, audit note included; without the decision it
takes the ordinary path, which waits for it (no decision, no value). Anything
unusual (middleware wrapping resolvers, a null for a non-null field, a value the scalar
refuses, an exception) goes the ordinary way, so errors and their paths stay as they were.

Objects go the same way one level up: a plain field holding an object or a list of objects,
and any object whose whole selection is plain, is completed by a plan compiled from its
selection (schema/extensions/field_plans.py), and the collected selections and their plans
are kept per cached operation across requests (schema/extensions/selection_cache.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import strawberry
from graphql import (
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
    is_leaf_type,
)
from graphql.execution.collect_fields import CollectedFields, FieldDetailsList, collect_subfields
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.extensions.fast_masking import MASKED_KEY
from schema.extensions.field_plans import (
    OBJECT_KEY,
    ORDINARY,
    PLAIN_KEY,
    Plan,
    compile_plan,
    run_plan,
)
from schema.extensions.schema_fields import object_fields
from schema.extensions.selection_cache import OperationCache, operation_cache


class PlainFieldsExecutionContext(StrawberryGraphQLCoreExecutionContext):
    # Compiled selections (schema/extensions/field_plans.py), by (object type, id of the
    # selection); the selection is kept alive beside its plan so the id cannot be reused.
    # A plan None: the selection takes graphql-core's path. The operation's shared plans
    # (shared selections are shared objects, their ids valid while the operation's cache
    # lives), else this request's own; None until the first lookup.
    _plans: dict[tuple[GraphQLObjectType, int], tuple[Any, Plan | None]] | None = None
    _plain_ok: bool | None = None
    _shared: OperationCache | bool | None = False  # False: not looked up yet

    def _operation_cache(self) -> OperationCache | None:
        """Selections and plans shared with every execution of this operation
        (schema/extensions/selection_cache.py), or None."""
        shared = self._shared
        if shared is False:
            shared = self._shared = operation_cache(
                self.operation, self.fragment_definitions, self.schema
            )
        return shared  # type: ignore[return-value]

    def collect_subfields(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> CollectedFields:
        shared = self._operation_cache()
        if shared is None:
            return super().collect_subfields(return_type, field_details_list)
        key = (return_type, *[id(details.node) for details in field_details_list])
        hit = shared.collected.get(key)
        if hit is None:
            if any(
                d.defer_usage is not None or d.fragment_variable_values is not None
                for d in field_details_list
            ):
                return super().collect_subfields(return_type, field_details_list)
            collected = collect_subfields(
                self.schema,
                self.fragments,
                self.variable_values,
                self.operation,
                return_type,
                field_details_list,
                self.hide_suggestions,
            )
            hit = shared.collected[key] = (field_details_list, collected)
        return hit[1]

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        # An object whose whole selection is plain: one loop, no Path or execute_field per
        # field. Anything unusual, or deferred delivery, goes graphql-core's way.
        if position_context is None and path is not None and self._plain():
            plan = self._plan(parent_type, grouped_field_set)
            if plan is not None:
                answer = run_plan(plan, source_value, self._privacy())
                if answer is not ORDINARY:
                    return answer
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def _plain(self) -> bool:
        """Plans and plain answers apply: no middleware wraps any resolver (checked once)."""
        if self._plain_ok is None:
            manager = self.middleware_manager
            self._plain_ok = manager is None or not manager.middlewares
        return self._plain_ok

    def _privacy(self) -> Any:
        # The request's RequestPrivacy; None outside the hub (a plan's masked field then
        # takes graphql-core's path).
        return getattr(self.context_value, "privacy", None)

    def _plan(
        self, parent_type: GraphQLObjectType, selection: Any, field: bool = False
    ) -> Plan | None:
        """The plan of ``selection``: an object's grouped field set, or with ``field`` one
        field's details (a one-entry plan, response name ``""``). Cached by the selection's
        id, the selection kept alive beside its plan."""
        plans = self._plans
        if plans is None:
            shared = self._operation_cache()
            plans = self._plans = {} if shared is None else shared.plans
        key = (parent_type, id(selection))
        cached = plans.get(key)
        if cached is not None:
            return cached[1]
        plan = self._compile(parent_type, {"": selection} if field else selection)
        plans[key] = (selection, plan)
        return plan

    def _compile(self, parent_type: GraphQLObjectType, grouped: Mapping[str, Any]) -> Plan | None:
        try:
            return compile_plan(parent_type, grouped, self._collect)
        except Exception:
            return None  # graphql-core's path reports whatever went wrong where it belongs

    def _collect(
        self, return_type: GraphQLObjectType, details: FieldDetailsList
    ) -> Mapping[str, FieldDetailsList] | None:
        grouped, new_defer_usages, _ = self.collect_subfields(return_type, details)
        return None if new_defer_usages else grouped

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any = None,
    ) -> Any:
        node = field_details_list[0].node
        field_def = parent_type.fields.get(node.name.value)
        if field_def is not None and not node.arguments:
            # A marked field alone: its one-entry plan (a leaf's attribute coerced, masked
            # from the decision at hand; an object's selection completed).
            extensions = field_def.extensions
            leaf = PLAIN_KEY in extensions or MASKED_KEY in extensions
            if (leaf and self._unwrapped(field_def.resolve)) or (
                OBJECT_KEY in extensions and self._plain()
            ):
                plan = self._plan(parent_type, field_details_list, True)
                if plan is not None:
                    answer = run_plan(plan, source, self._privacy())
                    if answer is not ORDINARY:
                        return answer[""]
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _unwrapped(self, resolve: Any) -> bool:
        """No middleware (a schema extension's ``resolve`` hook) wraps this resolver."""
        manager = self.middleware_manager
        # No extension with a ``resolve`` hook (the usual case): nothing to look up per field.
        return (
            manager is None
            or not manager.middlewares
            or manager.get_field_resolver(resolve) is resolve
        )


def install(schema: strawberry.Schema) -> int:
    """Mark the schema's plain fields (call after every other resolver change): leaves for
    the answer without a resolve info, objects and lists of objects for the compiled plans
    (schema/extensions/field_plans.py); returns how many were marked."""
    marked = 0
    for field, definition in object_fields(schema):
        leaf = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        if (
            definition is None
            or field.args
            or not getattr(field.resolve, "_is_default", False)
            or definition.base_resolver is not None
            or definition.default_resolver is not getattr
            or definition.extensions
            or definition.permission_classes
        ):
            continue
        if is_leaf_type(leaf):
            assert isinstance(leaf, GraphQLLeafType)
            field.extensions = {**field.extensions, PLAIN_KEY: (definition.python_name, leaf)}
        elif isinstance(get_named_type(field.type), GraphQLObjectType):
            field.extensions = {**field.extensions, OBJECT_KEY: definition.python_name}
        else:
            continue
        marked += 1
    return marked


__all__ = ["OBJECT_KEY", "PLAIN_KEY", "PlainFieldsExecutionContext", "install"]
