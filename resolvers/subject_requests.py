"""Data-subject requests from the API: erasure under the two-person rule (proposeErasure by
one privacy officer, approveErasure or rejectErasure by another, withdrawErasure by the
proposer, erasureRequests to list them) and access exports. Each is decided by the policy
(DataSubject resource, actions ``erase`` / ``export``) and audited: the records carry ids and
field names, never a value, and name the customer concerned. A mutation that changes a request
is audited write-ahead (an ``intent`` record first): one the audit log cannot record is not
made (AUDIT_UNAVAILABLE, nothing stored)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from graph.repositories.erasure import customer_footprint
from graph.store import GraphStore
from privacy.erasure import (
    STATUSES,
    DuplicateRequest,
    ErasureError,
    ErasureRequest,
    ErasureStore,
    FourEyesViolation,
    MissingReason,
    NotProposer,
    UnfinishedErasure,
    erase_customer,
)
from privacy.erasure_ledger import LedgerError
from privacy.subject_export import export_customer
from privacy.types import AuditUnavailable, Resource
from resolvers.errors import BadUserInput, NotFound
from resolvers.mutations import missing_customer
from resolvers.pagination import Page, decode_cursor, page_after
from resolvers.privacy import Forbidden, RequestPrivacy

ERASE, EXPORT = "erase", "export"
REQUESTS = Resource("DataSubject", "requests")
T = TypeVar("T")


def _subject(privacy: RequestPrivacy) -> str:
    return privacy.principal.subject if privacy.principal is not None else ""


def _deciding(privacy: RequestPrivacy, step: Callable[[], T]) -> T:
    """``step`` (a decision on a request), its refusals as API errors: the proposer deciding
    (or anyone else withdrawing) is FORBIDDEN (and audited as denied), anything else (unknown
    id, not pending, claimed by another approval, no reason) BAD_USER_INPUT."""
    try:
        return step()
    except (FourEyesViolation, NotProposer) as exc:
        privacy.denied = True
        raise Forbidden(str(exc)) from exc
    except MissingReason as exc:
        raise BadUserInput(str(exc), field="reason") from exc
    except ErasureError as exc:
        raise BadUserInput(str(exc), field="requestId") from exc


async def erasure_requests(
    privacy: RequestPrivacy, data_dir: Path, status: str | None, first: int, after: str | None
) -> Page[ErasureRequest]:
    """Erasure requests with ``status`` (None: all), oldest first, for those who decide them;
    audited with the ids listed (requests and customers)."""
    await privacy.require_resource(REQUESTS, ERASE)
    if status is not None and status not in STATUSES:
        raise BadUserInput(f"status must be one of {', '.join(STATUSES)} (or null)", field="status")
    found = [(f"{n:09d}", r) for n, r in ErasureStore(data_dir).numbered(status)]
    cursor = decode_cursor(after, 1)
    if cursor is not None and not cursor[0].isdigit():
        raise BadUserInput("after is not a cursor from this API", field="after")
    page = page_after(found, lambda item: (item[0],), first, after).map(lambda item: item[1])
    listed = [r for r, _ in page.items]
    # Who has an erasure request is about them: the record names the customers listed.
    privacy.customers_touched.update(r.customer_id for r in listed)
    privacy.details["erasure_requests"] = {
        "status": status,
        "requests": [r.id for r in listed],
        "total": page.total,
    }
    return page


async def propose_erasure(
    privacy: RequestPrivacy, store: GraphStore, data_dir: Path, customer_id: str, reason: str
) -> ErasureRequest:
    await privacy.require_resource(Resource("DataSubject", customer_id), ERASE)
    if await customer_footprint(store, customer_id) is None:
        # One a stored id differs from only by case: named (resolvers.mutations), not erased.
        raise await missing_customer(privacy, store, customer_id)
    # Named by id (no field revealed), as the CLI's proposal is: `audit show --customer`
    # finds it. Write-ahead: a proposal the log cannot record is not stored.
    privacy.customers_touched.add(customer_id)
    await privacy.audit_intent({"propose_erasure": customer_id}, (customer_id,))
    try:
        request = ErasureStore(data_dir).propose(customer_id, reason, _subject(privacy))
    except DuplicateRequest as exc:
        # Refused, not answered with the existing request: that one has another proposer and
        # reason, and the caller's ticket would silently not be recorded.
        raise BadUserInput(str(exc), field="customerId", existingRequestId=exc.existing.id) from exc
    except ErasureError as exc:
        raise BadUserInput(str(exc), field="reason") from exc
    privacy.details.update(request.proposal_audit())
    return request


async def approve_erasure(
    privacy: RequestPrivacy, store: GraphStore, requests: ErasureStore, request_id: str
) -> ErasureRequest:
    """Carry out another officer's erasure request; write-ahead audited, written to the
    erasure ledger (``requests.ledger``: the data dir's and its mirrors, ErasureStore.of)
    before it runs. The claim is a lease, renewed while the erasure runs."""
    # Decided before the request is looked up: nobody else learns which request ids exist.
    await privacy.require_resource(REQUESTS, ERASE)
    request = _deciding(privacy, lambda: requests.approvable(request_id, _subject(privacy)))
    await privacy.require_resource(Resource("DataSubject", request.customer_id), ERASE)
    privacy.customers_touched.add(request.customer_id)  # by id, whatever the outcome
    await privacy.audit_intent(
        {"erase": request.id, "customer": request.customer_id}, (request.customer_id,)
    )
    # The claim is the compare-and-set (under the file's lock): another approval that read
    # the request pending too, or a rejection, finds it decided, and only this one erases.
    request = _deciding(privacy, lambda: requests.claim(request_id, _subject(privacy)))
    try:
        async with requests.holding(request):  # no second approval while it runs
            erased = await erase_customer(store, request.customer_id, requests.ledger, request.id)
    except UnfinishedErasure:
        requests.release(request)  # it may have run: approved, to be completed, not rejected
        raise
    except LedgerError:
        requests.unclaim(request)  # nothing was erased: pending again
        raise
    # Any other failure leaves it approved: the ledger names the customer, approving it again
    # (or a restore) completes the erasure; it must not become rejectable.
    if erased is None:
        requests.unclaim(request)
        raise NotFound("no customer with this id (erased already?)", field="requestId")
    requests.mark_done(request, _subject(privacy), erased)
    privacy.forget(request.customer_id)
    privacy.customers_touched.add(request.customer_id)  # listed by id, no field revealed
    privacy.details["erasure"] = {
        "request": request.id,
        "reason": request.reason,
        "proposer": request.proposer,
        "approver": _subject(privacy),
        **erased,
    }
    return request


async def reject_erasure(
    privacy: RequestPrivacy, requests: ErasureStore, request_id: str, reason: str
) -> ErasureRequest:
    """Close another officer's pending request unerased, with a reason; audited. A rejected
    request can be neither approved nor carried out (a new request is needed). ``requests``
    holds the ledger mirrors (ErasureStore.of): an entry a failed approval left in any of them
    is cancelled."""
    await privacy.require_resource(REQUESTS, ERASE)  # before the lookup, as approving
    request = _deciding(privacy, lambda: requests.pending(request_id, _subject(privacy), "reject"))
    await privacy.require_resource(Resource("DataSubject", request.customer_id), ERASE)
    privacy.customers_touched.add(request.customer_id)  # by id, no field revealed
    await privacy.audit_intent(
        {"reject_erasure": request.id, "customer": request.customer_id}, (request.customer_id,)
    )
    request = _deciding(privacy, lambda: requests.reject(request_id, _subject(privacy), reason))
    privacy.details["erasure_rejected"] = {
        "request": request.id,
        "customer": request.customer_id,
        "proposer": request.proposer,
        "by": request.rejected_by,
        "reason": request.rejection_reason,
    }
    return request


async def withdraw_erasure(
    privacy: RequestPrivacy, requests: ErasureStore, request_id: str, reason: str | None = None
) -> ErasureRequest:
    """Close the caller's own pending request unerased, with an optional ``reason`` (only its
    proposer may; another officer rejects it, with a reason); audited."""
    await privacy.require_resource(REQUESTS, ERASE)  # before the lookup, as approving
    request = _deciding(privacy, lambda: requests.withdrawable(request_id, _subject(privacy)))
    await privacy.require_resource(Resource("DataSubject", request.customer_id), ERASE)
    privacy.customers_touched.add(request.customer_id)  # by id, no field revealed
    await privacy.audit_intent(
        {"withdraw_erasure": request.id, "customer": request.customer_id}, (request.customer_id,)
    )
    request = _deciding(privacy, lambda: requests.withdraw(request_id, _subject(privacy), reason))
    privacy.details["erasure_withdrawn"] = {
        "request": request.id,
        "customer": request.customer_id,
        "by": request.proposer,
        "reason": request.withdraw_reason,
    }
    return request


async def export_subject(
    privacy: RequestPrivacy, store: GraphStore, customer_id: str
) -> dict[str, Any]:
    await privacy.require_resource(Resource("DataSubject", customer_id), EXPORT)
    log = privacy.services.audit
    if log is None:
        raise AuditUnavailable("the audit log is not open")
    exported = await export_customer(store, log, customer_id)
    if exported is None:
        raise NotFound("no customer with this id", field="customerId")
    fields = sorted(k for k in exported["profile"] if k != "id")
    # The request's audit record lists the customer and every field handed out, revealed.
    privacy.customers_touched.add(customer_id)
    privacy.fields[customer_id].revealed.update(fields)
    privacy.details["export"] = {
        "customer": customer_id,
        "history_records": len(exported["accessHistory"]),
    }
    return exported


__all__ = [
    "approve_erasure",
    "erasure_requests",
    "export_subject",
    "propose_erasure",
    "reject_erasure",
    "withdraw_erasure",
]
