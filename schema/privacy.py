"""Privacy administration in GraphQL: the audit trail, policies and four-eyes policy changes,
and access previews, for privacy officers and auditors (the policy decides who; see
resolvers/privacy_admin.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types.base import get_object_definition

from privacy.policy_admin import TestReport
from privacy.policy_proposals import Proposal
from resolvers import privacy_admin
from resolvers.pagination import check_first
from schema.extensions.masking import personal_fields
from schema.pagination import Connection, connection
from schema.types import Ctx, Customer


@strawberry.type
class FieldAccess:
    customer_id: str
    revealed: list[str]
    masked: list[str]


@strawberry.type
class AuditEvent:
    seq: int
    time: str = strawberry.field(description="ISO-8601 UTC")
    request_id: str
    subject: str | None
    roles: list[str]
    purpose: str | None
    operation: str
    query_sha256: str
    customer_ids: list[str]
    fields: list[FieldAccess]
    decision_ids: list[str]
    policy_revision: str
    outcome: str = strawberry.field(description="ok, denied or error")
    details: strawberry.scalars.JSON

    @classmethod
    def from_record(cls, r: dict[str, Any]) -> AuditEvent:
        fields = r.get("fields") or {}
        return cls(
            seq=int(r["seq"]),
            time=str(r.get("time", "")),
            request_id=str(r.get("request_id", "")),
            subject=r.get("subject"),
            roles=list(r.get("roles") or []),
            purpose=r.get("purpose"),
            operation=str(r.get("operation", "")),
            query_sha256=str(r.get("query_sha256", "")),
            customer_ids=list(r.get("customer_ids") or []),
            fields=[
                FieldAccess(customer_id=cid, revealed=f["revealed"], masked=f["masked"])
                for cid, f in sorted(fields.items())
            ],
            decision_ids=list(r.get("decision_ids") or []),
            policy_revision=str(r.get("policy_revision", "")),
            outcome=str(r.get("outcome", "")),
            details=strawberry.scalars.JSON(r.get("details") or {}),
        )


@strawberry.input
class AuditFilter:
    subject: str | None = None
    customer_id: str | None = None
    since: datetime | None = strawberry.field(default=None, description="inclusive")
    until: datetime | None = strawberry.field(default=None, description="exclusive")
    outcome: str | None = strawberry.field(default=None, description="ok, denied or error")


@strawberry.type
class Policy:
    id: str = strawberry.field(description="module id (file stem); `data` is the data document")
    revision: str = strawberry.field(description="SHA-256 of the source")
    source: str
    tests: list[str]


@strawberry.type
class PolicyTestResult:
    name: str
    passed: bool
    message: str


@strawberry.type
class PolicyTestReport:
    passed: bool
    activated: bool
    old_revision: str
    new_revision: str
    results: list[PolicyTestResult]

    @classmethod
    def from_report(cls, r: TestReport) -> PolicyTestReport:
        return cls(
            passed=r.passed,
            activated=r.activated,
            old_revision=r.old_revision,
            new_revision=r.new_revision,
            results=[PolicyTestResult(name=n, passed=ok, message=m) for n, ok, m in r.results],
        )


@strawberry.type
class PolicyProposal:
    id: str
    policy_id: str = strawberry.field(description="module id, or `data` for the data document")
    source: str
    proposer: str
    created_at: str = strawberry.field(description="ISO-8601 UTC")
    status: str = strawberry.field(description="pending, failed, approved or rejected")
    passed: bool = strawberry.field(description="every policy test and invariant passed")
    base_revision: str = strawberry.field(description="the active revision it was tested on")
    candidate_revision: str
    results: list[PolicyTestResult]
    decided_by: str | None
    decided_at: str | None
    note: str | None
    activated: bool = strawberry.field(
        default=False, description="this request activated it (approvePolicy)"
    )

    @classmethod
    def from_proposal(cls, p: Proposal, activated: bool = False) -> PolicyProposal:
        return cls(
            id=p.id,
            policy_id=p.policy_id,
            source=p.source,
            proposer=p.proposer,
            created_at=p.created_at,
            status=p.status,
            passed=p.passed,
            base_revision=p.base_revision,
            candidate_revision=p.candidate_revision,
            results=[PolicyTestResult(name=n, passed=ok, message=m) for n, ok, m in p.results],
            decided_by=p.decided_by,
            decided_at=p.decided_at,
            note=p.note,
            activated=activated,
        )


@strawberry.type
class FieldPreview:
    field: str
    kind: str
    mode: str
    masked: bool


@strawberry.type
class AccessPreview:
    allowed: bool
    reason: str
    fields: list[FieldPreview]


@strawberry.type
class PrivacyQuery:
    @strawberry.field(description="the audit trail, newest first (privacy officers, auditors)")
    async def audit_events(
        self,
        info: Ctx,
        filter: AuditFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[AuditEvent]:
        f = filter or AuditFilter()
        page = await privacy_admin.audit_events(
            info.context.privacy,
            subject=f.subject,
            customer_id=f.customer_id,
            since=f.since,
            until=f.until,
            outcome=f.outcome,
            first=check_first(first, info.context.settings.max_page_size),
            after=after,
        )
        return connection(page.map(AuditEvent.from_record))

    @strawberry.field(description="the active policy modules and data document")
    async def policies(self, info: Ctx) -> list[Policy]:
        found = await privacy_admin.policies(info.context.privacy)
        return [Policy(id=p.id, revision=p.revision, source=p.source, tests=p.tests) for p in found]

    @strawberry.field(
        description="policy changes awaiting a second privacy officer (status: pending by "
        "default; failed, approved, rejected, or null for all)"
    )
    async def policy_proposals(
        self, info: Ctx, status: str | None = "pending"
    ) -> list[PolicyProposal]:
        found = await privacy_admin.policy_proposals(info.context.privacy, status)
        return [PolicyProposal.from_proposal(p) for p in found]

    @strawberry.field(
        description="what a role would see of this customer, field by field, and why "
        "(subject: preview as this user, e.g. the customer's advisor)"
    )
    async def preview_access(
        self,
        info: Ctx,
        role: str,
        customer_id: strawberry.ID,
        purpose: str | None = None,
        subject: str | None = None,
    ) -> AccessPreview:
        decision = await privacy_admin.preview_access(
            info.context.privacy,
            info.context.store,
            role=role,
            purpose=purpose,
            customer_id=str(customer_id),
            subject=subject,
        )
        fields = []
        for name, kind, shows in personal_fields(get_object_definition(Customer, strict=True)):
            mode = decision.mode_for(kind)
            fields.append(FieldPreview(field=name, kind=kind, mode=mode, masked=mode not in shows))
        return AccessPreview(allowed=decision.allow, reason=decision.reason, fields=fields)


@strawberry.type
class PrivacyMutation:
    @strawberry.mutation(
        description="propose replacing a policy module (or `data`): compiled and tested at once "
        "(policy tests + invariants), kept as pending for another privacy officer to approve"
    )
    async def propose_policy(self, info: Ctx, id: str, source: str) -> PolicyProposal:
        proposal = await privacy_admin.propose_policy(info.context.privacy, id, source)
        return PolicyProposal.from_proposal(proposal)

    @strawberry.mutation(
        description="approve another privacy officer's pending proposal: tests and invariants "
        "run again on the active policy, which is then replaced (the proposer cannot approve)"
    )
    async def approve_policy(self, info: Ctx, proposal_id: str) -> PolicyProposal:
        proposal, report = await privacy_admin.approve_policy(info.context.privacy, proposal_id)
        shown = PolicyProposal.from_proposal(proposal, activated=report.activated)
        if not report.activated:
            shown.results = [
                PolicyTestResult(name=n, passed=ok, message=m) for n, ok, m in report.results
            ]
        return shown

    @strawberry.mutation(
        description="reject another privacy officer's pending proposal (the proposer cannot)"
    )
    async def reject_policy(
        self, info: Ctx, proposal_id: str, note: str | None = None
    ) -> PolicyProposal:
        proposal = await privacy_admin.reject_policy(info.context.privacy, proposal_id, note)
        return PolicyProposal.from_proposal(proposal)

    @strawberry.mutation(
        description="replace a policy module (or `data`) in one step, tested first: only when "
        "the two-person rule is off (C360_POLICY_TWO_PERSON=false); else FORBIDDEN, use "
        "proposePolicy + approvePolicy"
    )
    async def put_policy(self, info: Ctx, id: str, source: str) -> PolicyTestReport:
        report = await privacy_admin.put_policy(info.context.privacy, id, source)
        return PolicyTestReport.from_report(report)


__all__ = [
    "AccessPreview",
    "AuditEvent",
    "Policy",
    "PolicyProposal",
    "PolicyTestReport",
    "PrivacyMutation",
    "PrivacyQuery",
]
