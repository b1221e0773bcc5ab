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
reason), or its proposer withdraws it (``withdrawn``); only a pending one can be approved,
rejected or withdrawn, and a customer has at most one pending (or approved) request at a time.

Approving claims the request: pending -> approved, a compare-and-set under the file's lock, so
of two officers approving at once exactly one carries it out. The claim is a lease
(``C360_ERASURE_CLAIM_LEASE_S``, default ``CLAIM_LEASE``) that the approval renews while its
erasure runs (``ErasureStore.holding``: every third of the lease), so only a claim whose
holder died (a crash, a kill) runs out: such a request can then be approved again, which
completes it; before that a second approval is refused. A failed approval puts the request
back to pending only when nothing of the customer's was removed: one that finds their node
gone and the ledger unreadable leaves it approved (UnfinishedErasure), to be completed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph.fieldcipher import CUSTOMER, HOUSEHOLD, SOCIAL_ACCOUNT, cipher_of
from graph.repositories.erasure import customer_footprint, delete_customer, delete_leftovers
from graph.store import GraphStore
from privacy.erasure_ledger import Erased, ErasureLedger, LedgerError, mirror_paths
from privacy.proposals import PENDING, ProposalFile, person, same_person
from shared.echo import echo
from shared.settings import Settings

__all__ = [
    "APPROVED",
    "CLAIM_LEASE",
    "DONE",
    "REJECTED",
    "STATUSES",
    "WITHDRAWN",
    "DuplicateRequest",
    "ErasureError",
    "ErasureRequest",
    "ErasureStore",
    "FourEyesViolation",
    "InProgress",
    "MissingReason",
    "NotProposer",
    "UnfinishedErasure",
    "claim_lease",
    "erase_customer",
    "reapply_erasures",
]

APPROVED, DONE, REJECTED, WITHDRAWN = "approved", "done", "rejected", "withdrawn"
STATUSES = (PENDING, APPROVED, DONE, REJECTED, WITHDRAWN)
OPEN = (PENDING, APPROVED)  # a customer's request still to be decided or carried out
# How long an approval's claim holds without being renewed (the default of
# C360_ERASURE_CLAIM_LEASE_S). The running erasure renews it every third of it, so a claim
# that runs out is one whose holder died (a crash, a kill), and another approval may take it
# and complete the erasure. The lease bounds how long such a request waits.
CLAIM_LEASE = dt.timedelta(minutes=15)
log = logging.getLogger("c360.erasure")
_TIME = "%Y-%m-%dT%H:%M:%SZ"
FILE_NAME = "erasure-requests.json"
# Index and bookkeeping properties are not the customer's data: left out of "fields".
_NOT_FIELDS = {"phoneBidx", "idNumberBidx", "emailBidx", "nameTok", "id", "idKey"}


class ErasureError(Exception):
    pass


class FourEyesViolation(ErasureError):
    pass


class MissingReason(ErasureError):
    pass


class NotProposer(ErasureError):
    """Only the officer who proposed a request may withdraw it."""


class InProgress(ErasureError):
    """Another approval holds the request's claim (its lease has not run out)."""


class UnfinishedErasure(LedgerError):
    """The customer's node is gone and the ledger cannot be read to finish the erasure: an
    earlier run of this request may have removed them, and the unreadable ledger may hold its
    entry. The request stays approved (``ErasureStore.release``), never pending: a rejection
    there would cancel the entry of an erasure that ran, and a restore would bring them back."""


class DuplicateRequest(ErasureError):
    """The customer already has an open request: ``existing`` is it."""

    def __init__(self, existing: ErasureRequest) -> None:
        super().__init__(
            f"customer {existing.customer_id} already has a {existing.status} erasure request "
            f"{existing.id} (proposed by {existing.proposer} at {existing.created_at}); "
            "approve or reject that one, or its proposer withdraws it"
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
    claimed_at: str | None = None  # when the approval now carrying it out claimed it
    withdrawn_at: str | None = None
    # Until when the claim holds; renewed while its erasure runs (older files: claimed_at
    # plus the lease).
    lease_until: str | None = None
    withdraw_reason: str | None = None  # the proposer's why, when they gave one

    def proposal_audit(self) -> dict[str, Any]:
        """The audit details of this request's proposal, the API's and the CLI's alike."""
        return {"erasure_proposed": {"request": self.id, "customer": self.customer_id}}


def _now(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now(dt.UTC)).strftime(_TIME)


def _time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, _TIME).replace(tzinfo=dt.UTC)


