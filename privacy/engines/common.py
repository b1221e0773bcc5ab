"""What both engines share: the policy input and the reading of its answer."""

from __future__ import annotations

import uuid
from typing import Any

from privacy.types import Decision, PolicyUnavailable, Principal, Resource

__all__ = ["QUERY_PATH", "build_input", "parse_decisions"]

QUERY_PATH = "c360/access/decisions"


def build_input(principal: Principal, action: str, resources: list[Resource]) -> dict[str, Any]:
    return {
        "subject": principal.policy_input(),
        "purpose": principal.purpose,
        "action": action,
        "resources": [{"type": r.type, "id": r.id, "attributes": r.attributes} for r in resources],
    }


def parse_decisions(raw: Any, resources: list[Resource]) -> dict[str, Decision]:
    """One Decision per resource id; a resource the policy left out is denied (fail closed)."""
    if not isinstance(raw, dict):
        raise PolicyUnavailable("the policy returned no decisions object")
    batch = uuid.uuid4().hex
    out: dict[str, Decision] = {}
    for index, resource in enumerate(resources):
        decision_id = f"{batch}-{index}"
        item = raw.get(resource.id)
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
