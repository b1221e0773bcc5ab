"""Policy administration for privacy officers: list, test-then-activate, preview access."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from privacy.engines.embedded import EmbeddedEngine
from privacy.policy_set import DATA_ID, PolicySet, override_dir, test_names
from privacy.policy_tests import run_policy_tests
from privacy.types import Decision, PolicyUnavailable, Principal, Resource

__all__ = ["PolicyAdmin", "PolicyInfo", "TestReport"]

_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class ReloadableEngine(Protocol):
    @property
    def policy_set(self) -> PolicySet: ...

    @property
    def revision(self) -> str: ...

    async def reload(self, policy_set: PolicySet) -> None: ...

    async def decide(
        self, principal: Principal, action: str, resources: list[Resource]
    ) -> dict[str, Decision]: ...


@dataclass(frozen=True)
class PolicyInfo:
    id: str
    revision: str  # SHA-256 of this source
    source: str
    tests: list[str]


@dataclass(frozen=True)
class TestReport:
    passed: bool
    results: list[tuple[str, bool, str]]
    old_revision: str
    new_revision: str
    activated: bool


class PolicyAdmin:
    def __init__(self, engine: ReloadableEngine, data_dir: Path) -> None:
        self._engine = engine
        self._data_dir = data_dir

    def policies(self) -> list[PolicyInfo]:
        ps = self._engine.policy_set
        infos = [
            PolicyInfo(i, _sha(src), src, test_names(src)) for i, src in sorted(ps.modules.items())
        ]
        data = json.dumps(ps.data, ensure_ascii=False, indent=2)
        return [*infos, PolicyInfo(DATA_ID, _sha(data), data, [])]

    async def put_policy(self, policy_id: str, source: str) -> TestReport:
        """Compile + run every policy test with the candidate; activate only if all pass.
        The caller audits the change (old_revision -> new_revision)."""
        current = self._engine.policy_set
        old = current.revision
        if not _ID.match(policy_id):
            raise ValueError("policy id must be lower-case letters, digits and _ (e.g. access)")
        try:
            candidate = current.replace(policy_id, source)
        except json.JSONDecodeError as exc:
            return TestReport(False, [("data.json", False, f"not JSON: {exc}")], old, old, False)
        results = [(r.name, r.ok, r.message) for r in run_policy_tests(candidate)]
        passed = bool(results) and all(ok for _, ok, _ in results)
        if passed:
            try:
                EmbeddedEngine(candidate, pool_size=1)  # decision modules compile on their own
            except PolicyUnavailable as exc:
                results.append(("compile", False, str(exc)))
                passed = False
        if not passed:
            return TestReport(False, results, old, candidate.revision, False)
        self._write(policy_id, source)
        await self._engine.reload(candidate)
        return TestReport(True, results, old, candidate.revision, True)

    def _write(self, policy_id: str, source: str) -> None:
        directory = override_dir(self._data_dir)
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{policy_id}.json" if policy_id == DATA_ID else f"{policy_id}.rego"
        tmp = directory / f".{name}.tmp"
        tmp.write_text(source, encoding="utf-8")
        os.replace(tmp, directory / name)

    async def preview_access(
        self,
        role: str,
        purpose: str | None,
        customer_attributes: dict[str, Any],
        subject: str = "preview",
    ) -> Decision:
        """The decision ``role`` would get reading a customer with these attributes.
        ``subject`` is who asks (an advisor sees the customers they manage); the preview
        principal works in the customer's branch. Answered by the live engine."""
        principal = Principal(subject, (role,), purpose, customer_attributes.get("branchId"))
        resource = Resource("Customer", "preview", dict(customer_attributes))
        return (await self._engine.decide(principal, "read", [resource]))["preview"]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