def _lease_end(now: dt.datetime | None, lease: dt.timedelta) -> str:
    """``now`` + ``lease`` in the file's whole seconds, rounded up: a claim never runs out
    before its holder's next renewal is due."""
    end = (now or dt.datetime.now(dt.UTC)) + lease
    if end.microsecond:
        end = end.replace(microsecond=0) + dt.timedelta(seconds=1)
    return _now(end)


def _claim_expiry(request: ErasureRequest, lease: dt.timedelta) -> dt.datetime | None:
    """When an approved request's claim runs out; None: it has (or never had) one. A request
    approved before claims were timed has none: it may be completed at once, as before."""
    if request.lease_until is not None:
        return _time(request.lease_until)
    if request.claimed_at is None:
        return None
    return _time(request.claimed_at) + lease  # claimed before leases were renewed


def claim_lease(settings: Settings) -> dt.timedelta:
    """``C360_ERASURE_CLAIM_LEASE_S`` as a lease."""
    return dt.timedelta(seconds=settings.erasure_claim_lease_s)


class ErasureStore:
    def __init__(
        self, data_dir: Path, lease: dt.timedelta = CLAIM_LEASE, mirrors: Sequence[Path] = ()
    ) -> None:
        if lease <= dt.timedelta(0):
            raise ValueError("the claim lease must be positive")
        self._file = ProposalFile(data_dir / FILE_NAME, "requests", lambda r: ErasureRequest(**r))
        self.path = self._file.path
        self.lease = lease
        # The erasure ledgers (the data dir's, the mirrors): closing a request unerased
        # cancels any entry of it still there (an approval whose own cancellation failed).
        self.ledger = ErasureLedger(data_dir, mirrors)

    @classmethod
    def of(cls, settings: Settings) -> ErasureStore:
        """The data dir's requests, with the configured claim lease and ledger mirrors."""
        return cls(
            settings.resolved_data_dir, claim_lease(settings), mirror_paths(settings.erasure_ledger)
        )

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
        """The pending request a second officer may now reject (``verb``)."""
        return self._decidable(self.load(), request_id, decider, verb)

    def approvable(
        self, request_id: str, approver: str, now: dt.datetime | None = None
    ) -> ErasureRequest:
        """The request a second officer may now approve: pending, or approved with a claim
        that ran out (InProgress while it holds). Checked again, atomically, by ``claim``."""
        return self._decidable(self.load(), request_id, approver, "approve", OPEN, now)

    def _decidable(
        self,
        requests: dict[str, ErasureRequest],
        request_id: str,
        decider: str,
        verb: str,
        states: tuple[str, ...] = (PENDING,),
        now: dt.datetime | None = None,
    ) -> ErasureRequest:
        request = requests.get(request_id)
        if request is None:
            raise ErasureError(f"no erasure request {echo(request_id)!r}")
        if request.status not in states:
            raise ErasureError(f"erasure request {request_id} is {request.status} already")
        expiry = _claim_expiry(request, self.lease) if request.status == APPROVED else None
        if expiry is not None and (now or dt.datetime.now(dt.UTC)) < expiry:
            raise InProgress(
                f"erasure request {request_id} is approved already: {request.approver} is "
                f"carrying it out (claimed at {request.claimed_at}, renewed while it runs); "
                f"if that run stopped, it can be approved again after {_now(expiry)}"
            )
        if same_person(request.proposer, decider):
            raise FourEyesViolation(
                f"the officer who proposed an erasure cannot {verb} it; another privacy "
                "officer must"
            )
        return request

    def claim(
        self, request_id: str, approver: str, now: dt.datetime | None = None
    ) -> ErasureRequest:
        """Mark a pending request approved (being carried out) by ``approver``: a
        compare-and-set under the lock, so of two approvals (or an approval and a rejection)
        exactly one gets it, the other finds it decided (ErasureError, InProgress). An approved
        one whose claim ran out is claimed again (an erasure cut short by a crash: the ledger
        has it, running it again completes it)."""
        with self._file.editing() as requests:
            request = self._decidable(requests, request_id, approver, "approve", OPEN, now)
            request.status, request.approver = APPROVED, approver
            request.claimed_at = _now(now)
            request.lease_until = _lease_end(now, self.lease)
        return request

    def renew(self, request: ErasureRequest, now: dt.datetime | None = None) -> bool:
        """Extend this claim's lease by another lease from ``now``, under the lock; False when
        the request no longer holds this claim (done, back to pending, or taken over after the
        claim ran out)."""
        with self._file.editing() as requests:
            stored = requests.get(request.id)
            if stored is None or not _same_claim(stored, request):
                return False
            stored.lease_until = _lease_end(now, self.lease)
        return True

    @asynccontextmanager
    async def holding(self, request: ErasureRequest) -> AsyncIterator[None]:
        """Keep ``request``'s claim (from ``claim``) while the block runs: renewed every third
        of the lease, so only a claim whose holder died runs out. The renewals stop when the
        block ends, normally or not; one that is failing (a full disk) is logged and tried
        again at the next beat (the erasure goes on: stopping it half-way helps nobody)."""
        stop = asyncio.Event()

        async def beat() -> None:
            every = self.lease.total_seconds() / 3
            while True:
                try:
                    await asyncio.wait_for(stop.wait(), every)
                    return
                except TimeoutError:
                    pass
                try:
                    held = await asyncio.to_thread(self.renew, request)
                except Exception as exc:  # the erasure's outcome must not be lost to it
                    log.warning("erasure request %s: lease not renewed: %s", request.id, exc)
                    continue
                if not held:
                    log.warning("erasure request %s: its claim was lost", request.id)
                    return

        task = asyncio.create_task(beat(), name=f"erasure-lease-{request.id}")
        try:
            yield
        finally:
            stop.set()
            await task  # a renewal being written finishes first

    def release(self, request: ErasureRequest, now: dt.datetime | None = None) -> None:
        """End this claim's lease, the request still approved: its erasure may have run
        (UnfinishedErasure), so it must not become rejectable; the next approval (at once, by
        any officer but the proposer) completes it. Only this claim's, as ``unclaim``."""
        with self._file.editing() as requests:
            stored = requests.get(request.id)
            if stored is not None and _same_claim(stored, request):
                stored.lease_until = _now(now)

    def unclaim(self, request: ErasureRequest) -> None:
        """Back to pending: the erasure did not run (ledger unavailable, customer not found).
        Only this claim's: one that ran out and was taken by another approval stays."""
        with self._file.editing() as requests:
            stored = requests.get(request.id)
            if stored is not None and _same_claim(stored, request):
                stored.status, stored.approver, stored.claimed_at = PENDING, None, None
                stored.lease_until = None

    def withdrawable(self, request_id: str, by: str) -> ErasureRequest:
        """The pending request ``by`` proposed and may withdraw (NotProposer for anyone else)."""
        return self._withdrawable(self.load(), request_id, by)

    @staticmethod
    def _withdrawable(
        requests: dict[str, ErasureRequest], request_id: str, by: str
    ) -> ErasureRequest:
        request = requests.get(request_id)
        if request is None:
            raise ErasureError(f"no erasure request {echo(request_id)!r}")
        if request.status != PENDING:
            raise ErasureError(f"erasure request {request_id} is {request.status} already")
        # The inverse of four eyes: a proposer takes back their own request; anyone else
        # closes it with a reason (reject), which the trail keeps.
        if not person(by) or person(by) != person(request.proposer):
            raise NotProposer(
                f"only the officer who proposed erasure request {request_id} can withdraw it; "
                "another privacy officer rejects it (with a reason)"
            )
        return request

    def withdraw(self, request_id: str, by: str, reason: str | None = None) -> ErasureRequest:
        """Close a pending request unerased at its proposer's word, with their ``reason``
        when given (kept as ``withdraw_reason``), under the lock (an approval claiming it
        meanwhile wins: it is then no longer pending). Raises LedgerError (not withdrawn) when
        a ledger names it and cannot be written to cancel that."""
        if reason is not None and not reason.strip():
            raise MissingReason("the reason for the withdrawal is blank: give one or leave it out")
        with self._file.editing() as requests:
            request = self._withdrawable(requests, request_id, by)
            # Under the lock: no approval can claim it (and write a new entry) meanwhile.
            self.ledger.cancel(request.id, request.customer_id)
            request.status, request.withdrawn_at = WITHDRAWN, _now()
            request.withdraw_reason = reason.strip() if reason is not None else None
        return request

    def reject(self, request_id: str, rejecter: str, reason: str) -> ErasureRequest:
        """Close a pending request unerased; not by its proposer (four eyes, as approving).
        Raises LedgerError (not rejected) as ``withdraw``."""
        if not reason.strip():
            raise MissingReason("give a reason for the rejection (e.g. the ticket's outcome)")
        with self._file.editing() as requests:
            request = self._decidable(requests, request_id, rejecter, "reject")
            self.ledger.cancel(request.id, request.customer_id)  # under the lock, as withdraw
            request.status, request.rejected_by, request.rejected_at = REJECTED, rejecter, _now()
            request.rejection_reason = reason.strip()
        return request

    def mark_done(self, request: ErasureRequest, approver: str, erased: dict[str, Any]) -> None:
        request.status, request.approver, request.done_at = DONE, approver, _now()
        request.erased, request.lease_until = erased, None
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


