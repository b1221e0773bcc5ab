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


@strawberry.type(description="Which personal fields of one customer a request revealed or masked.")
class FieldAccess:
    customer_id: str = strawberry.field(description="the customer")
    revealed: list[str] = strawberry.field(description="field names shown unmasked")
    masked: list[str] = strawberry.field(description="field names masked or withheld")


@strawberry.type(description="One record of the audit log: who asked what, and what they saw.")
class AuditEvent:
    seq: int = strawberry.field(description="position in the log (its hash chain)")
    time: str = strawberry.field(description="ISO-8601 UTC")
    request_id: str = strawberry.field(description="the request's id (X-Request-ID)")
    subject: str | None = strawberry.field(description="who made the request; null: unknown")
    roles: list[str] = strawberry.field(description="the caller's roles")
    purpose: str | None = strawberry.field(description="the purpose the caller declared")
    operation: str = strawberry.field(
        description="the GraphQL operation name, or its type when unnamed"
    )
    query_sha256: str = strawberry.field(description="SHA-256 of the query text (hex)")
    customer_ids: list[str] = strawberry.field(description="the customers it touched")
    fields: list[FieldAccess] = strawberry.field(description="per customer, what was shown")
    decision_ids: list[str] = strawberry.field(description="the policy decisions it applied")
    policy_revision: str = strawberry.field(description="the policy revision in force")
    outcome: str = strawberry.field(description="ok, denied or error")
    details: strawberry.scalars.JSON = strawberry.field(
        description="more about the event (a JSON object)"
    )

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


@strawberry.input(description="Which audit records to list; every given condition must hold.")
class AuditFilter:
    subject: str | None = strawberry.field(default=None, description="made by this subject")
    customer_id: str | None = strawberry.field(default=None, description="touched this customer")
    since: datetime | None = strawberry.field(default=None, description="inclusive")
    until: datetime | None = strawberry.field(default=None, description="exclusive")
    outcome: str | None = strawberry.field(default=None, description="ok, denied or error")


@strawberry.type(description="An active policy module (Rego) or the policy data document.")
class Policy:
    id: str = strawberry.field(description="module id (file stem); `data` is the data document")
    revision: str = strawberry.field(description="SHA-256 of the source")
    source: str = strawberry.field(description="the Rego source, or the data document as JSON")
    tests: list[str] = strawberry.field(description="names of the Rego tests in the module")


@strawberry.type(description="The outcome of one policy test or invariant.")
class PolicyTestResult:
    name: str = strawberry.field(description="the test or invariant")
    passed: bool = strawberry.field(description="it passed")
    message: str = strawberry.field(description="what failed, or a note")


@strawberry.type(description="A policy change tested, and whether it was activated.")
class PolicyTestReport:
    passed: bool = strawberry.field(description="every test and invariant passed")
    activated: bool = strawberry.field(description="the change is now in force")
    old_revision: str = strawberry.field(description="the revision before the change")
    new_revision: str = strawberry.field(description="the candidate's revision")
    results: list[PolicyTestResult] = strawberry.field(description="each test and invariant")

    @classmethod
    def from_report(cls, r: TestReport) -> PolicyTestReport:
        return cls(
            passed=r.passed,
            activated=r.activated,
            old_revision=r.old_revision,
            new_revision=r.new_revision,
            results=[PolicyTestResult(name=n, passed=ok, message=m) for n, ok, m in r.results],
        )


@strawberry.type(
    description="A proposed policy change under the two-person rule: tested when proposed, "
    "activated when a second privacy officer approves it."
)
class PolicyProposal:
    id: str = strawberry.field(description="the proposal's id")
    policy_id: str = strawberry.field(description="module id, or `data` for the data document")
    source: str = strawberry.field(description="the proposed source")
    proposer: str = strawberry.field(description="who proposed it")
    created_at: str = strawberry.field(description="ISO-8601 UTC")
    status: str = strawberry.field(description="pending, failed, approved or rejected")
    passed: bool = strawberry.field(description="every policy test and invariant passed")
    base_revision: str = strawberry.field(description="the active revision it was tested on")
    candidate_revision: str = strawberry.field(description="SHA-256 of the proposed source")
    results: list[PolicyTestResult] = strawberry.field(description="each test and invariant")
    decided_by: str | None = strawberry.field(description="who approved or rejected it")
    decided_at: str | None = strawberry.field(description="when, ISO-8601 UTC")
    note: str | None = strawberry.field(description="the rejecter's note")
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


@strawberry.type(description="How one personal field of Customer would show.")
class FieldPreview:
    field: str = strawberry.field(description="the Customer field's GraphQL name")
    kind: str = strawberry.field(description="its SensitiveKind")
    mode: str = strawberry.field(
        description="the mask mode: reveal, partial, hash, redact, band or year"
    )
    masked: bool = strawberry.field(description="the field would not show in full")


@strawberry.type(description="What a role would see of a customer, and why (previewAccess).")
class AccessPreview:
    allowed: bool = strawberry.field(description="the role may see the customer at all")
    reason: str = strawberry.field(description="the policy's reason for its decision")
    fields: list[FieldPreview] = strawberry.field(description="each personal field of Customer")


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
