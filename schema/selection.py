"""What a field's selection reads, walked on the document's nodes (fragments followed):
cheaper than strawberry's ``selected_fields``, which converts the whole subtree."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, SelectionSetNode

if TYPE_CHECKING:
    from schema.types import Ctx


def selects(
    node: FieldNode,
    name: str,
    fragments: dict[str, FragmentDefinitionNode],
    spreads: list[bool] | None = None,
) -> bool:
    """Whether a field called ``name`` is selected anywhere below ``node``."""
    pending = fields(node.selection_set, fragments, spreads)
    while pending:
        field = pending.pop()
        if field.name.value == name:
            return True
        pending += fields(field.selection_set, fragments, spreads)
    return False


def fields(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    spreads: list[bool] | None = None,
) -> list[FieldNode]:
    """The fields of a selection set, fragments and inline fragments flattened (``spreads``
    is set to [True] when a fragment spread was followed)."""
    out: list[FieldNode] = []
    pending = list(reversed(selection_set.selections)) if selection_set else []
    while pending:
        selection = pending.pop()
        if isinstance(selection, FieldNode):
            out.append(selection)
            continue
        if isinstance(selection, FragmentSpreadNode):
            if spreads is not None:
                spreads[0] = True
            fragment = fragments.get(selection.name.value)
            selection_set = fragment.selection_set if fragment else None
        else:
            selection_set = getattr(selection, "selection_set", None)
        if selection_set is not None:
            pending.extend(reversed(selection_set.selections))
    return out


def asks(info: Ctx, names: frozenset[str]) -> bool:
    """Whether any of ``names`` is selected anywhere under this field (fragments included)."""
    pending: list[Any] = list(info.selected_fields)
    while pending:
        selection = pending.pop()
        if getattr(selection, "name", None) in names:
            return True
        pending.extend(getattr(selection, "selections", None) or [])
    return False


__all__ = ["asks", "fields", "selects"]