def _same_claim(stored: ErasureRequest, claimed: ErasureRequest) -> bool:
    """``stored`` is still approved under ``claimed``'s claim (same approver and claim time)."""
    return stored.status == APPROVED and (stored.approver, stored.claimed_at) == (
        claimed.approver,
        claimed.claimed_at,
    )


async def erase_customer(
    store: GraphStore, customer_id: str, ledger: ErasureLedger, request_id: str = ""
) -> dict[str, Any] | None:
    """Carry out an approved erasure; what was erased (names and ids only), None when the
    graph holds no such customer. Raises LedgerError (nothing erased) when the ledger cannot
    be written or read; UnfinishedErasure (a LedgerError) when it cannot be read and the
    customer's node is gone already (an earlier run may have erased them).

    Run again for a request whose earlier run stopped (its holder died, its claim ran out), it
    completes that run: the ledger entry is not written twice, and when the node is gone
    already the entry names the data keys still to destroy (``resumed``)."""
    found = await customer_footprint(store, customer_id)
    try:
        earlier = _recorded(ledger, customer_id, request_id)
    except LedgerError as exc:
        if found is not None:
            raise  # nothing of theirs was removed yet: the request may go back to pending
        raise UnfinishedErasure(
            f"{exc}. Customer {customer_id} is no longer in the graph: an earlier run of "
            f"erasure request {request_id} may have erased them, and that ledger may hold its "
            "entry. The request stays approved (it cannot be rejected or withdrawn): make the "
            "erasure ledger readable and approve it again (approveErasure, or c360 erase "
            f"--request {request_id} --approved-by SUBJECT) to complete it"
        ) from exc
    if found is None:
        return None if earlier is None else await _resume(store, earlier)
    households = [h["id"] for h in found["households"] if h["last"]]
    social = sorted(found["socialAccounts"])
    if earlier is None or not (
        set(households) <= set(earlier.households) and set(social) <= set(earlier.social_accounts)
    ):
        ledger.record(Erased.of(customer_id, households, request_id, social))
    await delete_customer(store, customer_id, households)
    # Notes naming them that no HAD edge reaches, display names written before sealing.
    left = await delete_leftovers(store, [customer_id], [], social)
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
        "interactions_deleted": len(found["interactions"]) + left.notes.get(customer_id, 0),
        "accounts_unlinked": sorted(found["accounts"]),
        "social_accounts_unlinked": sorted(found["socialAccounts"]),
        "relations_removed": len(found["related"]),
    }


