"""Privacy administration for the API: the audit trail, policy listing, four-eyes policy
changes (propose / approve / reject) and access previews. Each one is itself decided by the
policy (AuditLog / Policy resources) and audited, so reading the trail or changing a policy
leaves a record too."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any

from graph.repositories.access import ACCESS_KEY, customers_with_access
from graph.store import GraphStore, Row
from privacy.audit import stamp
from privacy.policy_admin import (
    BadPolicyId,
    BadPolicySource,
    CandidateCheckFailed,
    FourEyesViolation,
    PolicyAdmin,
    PolicyInfo,
    ProposalError,
    TestReport,
    UnknownPreviewName,
)
from privacy.policy_proposals import STATUSES, Proposal
from privacy.types import AuditUnavailable, Decision, PolicyUnavailable, Resource
from resolvers.errors import BadUserInput, NotFound
from resolvers.pagination import Page, decode_cursor, fetched_page
from resolvers.privacy import INTENT, READ, Forbidden, RequestPrivacy
from shared.echo import echo_id

AUDIT_LOG = Resource("AuditLog", "audit")
POLICIES = Resource("Policy", "policies")
ADMIN = "admin"
OUTCOMES = ("ok", "denied", "error", INTENT)
# An audit record's seq as its cursor holds it: ASCII digits only (str.isdigit() also takes
# "²" and "١٢٣"), and within the log's 64-bit seq range, so that no cursor reaches int() or the
# audit index's integer compare with a value they refuse (a 500, not BAD_USER_INPUT).
_SEQ = re.compile(r"[0-9]{1,19}")
MAX_SEQ = 2**63 - 1


def _admin(privacy: RequestPrivacy) -> PolicyAdmin:
    if privacy.services.admin is None:
        raise PolicyUnavailable(privacy.services.engine_error)
    return privacy.services.admin


async def audit_events(
    privacy: RequestPrivacy,
    *,
    subject: str | None,
    customer_id: str | None,
    since: datetime | None,
    outcome: str | None,
    first: int,
    after: str | None,
    until: datetime | None = None,
) -> Page[Row]:
    """Decrypted records, newest first; ``after`` is the cursor of the last record seen."""
    await privacy.require_resource(AUDIT_LOG, READ)
    if outcome is not None and outcome not in OUTCOMES:
        raise BadUserInput(f"outcome must be one of {', '.join(OUTCOMES)}", field="filter.outcome")
    before_seq = _cursor_seq(after)
    log = privacy.services.audit
    if log is None:
        raise AuditUnavailable("the audit log is not open")
    if since is not None and until is not None and until <= since:
        raise BadUserInput("filter.until must be after filter.since", field="filter.until")
    # Through the audit index: only this page's records are read and decrypted.
    records, total = await asyncio.to_thread(
        log.query,
        subject=subject,
        customer=customer_id,
        since=stamp(since) if since else None,
        until=stamp(until) if until else None,
        outcome=outcome,
        before_seq=before_seq,
        limit=first + 1,
    )
    return fetched_page(records, first, total, _by_seq)


def _cursor_seq(after: str | None) -> int | None:
    """The seq an ``after`` cursor names (None: from the newest record)."""
    cursor = decode_cursor(after, 1)
    if cursor is None:
        return None
    if _SEQ.fullmatch(cursor[0]) is None or not 1 <= int(cursor[0]) <= MAX_SEQ:
        raise BadUserInput("after is not a cursor from this API", field="after")
    return int(cursor[0])


def _by_seq(record: Row) -> tuple[str]:
    return (str(record["seq"]),)


async def policies(privacy: RequestPrivacy) -> list[PolicyInfo]:
    await privacy.require_resource(POLICIES, READ)
    return _admin(privacy).policies()


def _subject(privacy: RequestPrivacy) -> str:
    return privacy.principal.subject if privacy.principal is not None else ""


def _proposal_details(p: Proposal) -> dict[str, Any]:
    return {
        "proposal": p.id,
        "id": p.policy_id,
        "proposer": p.proposer,
        "status": p.status,
        "passed": p.passed,
        "base_revision": p.base_revision,
        "candidate_revision": p.candidate_revision,
    }


async def policy_proposals(privacy: RequestPrivacy, status: str | None) -> list[Proposal]:
    await privacy.require_resource(POLICIES, READ)
    if status is not None and status not in STATUSES:  # as erasureRequests says (QA, session 16)
        raise BadUserInput(f"status must be one of {', '.join(STATUSES)} (or null)", field="status")
    return _admin(privacy).proposals(status)


def _check_failed(privacy: RequestPrivacy, exc: CandidateCheckFailed, field: str) -> BadUserInput:
    """The candidate's tests crashed, or ran out of time or memory, in their child process:
    only this change is refused, and the request's record says why."""
    privacy.details["policy_check_failed"] = exc.reason
    return BadUserInput(str(exc), field=field, reason=exc.reason)


