"""What both engines share: the policy input and the reading of its answer."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from privacy.types import Decision, PolicyUnavailable, Principal, Resource

__all__ = ["QUERY_PATH", "build_input", "parse_decisions"]

QUERY_PATH = "c360/access/decisions"


def _classes(resources: list[Resource]) -> tuple[list[str], dict[str, Resource]]:
    """Resources that differ only by id get the same decision (policies never look at the id),
    so a page of 20 000 customers costs one evaluation per distinct attribute set."""
    keys: dict[bytes, str] = {}
    per_resource: list[str] = []
    representatives: dict[str, Resource] = {}
    for r in resources:
        signature = orjson.dumps([r.type, r.attributes], option=orjson.OPT_SORT_KEYS)
        key = keys.get(signature)
        if key is None:
            key = keys[signature] = f"k{len(keys)}"
            representatives[key] = r
        per_resource.append(key)
    return per_resource, representatives


def build_input(principal: Principal, action: str, resources: list[Resource]) -> dict[str, Any]:
    _, representatives = _classes(resources)
    return {
        "subject": principal.policy_input(),
        "purpose": principal.purpose,
        "action": action,
        "resources": [
            {"type": r.type, "id": key, "attributes": r.attributes}
            for key, r in representatives.items()
        ],
    }


def parse_decisions(raw: Any, resources: list[Resource]) -> dict[str, Decision]:
    """One Decision per resource id; a resource the policy left out is denied (fail closed)."""
    if not isinstance(raw, dict):
        raise PolicyUnavailable("the policy returned no decisions object")
    batch = uuid.uuid4().hex
    out: dict[str, Decision] = {}
    per_resource, _ = _classes(resources)
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