def _recorded(ledger: ErasureLedger, customer_id: str, request_id: str) -> Erased | None:
    """This request's ledger entry for the customer, written by an earlier run of it."""
    if not request_id:
        return None
    for entry in ledger.entries():
        if entry.request == request_id and entry.customer_id == customer_id:
            return entry
    return None


async def _resume(store: GraphStore, entry: Erased) -> dict[str, Any]:
    """Finish a run of ``entry``'s request that removed the customer's node and stopped
    before (or while) removing what no edge reaches (:func:`delete_leftovers`: notes naming
    them, their households left empty, plain display names), destroying the data keys and
    compacting the log."""
    left = await delete_leftovers(
        store, [entry.customer_id], list(entry.households), list(entry.social_accounts)
    )
    cipher = cipher_of(store)
    key_destroyed = cipher.destroy(CUSTOMER, entry.customer_id)
    for hid in entry.households:
        cipher.destroy(HOUSEHOLD, hid)
    for account in entry.social_accounts:
        cipher.destroy(SOCIAL_ACCOUNT, account)
    await store.compact()
    return {
        "customer_id": entry.customer_id,
        "resumed": True,  # the node was gone: only what no edge reaches was found again
        "fields": [],
        "key_destroyed": key_destroyed,
        "households_erased": list(entry.households),
        "households_left": [],
        "interactions_deleted": left.notes.get(entry.customer_id, 0),
        "accounts_unlinked": [],
        "social_accounts_unlinked": list(entry.social_accounts),
        "relations_removed": 0,
    }


