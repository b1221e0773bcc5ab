"""Erasure on request (PIPL Art. 47) by crypto-shredding, under a two-person rule.

One privacy officer proposes (customer id + reason), another approves; the approval runs the
erasure: the graph forgets the customer (node, links, blind-index properties, interactions,
a household only they belonged to), the customer's data key (and such a household's) is
destroyed, and the graph's write log is compacted so the old records leave it. The erasure is
written to the erasure ledger first (privacy.erasure_ledger): a backup taken before it holds
the customer's data key too, and ``c360 restore`` erases the ledger's customers again.

Requests live in ``$C360_DATA_DIR/erasure-requests.json`` (0600, privacy.proposals: the
four-eyes store policy changes use too): ids, subjects, times, the reason and the erased
field *names*, never a value. A request is ``pending`` until another officer approves it
(``approved`` while it is carried out, ``done`` after) or rejects it (``rejected``, with a
reason); only a pending one can be approved or rejected, and a customer has at most one
pending (or approved) request at a time.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph.fieldcipher import CUSTOMER, HOUSEHOLD, SOCIAL_ACCOUNT, cipher_of
from graph.repositories.erasure import customer_footprint, delete_customer
from graph.store import GraphStore
from privacy.erasure_ledger import Erased, ErasureLedger
from privacy.proposals import PENDING, ProposalFile, same_person

__all__ = [
    "APPROVED",
    "DONE",
    "REJECTED",
    "STATUSES",
    "DuplicateRequest",
    "ErasureError",
    "ErasureRequest",
    "ErasureStore",
    "FourEyesViolation",
    "MissingReason",
    "erase_customer",
    "reapply_erasures",
]

APPROVED, DONE, REJECTED = "approved", "done", "rejected"
STATUSES = (PENDING, APPROVED, DONE, REJECTED)
OPEN = (PENDING, APPROVED)  # a customer's request still to be decided or carried out
FILE_NAME = "erasure-requests.json"
# Index and bookkeeping properties are not the customer's data: left out of "fields".
_NOT_FIELDS = {"phoneBidx", "idNumberBidx", "emailBidx", "nameTok", "id"}


class ErasureError(Exception):
    pass


class FourEyesViolation(ErasureError):
    pass


class MissingReason(ErasureError):
    pass


class DuplicateRequest(ErasureError):
    """The customer already has an open request: ``existing`` is it."""

    def __init__(self, existing: ErasureRequest) -> None:
        super().__init__(
            f"customer {existing.customer_id} already has a {existing.status} erasure request "
            f"{existing.id} (proposed by {existing.proposer} at {existing.created_at}); "
            "approve or reject that one"
        )
        self.existing = existing


@dataclass
class ErasureRequest:
    id: str
    customer_id: str
    reason: str
    proposer: str
    created_at: str
    status: str = PENDING
    approver: str | None = None
    done_at: str | None = None
    erased: dict[str, Any] = field(default_factory=dict)
    rejected_by: str | None = None
    rejected_at: str | None = None
    rejection_reason: str | None = None


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ErasureStore:
    def __init__(self, data_dir: Path) -> None:
        self._file = ProposalFile(data_dir / FILE_NAME, "requests", lambda r: ErasureRequest(**r))
        self.path = self._file.path

    def load(self) -> dict[str, ErasureRequest]:
        return self._file.load()

    def propose(self, customer_id: str, reason: str, proposer: str) -> ErasureRequest:
        """A new pending request; DuplicateRequest when the customer has an open one (checked
        under the file's lock: two officers proposing at once make one request)."""
        if not reason.strip():
            raise MissingReason("give a reason (e.g. the request's ticket number)")
        request = ErasureRequest(
            id=f"er-{uuid.uuid4().hex[:12]}",
            customer_id=customer_id,
            reason=reason.strip(),
            proposer=proposer,
            created_at=_now(),
        )
        with self._file.editing() as requests:
            for other in requests.values():
                if other.customer_id == customer_id and other.status in OPEN:
                    raise DuplicateRequest(other)
            requests[request.id] = request
        return request

    def pending(self, request_id: str, decider: str, verb: str = "approve") -> ErasureRequest:
        """The request a second officer may now approve (or reject: ``verb``)."""
        return self._decidable(self.load(), request_id, decider, verb)

    @staticmethod
    def _decidable(
        requests: dict[str, ErasureRequest],
        request_id: str,
        decider: str,
        verb: str,
        states: tuple[str, ...] = (PENDING,),
    ) -> ErasureRequest:
        request = requests.get(request_id)
        if request is None:
            raise ErasureError(f"no erasure request {request_id!r}")
        if request.status not in states:
            raise ErasureError(f"erasure request {request_id} is {request.status} already")
        if same_person(request.proposer, decider):
            raise FourEyesViolation(
                f"the officer who proposed an erasure cannot {verb} it; another privacy "
                "officer must"
            )
        return request

    def claim(self, request_id: str, approver: str) -> ErasureRequest:
        """Mark a pending request approved (being carried out), under the lock: a rejection
        arriving meanwhile finds it no longer pending. An approved one can be claimed again
        (an erasure cut short by a crash: the ledger has it, running it again completes it)."""
        with self._file.editing() as requests:
            request = self._decidable(requests, request_id, approver, "approve", OPEN)
            request.status, request.approver = APPROVED, approver
        return request

    def unclaim(self, request: ErasureRequest) -> None:
        """Back to pending: the erasure did not run (ledger unavailable, customer not found)."""
        with self._file.editing() as requests:
            stored = requests.get(request.id)
            if stored is not None and stored.status == APPROVED:
                stored.status, stored.approver = PENDING, None

    def reject(self, request_id: str, rejecter: str, reason: str) -> ErasureRequest:
        """Close a pending request unerased; not by its proposer (four eyes, as approving)."""
        if not reason.strip():
            raise MissingReason("give a reason for the rejection (e.g. the ticket's outcome)")
        with self._file.editing() as requests:
            request = self._decidable(requests, request_id, rejecter, "reject")
            request.status, request.rejected_by, request.rejected_at = REJECTED, rejecter, _now()
            request.rejection_reason = reason.strip()
        return request

    def mark_done(self, request: ErasureRequest, approver: str, erased: dict[str, Any]) -> None:
        request.status, request.approver, request.done_at = DONE, approver, _now()
        request.erased = erased
        self._file.put(request)

    def list(self, status: str | None = None) -> list[ErasureRequest]:
        """Requests with ``status`` (None: all), oldest first."""
        return [r for _, r in self.numbered(status)]

    def numbered(self, status: str | None = None) -> Sequence[tuple[int, ErasureRequest]]:
        """(position in the file, request), oldest first: the file keeps requests in the order
        they were made and never drops one, so a position is a stable key (``created_at`` has
        whole seconds: two requests in one second would tie)."""
        return [
            (n, r)
            for n, r in enumerate(self.load().values())
            if status is None or r.status == status
        ]


async def erase_customer(
    store: GraphStore, customer_id: str, ledger: ErasureLedger, request_id: str = ""
) -> dict[str, Any] | None:
    """Carry out an approved erasure; what was erased (names and ids only), None when the
    graph holds no such customer. Raises LedgerError (nothing erased) when the ledger cannot
    be written."""
    found = await customer_footprint(store, customer_id)
    if found is None:
        return None
    households = [h["id"] for h in found["households"] if h["last"]]
    social = sorted(found["socialAccounts"])
    ledger.record(Erased.of(customer_id, households, request_id, social))
    await delete_customer(store, customer_id, households)
    cipher = cipher_of(store)
    key_destroyed = cipher.destroy(CUSTOMER, customer_id)
    for hid in households:
        cipher.destroy(HOUSEHOLD, hid)
    # The accounts they confirmed stay (public posts), their display names (often the
    # customer's real name) become unreadable.
    for account in social:
        cipher.destroy(SOCIAL_ACCOUNT, account)
    # The old records (plain before encryption was wired, sealed after) leave the write log.
    await store.compact()
    return {
        "customer_id": customer_id,
        "fields": sorted(set(found["fields"]) - _NOT_FIELDS),
        "key_destroyed": key_destroyed,
        "households_erased": households,
        "households_left": [h["id"] for h in found["households"] if not h["last"]],
        "interactions_deleted": len(found["interactions"]),
        "accounts_unlinked": sorted(found["accounts"]),
        "social_accounts_unlinked": sorted(found["socialAccounts"]),
        "relations_removed": len(found["related"]),
    }


async def reapply_erasures(store: GraphStore, erased: list[Erased]) -> list[dict[str, Any]]:
    """Erase the ledger's customers again (after a restore of an older backup): destroy any
    data key of theirs that is back, remove their nodes. What was found again, per customer
    (ids only); customers with nothing left to erase are not listed."""
    cipher = cipher_of(store)
    redone = []
    for entry in erased:
        found = await customer_footprint(store, entry.customer_id)
        households = list(entry.households)
        social = list(entry.social_accounts)
        if found is not None:
            households += [h["id"] for h in found["households"] if h["last"]]
            households = list(dict.fromkeys(households))
            social = list(dict.fromkeys([*social, *found["socialAccounts"]]))
            await delete_customer(store, entry.customer_id, households)
        keys = [cipher.destroy(CUSTOMER, entry.customer_id)]
        keys += [cipher.destroy(HOUSEHOLD, h) for h in households]
        keys += [cipher.destroy(SOCIAL_ACCOUNT, s) for s in social]
        if found is not None or any(keys):
            redone.append(
                {"customer_id": entry.customer_id, "request": entry.request,
                 "node_removed": found is not None, "keys_destroyed": sum(keys)}
            )  # fmt: skip
    if any(r["node_removed"] for r in redone):
        await store.compact()
    return redone
