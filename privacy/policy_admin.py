"""Policy administration for privacy officers: list, propose / approve (four eyes), preview.

A change is proposed by one privacy officer (tested at once: the policy's own Rego tests plus
the invariants of privacy/policy_invariants.py) and activated only when a different one
approves it, tests and invariants run again. ``put_policy`` (propose + approve by the same
person) is there only when the two-person rule is configured off.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from privacy.policy_check import CandidateCheckFailed, check_in_child
from privacy.policy_proposals import APPROVED, FAILED, PENDING, REJECTED, Proposal, ProposalStore
from privacy.policy_set import (
    DATA_ID,
    PolicyDataError,
    PolicySet,
    load_policy_set,
    override_dir,
    policy_signal,
    test_names,
)
from privacy.proposals import person, same_person
from privacy.secrets import write_private
from privacy.stand_ins import told
from privacy.types import Decision, PolicyEngine, PolicyUnavailable, Principal, Purpose, Resource
from shared.echo import echo

__all__ = [
    "BadPolicyId",
    "BadPolicySource",
    "CandidateCheckFailed",
    "FourEyesViolation",
    "PolicyAdmin",
    "PolicyInfo",
    "ProposalError",
    "TestReport",
    "UnknownPreviewName",
]


class ProposalError(ValueError):
    """No such proposal, or not in a state for this step (the message says what to do)."""


class BadPolicyId(ValueError):
    """The policy id is not one a module or the data document can have."""


class BadPolicySource(ValueError):
    """The source cannot be tested at all (data that is not a data document); the message
    says what is wrong. A Rego module that fails to compile is tested, and fails."""


class FourEyesViolation(PermissionError):
    """The same person would propose and decide a policy change."""


class UnknownPreviewName(ValueError):
    """A preview of a role or purpose no request could be decided under; the message lists
    the known ones, ``field`` names the argument ("role" or "purpose")."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class ReloadableEngine(PolicyEngine, Protocol):
    """A policy engine whose policy set can be read and replaced (both engines are)."""

    @property
    def policy_set(self) -> PolicySet: ...

    async def reload(self, policy_set: PolicySet) -> None: ...


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
    def __init__(
        self,
        engine: ReloadableEngine,
        data_dir: Path,
        two_person: bool = True,
        test_timeout_s: float = 20.0,
        test_memory_mb: int = 1024,
    ) -> None:
        self._engine = engine
        self._data_dir = data_dir
        self.two_person = two_person
        # A candidate's tests run in a child process under these limits (privacy/policy_check.py).
        self.test_timeout_s = test_timeout_s
        self.test_memory_mb = test_memory_mb
        self._store = ProposalStore(data_dir)
        self._lock = asyncio.Lock()  # one proposal change at a time (file and activation)
        # Another worker of the hub (c360 serve --workers N) may approve a change: it bumps
        # this signal, and every process reloads before its next decision (``sync``).
        self._signal = policy_signal(data_dir)
        self._stale = False
        self._sync_lock = asyncio.Lock()
        if hasattr(engine, "before_push"):  # OPA: its drift check reloads from disk first
            engine.before_push = self.reload_from_disk

    async def sync(self) -> None:
        """Load the active policy from the data dir when a process (this one or another
        worker) activated a change since this one last looked: called before every decision.
        A policy that cannot be loaded raises PolicyUnavailable on every call until it can
        (fail closed: the old, maybe wider, policy is not served meanwhile)."""
        if self._signal.changed():
            self._stale = True
        if not self._stale:
            return
        async with self._sync_lock:
            if not self._stale:
                return  # a concurrent request reloaded it while this one waited
            try:
                fresh = await asyncio.to_thread(load_policy_set, self._data_dir)
            except (PolicyDataError, OSError) as exc:
                raise PolicyUnavailable(f"the changed policy cannot be loaded: {exc}") from exc
            if fresh.revision != self._engine.revision:  # the approver has it already
                await self._engine.reload(fresh)
            self._stale = False

    async def reload_from_disk(self) -> None:
        """Load the active policy from the data dir whatever the signal says (the OPA
        engine, before it pushes its policy again: another worker may have activated a newer
        one, and this process has not decided since)."""
        self._stale = True
        await self.sync()

    def policies(self) -> list[PolicyInfo]:
        ps = self._engine.policy_set
        infos = [
            PolicyInfo(i, _sha(src), src, test_names(src)) for i, src in sorted(ps.modules.items())
        ]
        data = json.dumps(ps.data, ensure_ascii=False, indent=2)
        return [*infos, PolicyInfo(DATA_ID, _sha(data), data, [])]

    async def _test(self, policy_id: str, source: str) -> tuple[PolicySet, TestReport]:
        """The candidate and its report (Rego tests + invariants, run in a child process: the
        proposer's Rego can crash or hold regopy); nothing is activated. BadPolicyId /
        BadPolicySource when there is nothing to test, CandidateCheckFailed when the child
        crashed or ran out of time or memory."""
        current = self._engine.policy_set
        old = current.revision
        if not _ID.match(policy_id):
            raise BadPolicyId("policy id must be lower-case letters, digits and _ (e.g. access)")
        try:
            candidate = current.replace(policy_id, source)
        except PolicyDataError as exc:
            # Before any engine sees it: regopy segfaults on data that is not an object.
            raise BadPolicySource(str(exc)) from exc
        results = await check_in_child(
            candidate.modules, candidate.data, self.test_timeout_s, self.test_memory_mb
        )
        passed = bool(results) and all(ok for _, ok, _ in results)
        return candidate, TestReport(passed, results, old, candidate.revision, False)

    def proposals(self, status: str | None = PENDING) -> list[Proposal]:
        """Proposals with ``status`` (None: all), oldest first."""
        found = self._store.load().values()
        return sorted(
            (p for p in found if status is None or p.status == status), key=lambda p: p.created_at
        )

    async def propose(self, policy_id: str, source: str, proposer: str) -> Proposal:
        """Test a change and keep it for a second officer (status pending), or as failed."""
        if not person(proposer):
            raise FourEyesViolation("a proposal needs an identified proposer (token sub)")
        async with self._lock:
            _, report = await self._test(policy_id, source)
            proposal = Proposal(
                id=uuid.uuid4().hex[:16],
                policy_id=policy_id,
                source=source,
                proposer=proposer,
                created_at=_now(),
                base_revision=report.old_revision,
                candidate_revision=report.new_revision,
                passed=report.passed,
                results=report.results,
                status=PENDING if report.passed else FAILED,
            )
            proposals = self._store.load()
            proposals[proposal.id] = proposal
            self._store.save(proposals)
            return proposal

    def _pending(self, proposals: dict[str, Proposal], proposal_id: str, who: str) -> Proposal:
        proposal = proposals.get(proposal_id)
        if proposal is None:
            raise ProposalError("no policy proposal with this id; list them with policyProposals")
        if proposal.status != PENDING:
            raise ProposalError(f"this proposal is {proposal.status}, not pending")
        if same_person(proposal.proposer, who):
            raise FourEyesViolation(
                "the proposer cannot decide their own policy change: another privacy officer "
                "must approve or reject it"
            )
        return proposal

    async def approve(self, proposal_id: str, approver: str) -> tuple[Proposal, TestReport]:
        """Activate a pending proposal for a second officer; tests and invariants run again on
        the active policy, which must still be the one the proposal was tested against."""
        async with self._lock:
            await self.sync()  # the base revision to compare is the one active now
            proposals = self._store.load()
            proposal = self._pending(proposals, proposal_id, approver)
            if self._engine.revision != proposal.base_revision:
                raise ProposalError(
                    "the active policy changed since this proposal was tested; reject it and "
                    "propose the change again"
                )
            candidate, report = await self._test(proposal.policy_id, proposal.source)
            if not report.passed:
                return proposal, report
            self._write(proposal.policy_id, proposal.source)
            await self._engine.reload(candidate)
            self._signal.bump()
            proposal.status, proposal.decided_by, proposal.decided_at = APPROVED, approver, _now()
            proposal.results = report.results
            self._store.save(proposals)
            return proposal, TestReport(True, report.results, report.old_revision,
                                        report.new_revision, True)  # fmt: skip

    async def reject(self, proposal_id: str, rejecter: str, note: str | None = None) -> Proposal:
        async with self._lock:
            proposals = self._store.load()
            proposal = self._pending(proposals, proposal_id, rejecter)
            proposal.status, proposal.decided_by, proposal.decided_at = REJECTED, rejecter, _now()
            proposal.note = note
            self._store.save(proposals)
            return proposal

    async def put_policy(self, policy_id: str, source: str, subject: str = "") -> TestReport:
        """Test and activate in one step: only with the two-person rule off. The caller audits
        the change (old_revision -> new_revision)."""
        if self.two_person:
            raise FourEyesViolation(
                "the two-person rule is on (C360_POLICY_TWO_PERSON): proposePolicy, then another "
                "privacy officer approvePolicy"
            )
        async with self._lock:
            candidate, report = await self._test(policy_id, source)
            if not report.passed:
                return report
            self._write(policy_id, source)
            await self._engine.reload(candidate)
            self._signal.bump()
            return TestReport(True, report.results, report.old_revision, report.new_revision, True)

    def _write(self, policy_id: str, source: str) -> None:
        directory = override_dir(self._data_dir)
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{policy_id}.json" if policy_id == DATA_ID else f"{policy_id}.rego"
        write_private(directory / name, source)

    def check_preview(self, role: str, purpose: str | None) -> None:
        """UnknownPreviewName unless the live policy names ``role`` and ``purpose`` is one a
        request can carry (privacy.types.Purpose) or the policy's tables name: a preview of a
        misspelt role ("advisr") would answer "denied" as if that were the policy's word."""
        policy = self._engine.policy_set
        roles = policy.roles
        if role not in roles:
            raise UnknownPreviewName(
                f"unknown role {echo(role)!r}; the active policy names {', '.join(sorted(roles))}",
                "role",
            )
        purposes = {p.value for p in Purpose} | policy.purposes
        if purpose is not None and purpose not in purposes:
            raise UnknownPreviewName(
                f"unknown purpose {echo(purpose)!r}; use one of {', '.join(sorted(purposes))} "
                "(or none)",
                "purpose",
            )

    async def preview_access(
        self,
        role: str,
        purpose: str | None,
        customer_attributes: dict[str, Any],
        subject: str = "preview",
    ) -> Decision:
        """The decision ``role`` would get reading a customer with these attributes.
        ``subject`` is who asks (an advisor sees the customers they manage); the preview
        principal works in the customer's branch. Answered by the live engine; an unknown
        role or purpose is UnknownPreviewName (:meth:`check_preview`)."""
        self.check_preview(role, purpose)
        principal = Principal(subject, (role,), purpose, customer_attributes.get("branchId"))
        resource = Resource("Customer", "preview", dict(customer_attributes))
        decision = (await self._engine.decide(principal, "read", [resource]))["preview"]
        return replace(decision, reason=told(decision.reason, principal))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
