"""What both engines share: the policy input and the reading of its answer."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from privacy.stand_ins import principal_input, resource_attributes
from privacy.types import Decision, PolicyUnavailable, Principal, Resource

__all__ = ["QUERY_PATH", "build_input", "parse_decisions"]

QUERY_PATH = "c360/access/decisions"


def _classes(
    principal: Principal, resources: list[Resource]
) -> tuple[list[str], dict[str, tuple[str, dict[str, Any]]]]:
    """Resources the policy sees alike (the same type and attributes, as stand-ins: see
    privacy/stand_ins.py; the id is never shown) get the same decision, so a page of 20 000
    customers costs one evaluation per distinct attribute set."""
    keys: dict[bytes, str] = {}
    per_resource: list[str] = []
    representatives: dict[str, tuple[str, dict[str, Any]]] = {}
    for r in resources:
        attributes = resource_attributes(principal, r.attributes)
        signature = orjson.dumps([r.type, attributes], option=orjson.OPT_SORT_KEYS)
        key = keys.get(signature)
        if key is None:
            key = keys[signature] = f"k{len(keys)}"
            representatives[key] = (r.type, attributes)
        per_resource.append(key)
    return per_resource, representatives


def build_input(principal: Principal, action: str, resources: list[Resource]) -> dict[str, Any]:
    """The policy's input: who asks and what about, names replaced by stand-ins."""
    _, representatives = _classes(principal, resources)
    return {
        "subject": principal_input(principal),
        "purpose": principal.purpose,
        "action": action,
        "resources": [
            {"type": rtype, "id": key, "attributes": attributes}
            for key, (rtype, attributes) in representatives.items()
        ],
    }


def parse_decisions(
    raw: Any, principal: Principal, resources: list[Resource]
) -> dict[str, Decision]:
    """One Decision per resource id; a resource the policy left out is denied (fail closed).
    Reasons are as the policy gave them (quoting stand-ins: privacy.stand_ins.told)."""
    if not isinstance(raw, dict):
        raise PolicyUnavailable("the policy returned no decisions object")
    batch = uuid.uuid4().hex
    out: dict[str, Decision] = {}
    per_resource, _ = _classes(principal, resources)
    for index, (resource, key) in enumerate(zip(resources, per_resource, strict=True)):
        decision_id = f"{batch}-{index}"
        item = raw.get(key)
        if not isinstance(item, dict):
            out[resource.id] = Decision(False, {}, "the policy gave no decision", decision_id)
            continue
        masks = item.get("masks")
        out[resource.id] = Decision(
            allow=item.get("allow") is True,
            masks={str(k): str(v) for k, v in masks.items()} if isinstance(masks, dict) else {},
            reason=str(item.get("reason", "")),
            decision_id=decision_id,
        )
    return out