async def propose_policy(privacy: RequestPrivacy, policy_id: str, source: str) -> Proposal:
    """Test a change and keep it for a second privacy officer; write-ahead audited (the
    proposer's Rego runs before the request's record is written: should it take the
    tests' child process down or out of time, the attempt is on record), then audited with
    its results."""
    await privacy.require_resource(POLICIES, ADMIN)
    # Noted before the id is checked (BadPolicyId below): capped like every audited id.
    await privacy.audit_intent(
        {"propose_policy": echo_id(policy_id), "old_revision": privacy.services.revision}
    )
    try:
        proposal = await _admin(privacy).propose(policy_id, source, _subject(privacy))
    except FourEyesViolation as exc:
        raise Forbidden(str(exc)) from exc
    except BadPolicyId as exc:
        raise BadUserInput(str(exc), field="id") from exc
    except BadPolicySource as exc:
        raise BadUserInput(str(exc), field="source") from exc
    except CandidateCheckFailed as exc:
        raise _check_failed(privacy, exc, "source") from exc
    privacy.details["policy_proposal"] = _proposal_details(proposal)
    return proposal


async def approve_policy(privacy: RequestPrivacy, proposal_id: str) -> tuple[Proposal, TestReport]:
    """Activate another officer's proposal (tests and invariants run again); write-ahead
    audited, and the request record carries the old and new revision."""
    await privacy.require_resource(POLICIES, ADMIN)
    # Noted before the proposal is looked up: a caller's id, capped like every audited id.
    await privacy.audit_intent(
        {"approve_policy": echo_id(proposal_id), "old_revision": privacy.services.revision}
    )
    try:
        proposal, report = await _admin(privacy).approve(proposal_id, _subject(privacy))
    except FourEyesViolation as exc:
        privacy.denied = True
        raise Forbidden(str(exc)) from exc
    except (ProposalError, BadPolicySource) as exc:
        # BadPolicySource: a proposal kept from before its data was checked at proposal.
        raise BadUserInput(str(exc), field="proposalId") from exc
    except CandidateCheckFailed as exc:  # a proposal kept from before the tests ran apart
        raise _check_failed(privacy, exc, "proposalId") from exc
    privacy.details["policy_change"] = {
        **_proposal_details(proposal),
        "approver": _subject(privacy),
        "old_revision": report.old_revision,
        "new_revision": report.new_revision,
        "activated": report.activated,
    }
    return proposal, report


async def reject_policy(privacy: RequestPrivacy, proposal_id: str, note: str | None) -> Proposal:
    """Close another officer's proposal unapplied; write-ahead audited, as approving."""
    await privacy.require_resource(POLICIES, ADMIN)
    # Noted before the proposal is looked up: a caller's id, capped like every audited id.
    await privacy.audit_intent({"reject_policy": echo_id(proposal_id)})
    try:
        proposal = await _admin(privacy).reject(proposal_id, _subject(privacy), note)
    except FourEyesViolation as exc:
        privacy.denied = True
        raise Forbidden(str(exc)) from exc
    except ProposalError as exc:
        raise BadUserInput(str(exc), field="proposalId") from exc
    privacy.details["policy_rejected"] = {**_proposal_details(proposal), "by": _subject(privacy)}
    return proposal


async def put_policy(privacy: RequestPrivacy, policy_id: str, source: str) -> TestReport:
    """Test, then activate, in one step: only with the two-person rule configured off. The
    audit record carries the old and new revision either way."""
    await privacy.require_resource(POLICIES, ADMIN)
    admin = _admin(privacy)
    if admin.two_person:
        privacy.denied = True
        raise Forbidden(
            "the two-person rule is on (C360_POLICY_TWO_PERSON=true): proposePolicy, then "
            "another privacy officer approvePolicy"
        )
    # Noted before the id is checked (BadPolicyId below): capped like every audited id.
    await privacy.audit_intent(
        {"put_policy": echo_id(policy_id), "old_revision": privacy.services.revision}
    )
    try:
        report = await admin.put_policy(policy_id, source, _subject(privacy))
    except BadPolicyId as exc:
        raise BadUserInput(str(exc), field="id") from exc
    except BadPolicySource as exc:
        raise BadUserInput(str(exc), field="source") from exc
    except CandidateCheckFailed as exc:
        raise _check_failed(privacy, exc, "source") from exc
    privacy.details["policy_change"] = {
        "id": policy_id,
        "old_revision": report.old_revision,
        "new_revision": report.new_revision,
        "activated": report.activated,
    }
    return report


async def preview_access(
    privacy: RequestPrivacy,
    store: GraphStore,
    *,
    role: str,
    purpose: str | None,
    customer_id: str,
    subject: str | None,
) -> Decision:
    """The decision ``role`` would get for this customer (reads only its policy attributes)."""
    await privacy.require_resource(POLICIES, READ)
    admin = _admin(privacy)
    # Noted before they are checked (the record says what was asked, refused or not): capped.
    noted: dict[str, Any] = {
        "role": echo_id(role),
        "purpose": None if purpose is None else echo_id(purpose),
    }
    privacy.details["preview"] = noted
    try:
        admin.check_preview(role, purpose)
        row = (await customers_with_access(store, [customer_id])).get(customer_id)
        if row is None:
            raise NotFound("no customer with this id", field="customerId")
        noted["customer"] = customer_id
        # The answer tells this customer's consent state: named in the record's customerIds,
        # so auditEvents(filter: {customerId}) and their access history find it.
        privacy.customers_touched.add(customer_id)
        # Checked again there: a policy activated meanwhile may no longer name the role.
        return await admin.preview_access(role, purpose, row[ACCESS_KEY], subject or "preview")
    except UnknownPreviewName as exc:
        raise BadUserInput(str(exc), field=exc.field) from exc


__all__ = [
    "approve_policy",
    "audit_events",
    "policies",
    "policy_proposals",
    "preview_access",
    "propose_policy",
    "put_policy",
    "reject_policy",
]