async def reapply_erasures(store: GraphStore, erased: list[Erased]) -> list[dict[str, Any]]:
    """Erase the ledger's customers again (after a restore of an older backup): destroy any
    data key of theirs that is back, remove their nodes, and what :func:`delete_leftovers`
    finds of theirs (interactions naming them no HAD edge reaches, their households left
    without members, their social accounts' display names still plain). What was found again,
    per customer (ids only); customers with nothing left to erase are not listed."""
    cipher = cipher_of(store)
    found_of: list[tuple[Erased, bool, list[str], list[str]]] = []
    for entry in erased:
        found = await customer_footprint(store, entry.customer_id)
        households = list(entry.households)
        social = list(entry.social_accounts)
        if found is not None:
            households += [h["id"] for h in found["households"] if h["last"]]
            households = list(dict.fromkeys(households))
            social = list(dict.fromkeys([*social, *found["socialAccounts"]]))
            await delete_customer(store, entry.customer_id, households)
        found_of.append((entry, found is not None, households, social))
    # One scan of the interactions for every entry.
    left = await delete_leftovers(
        store,
        [e.customer_id for e in erased],
        sorted({h for _, _, households, _ in found_of for h in households}),
        sorted({s for _, _, _, social in found_of for s in social}),
    )
    redone = []
    for entry, removed, households, social in found_of:
        keys = [cipher.destroy(CUSTOMER, entry.customer_id)]
        keys += [cipher.destroy(HOUSEHOLD, h) for h in households]
        keys += [cipher.destroy(SOCIAL_ACCOUNT, s) for s in social]
        leftovers = (
            left.notes.get(entry.customer_id, 0)
            + len(left.households & set(households))
            + len(left.display_names & set(social))
        )
        if removed or any(keys) or leftovers:
            redone.append(
                {"customer_id": entry.customer_id, "request": entry.request,
                 "node_removed": removed, "keys_destroyed": sum(keys),
                 "leftovers_removed": leftovers}
            )  # fmt: skip
    if any(r["node_removed"] or r["leftovers_removed"] for r in redone):
        await store.compact()
    return redone
