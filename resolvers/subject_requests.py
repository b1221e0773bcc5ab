"""Data-subject requests from the API: erasure under the two-person rule (proposeErasure by
one privacy officer, approveErasure by another) and access exports. Each is decided by the
policy (DataSubject resource, actions ``erase`` / ``export``) and audited: the records carry
ids and field names, never a value."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graph.repositories.erasure import customer_footprint
from graph.store import GraphStore
from privacy.erasure import (
    ErasureError,
    ErasureRequest,
    ErasureStore,
    FourEyesViolation,
    erase_customer,
)
from privacy.erasure_ledger import ErasureLedger
from privacy.subject_export import export_customer
from privacy.types import AuditUnavailable, Resource
from resolvers.errors import BadUserInput, NotFound
from resolvers.privacy import Forbidden, RequestPrivacy

ERASE, EXPORT = "erase", "export"
REQUESTS = Resource("DataSubject", "requests")


def _subject(privacy: RequestPrivacy) -> str:
    return privacy.principal.subject if privacy.principal is not None else ""


async def propose_erasure(
    privacy: RequestPrivacy, store: GraphStore, data_dir: Path, customer_id: str, reason: str
) -> ErasureRequest:
    await privacy.require_resource(Resource("DataSubject", customer_id), ERASE)
    if await customer_footprint(store, customer_id) is None:
        raise NotFound("no customer with this id", field="customerId")
    try:
        request = ErasureStore(data_dir).propose(customer_id, reason, _subject(privacy))
    except ErasureError as exc:
        raise BadUserInput(str(exc), field="reason") from exc
    privacy.details["erasure_proposed"] = {"request": request.id, "customer": customer_id}
    return request


async def approve_erasure(
    privacy: RequestPrivacy,
    store: GraphStore,
    data_dir: Path,
    request_id: str,
    ledger_mirrors: Sequence[Path],
) -> ErasureRequest:
    """Carry out another officer's erasure request; write-ahead audited, written to the
    erasure ledger (the data dir's and ``ledger_mirrors``) before it runs."""
    # Decided before the request is looked up: nobody else learns which request ids exist.
    await privacy.require_resource(REQUESTS, ERASE)
    requests = ErasureStore(data_dir)
    try:
        request = requests.pending(request_id, _subject(privacy))
    except FourEyesViolation as exc:
        privacy.denied = True
        raise Forbidden(str(exc)) from exc
    except ErasureError as exc:
        raise BadUserInput(str(exc), field="requestId") from exc
    await privacy.require_resource(Resource("DataSubject", request.customer_id), ERASE)
    await privacy.audit_intent(
        {"erase": request.id, "customer": request.customer_id}, (request.customer_id,)
    )
    ledger = ErasureLedger(data_dir, ledger_mirrors)
    erased = await erase_customer(store, request.customer_id, ledger, request.id)
    if erased is None:
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


__all__ = ["approve_erasure", "export_subject", "propose_erasure"]
