"""The app-wide privacy services a request decides and audits through: the policy engine, the
audit log, the masking key and the policy admin, opened once by the hub's lifespan.

``decide`` keeps engine answers for a short while, keyed by what a decision depends on (the
principal, the action, the policy revision, the resource's type and attributes).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import orjson

from privacy.policy_admin import PolicyAdmin
from privacy.types import Decision, PolicyEngine, PolicyUnavailable, Principal, Resource

DECISION_TTL_S = 30.0  # how long an engine answer is reused for the same question
DECISION_CACHE_SIZE = 100_000  # kept answers; all dropped when full


class AuditSink(Protocol):
    """Where a request's audit records go and are read back: the encrypted, hash-chained
    ``AuditLog`` (privacy/audit.py). ``query``: one page, newest first, and the total."""

    async def append(self, record: dict[str, Any]) -> int: ...

    def read(
        self,
        subject: str | None = None,
        customer: str | None = None,
        since: str | None = None,
        last: int | None = None,
        until: str | None = None,
    ) -> list[dict[str, Any]]: ...

    def query(
        self,
        *,
        subject: str | None = None,
        customer: str | None = None,
        since: str | None = None,
        until: str | None = None,
        outcome: str | None = None,
        before_seq: int | None = None,
        limit: int | None = None,
    ) -> tuple[list[dict[str, Any]], int]: ...


@dataclass
class PrivacyServices:
    """What the lifespan opened; ``engine`` None means it failed to load (fail closed)."""

    engine: PolicyEngine | None
    audit: AuditSink | None
    hmac_key: bytes
    admin: PolicyAdmin | None = None
    engine_error: str = "the policy engine is not loaded"

    # (principal, action, revision, resource type + attributes) -> (monotonic time, decision)
    decision_cache: dict[tuple[Any, ...], tuple[float, Decision]] = field(default_factory=dict)

    @property
    def revision(self) -> str:
        return self.engine.revision if self.engine is not None else ""

    async def decide(
        self,
        principal: Principal | None,
        action: str,
        resources: list[Resource],
        fresh: bool = False,
    ) -> dict[str, Decision]:
        """One decision per resource (``fresh``: from the engine, nothing kept or reused).

        Decisions depend only on the principal, the action, the policy revision and the
        resource's type and attributes (never its id), so they are kept for DECISION_TTL_S: a
        search that decides every customer (see resolvers/search.py) asks the engine once per
        attribute set, then costs lookups. A change of policy changes the revision (new keys);
        an engine failure drops every kept decision (fail closed)."""
        if self.engine is None:
            raise PolicyUnavailable(self.engine_error)
        if principal is None:
            raise PolicyUnavailable("no principal for a policy decision")
        now, revision, batch = time.monotonic(), self.revision, uuid.uuid4().hex
        found: dict[str, Decision] = {}
        missing: dict[tuple[Any, ...], list[Resource]] = {}
        for r in resources:
            key = (principal, action, revision, _signature(r))
            kept = None if fresh else self.decision_cache.get(key)
            if kept is not None and now - kept[0] < DECISION_TTL_S:
                found[r.id] = kept[1]
            else:
                missing.setdefault(key, []).append(r)
        if missing:
            asked = [group[0] for group in missing.values()]
            try:
                decided = await self.engine.decide(principal, action, asked)
            except PolicyUnavailable:
                self.decision_cache.clear()
                raise
            if len(self.decision_cache) + len(missing) > DECISION_CACHE_SIZE:
                self.decision_cache.clear()
            for key, group in missing.items():
                decision = decided[group[0].id]
                if not fresh:
                    self.decision_cache[key] = (now, decision)
                found.update((r.id, decision) for r in group)
        # Each answer gets this request's own decision id (the audit record names them).
        return {
            r.id: replace(found[r.id], decision_id=f"{batch}-{i}") for i, r in enumerate(resources)
        }


def _signature(resource: Resource) -> bytes:
    return orjson.dumps([resource.type, resource.attributes], option=orjson.OPT_SORT_KEYS)


__all__ = ["DECISION_CACHE_SIZE", "DECISION_TTL_S", "AuditSink", "PrivacyServices"]
