"""Plain fields executed without a resolve info: the execution context for the hub's schema.

graphql-core builds a ``GraphQLResolveInfo`` (strawberry's subclass), looks for arguments and
walks ``complete_value`` for every field it executes, ~280 times in one 360 view, most of them
for plain attributes: no resolver, no argument, no field extension, a scalar or enum value.
Those fields are neither personal (``@sensitive`` fields have the masking extension or
schema/extensions/fast_masking.py's resolver) nor computed, so nothing reads an info for them.
:func:`install` marks them once when the schema is built; :class:`PlainFieldsExecutionContext`
reads a marked field's attribute and coerces it as ``complete_leaf_value`` would. A plain
``@sensitive`` field (fast_masking's) is masked the same way when the request already holds
its decision: the same ``MaskField.shown``, audit note included; without the decision it
takes the ordinary path, which waits for it (no decision, no value). Anything
unusual (middleware wrapping resolvers, a null for a non-null field, a value the scalar
refuses, an exception) goes the ordinary way, so errors and their paths stay as they were.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.extensions.fast_masking import MASKED_KEY
from schema.extensions.schema_fields import object_fields

# On a GraphQLField's extensions: (attribute, leaf type) of a plain field.
PLAIN_KEY = "c360-plain"
_ORDINARY = object()


class PlainFieldsExecutionContext(StrawberryGraphQLCoreExecutionContext):
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
            extensions = field_def.extensions
            if (PLAIN_KEY in extensions or MASKED_KEY in extensions) and self._unwrapped(
                field_def.resolve
            ):
                answer = self._answer(field_def, node.name.value, source)
                if answer is not _ORDINARY:
                    return answer
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _answer(self, field_def: GraphQLField, name: str, source: Any) -> Any:
        """The completed value of a marked field, or ``_ORDINARY`` for graphql-core's path
        (which answers or reports the error where it belongs)."""
        output = field_def.type
        leaf = output.of_type if isinstance(output, GraphQLNonNull) else output
        if not isinstance(leaf, GraphQLScalarType | GraphQLEnumType):
            return _ORDINARY
        try:
            plain = field_def.extensions.get(PLAIN_KEY)
            if plain is not None:
                value = getattr(source, plain[0])
            else:
                attribute, extension = field_def.extensions[MASKED_KEY]
                privacy = self.context_value.privacy
                decision = privacy.cached(source)
                if decision is None:
                    return _ORDINARY  # it waits for the decision: no decision, no value
                value = extension.shown(privacy, name, getattr(source, attribute), decision, source)
            if value is None:
                return _ORDINARY if output is not leaf else None
            coerced = leaf.coerce_output_value(value)
        except Exception:
            return _ORDINARY
        return _ORDINARY if coerced is None or coerced is Undefined else coerced

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
    """Mark the schema's plain fields (call after every other resolver change); returns how
    many were marked."""
    marked = 0
    for field, definition in object_fields(schema):
        leaf = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        if (
            definition is None
            or field.args
            or not is_leaf_type(leaf)
            or not getattr(field.resolve, "_is_default", False)
            or definition.base_resolver is not None
            or definition.default_resolver is not getattr
            or definition.extensions
            or definition.permission_classes
        ):
            continue
        assert isinstance(leaf, GraphQLLeafType)
        field.extensions = {**field.extensions, PLAIN_KEY: (definition.python_name, leaf)}
        marked += 1
    return marked


__all__ = ["PLAIN_KEY", "PlainFieldsExecutionContext", "install"]
