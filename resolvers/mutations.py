"""Writes from the API, validated by the same models as the CRM import (ingest.records)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from graph.repositories.customers import (
    CLEARABLE,
    case_twins,
    existing_customer_ids,
    upsert_customers,
)
from graph.repositories.imports import held, lookup_customers
from graph.repositories.interactions import interaction_owners, upsert_interactions
from graph.store import GraphStore, Row
from privacy.erasure_ledger import ErasureLedger, LedgerError
from resolvers.errors import ApiError, BadUserInput, NotFound
from resolvers.privacy import RequestPrivacy
from shared.records import (
    CustomerRecord,
    InteractionRecord,
    stored_id_reasons,
    validation_reasons,
)
from shared.settings import Settings
from shared.validators import NO_CASE_TWIN, case_twin_parent, field_too_long, id_key, id_reason

M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: dict[str, Any]) -> M:
    """The record, or BadUserInput naming the first offending field (never its value). The
    import's checks: its length limit per value and its rule for key ids (shared.validators),
    then the record model."""
    for name, value in data.items():
        if isinstance(value, str) and (too_long := field_too_long(name, value)) is not None:
            raise BadUserInput(too_long, field=name, reasons=[too_long])
    for name in getattr(model, "KEY_FIELDS", ()):
        if not isinstance(value := data.get(name), str):
            continue
        if not value.strip() and model.model_fields[name].is_required():
            # The model reads "" as not given, and pydantic would answer "Field required".
            empty = f"{name}: must not be empty; give the record's id"
            raise BadUserInput(empty, field=name, reasons=[empty])
        if bad := id_reason(name, value):
            raise BadUserInput(bad, field=name, reasons=[bad])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        reasons = validation_reasons(exc)
        first = exc.errors(include_input=False, include_url=False)[0]
        loc = [str(p) for p in first["loc"] if not isinstance(p, int)]
        field = loc[0] if loc else reasons[0].split(":")[0]
        raise BadUserInput("; ".join(reasons), field=field, reasons=reasons) from None


def refuse_erased(settings: Settings, customer_id: str) -> None:
    """BAD_USER_INPUT for a customer the erasure ledger lists: erased under a data-subject
    request, they must not come back through a write (the imports refuse them too). A ledger
    that cannot be read refuses the write (fail closed). Compared without case (shared.
    validators.id_key): ``crm:7`` is the erased ``CRM:7``."""
    ledger = ErasureLedger.of(settings)
    folded = id_key(customer_id)
    try:
        erased = any(id_key(e.customer_id) == folded for e in ledger.entries())
    except LedgerError as exc:
        raise BadUserInput(f"{exc}; no customer was written", field="id") from None
    if erased:
        raise BadUserInput(
            "this customer was erased under a data-subject request and cannot be written "
            "again; use a new customer id if they come back as a new customer",
            field="id",
        )


class IdCaseConflict(ApiError):
    code = "ID_CASE_CONFLICT"


async def case_twin(store: GraphStore, customer_id: str) -> str | None:
    """The stored customer id that differs from ``customer_id`` only by case, when
    ``customer_id`` itself is not stored: writing it would make a second customer."""
    return (await case_twins(store, [customer_id])).get(customer_id)


async def readable(privacy: RequestPrivacy, customer_id: str) -> bool:
    """Whether the caller may read this stored customer: only then does an error name it."""
    decision = await privacy.customer(customer_id)
    return decision is not None and decision.allow


async def missing_customer(
    privacy: RequestPrivacy, store: GraphStore, customer_id: str, field: str = "customerId"
) -> ApiError:
    """The answer to a write naming a customer that is not stored: NOT_FOUND; or, when a
    stored id differs from it only by case (the customer meant), ID_CASE_CONFLICT naming that
    id as the import's dead letter does (shared.validators.case_twin_parent), in the message
    and ``extensions.existing``, when the caller may read that customer (as upsertCustomer
    names it). Nothing is written to either spelling. The twin is looked up (one indexed
    read) only on this path, never for a write whose customer is found."""
    twin = await case_twin(store, customer_id)
    if twin is None:
        return NotFound("no customer with this id", field=field)
    named = await readable(privacy, twin)
    message = case_twin_parent(field, customer_id, twin if named else None)
    return IdCaseConflict(message, field=field, **({"existing": twin} if named else {}))


def refuse_case_twin(twin: str, named: bool) -> IdCaseConflict:
    """ID_CASE_CONFLICT for a new id a stored one differs from only by case; ``extensions.
    existing`` names that one only when the caller may read it (``named``)."""
    message = (
        "id: a customer whose id differs from this one only by case exists; "
        f"{NO_CASE_TWIN}: write the existing id"
    )
    return IdCaseConflict(message, field="id", **({"existing": twin} if named else {}))


CLEAR_BIRTH_DATE_WITH_ID = (
    "birthDate: this customer has an ID number on record, which fixes the birth date; clear "
    "idNumber too (idNumber: null) or leave birthDate out"
)


def cleared_fields(data: dict[str, Any]) -> list[str]:
    """The fields ``data`` gives as None or blank text among those a write clears
    (graph.repositories.customers.CLEARABLE; schema.inputs.clearable marks them in the API)."""
    return [
        name
        for name in CLEARABLE
        if name in data
        and (data[name] is None or (isinstance(data[name], str) and not data[name].strip()))
    ]


async def upsert_customer(store: GraphStore, data: dict[str, Any], now_iso: str) -> str:
    """Writes the given fields and clears those given as null or blank (:data:`CLEARABLE`):
    the property and its blind index or name tokens go (graph.fieldcipher seals None as no
    value), so neither the 360 nor a search finds the old value."""
    if {"consentMarketing", "consentDataSharing"} & data.keys():
        # A consent change is dated, so later processing can tell which answer is current.
        data = {"consentUpdatedAt": now_iso, **data}
    clears = cleared_fields(data)
    record = validate(CustomerRecord, {k: v for k, v in data.items() if k not in clears})
    row = record.to_graph_row()
    if "birthDate" in clears and "birthDate" in row["props"]:
        reason = "birthDate: the idNumber given carries the birth date; leave birthDate out"
        raise BadUserInput(reason, field="birthDate", reasons=[reason])
    row["props"].update(dict.fromkeys(clears))
    if "createdAt" not in row["props"]:
        # A customer created here joins now (lifecycleStage NEW, the churn tenure counted from
        # today); the upsert sets it only when it creates the node, so an update never moves
        # a stored createdAt, nor invents one for a customer imported without it.
        row["createdIfNew"] = now_iso
    # The import's checks against the stored record (its lookup, read only when one applies):
    # the upsert MERGEs the advisor, so an unknown advisorId would create a bare placeholder
    # advisor; a birth date without the ID number on record would contradict it.
    dated = "birthDate" in row["props"] and "idNumber" not in row["props"]
    found = (
        (await lookup_customers(store, [row]))[0] if record.advisorId is not None or dated else {}
    )
    if "advisorId" in found.get("missing", []):
        reason = "advisorId: no advisor with this id; import it first (c360 import advisors)"
        raise BadUserInput(reason, field="advisorId", reasons=[reason])
    if reasons := stored_id_reasons(row["props"], held(found)):
        if "birthDate" in clears:
            reasons = [CLEAR_BIRTH_DATE_WITH_ID]
        raise BadUserInput("; ".join(reasons), field="birthDate", reasons=reasons)
    await upsert_customers(store, [row])
    return record.id


async def log_interaction(
    privacy: RequestPrivacy, store: GraphStore, data: dict[str, Any], now_iso: str
) -> Row:
    """The stored interaction row (props + id + customerId + productCode)."""
    data = {"id": f"ix-{uuid.uuid4().hex}", "time": now_iso, **data}
    record = validate(InteractionRecord, data)
    # The upsert MERGEs the customer; logging against an unknown id must not invent one.
    # The two reads side by side: one round trip's wait, not two.
    existing, owners = await asyncio.gather(
        existing_customer_ids(store, [record.customerId]), interaction_owners(store, [record.id])
    )
    if not existing:
        raise await missing_customer(privacy, store, record.customerId)
    # The upsert would move an interaction of another customer here: one the caller may not
    # write, whose record would then show under this customer (the CRM import moves them).
    owner = owners.get(record.id)
    if owner is not None and owner != record.customerId:
        reason = "id: an interaction of another customer has this id; leave id out for a new one"
        raise BadUserInput(reason, field="id", reasons=[reason])
    row = record.to_graph_row()
    await upsert_interactions(store, [row])
    return {
        **row["props"],
        "id": record.id,
        "customerId": record.customerId,
        "products": [{"code": record.productCode}] if record.productCode else [],
    }


__all__ = [
    "IdCaseConflict",
    "case_twin",
    "cleared_fields",
    "log_interaction",
    "missing_customer",
    "readable",
    "refuse_case_twin",
    "upsert_customer",
    "validate",
]
