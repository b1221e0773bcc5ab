"""`c360 erase`: erase a customer by crypto-shredding, under the two-person rule.

c360 erase --customer C1 --reason "ticket 42" --by po1            # propose: prints the id
c360 erase --request er-... --approved-by po2                     # another officer runs it
c360 erase --customer C1 --reason "ticket 42" --by po1 --approved-by po2   # both at once
c360 erase --reject er-... --by po2 --reason "ticket closed: retention"   # another officer
c360 erase --withdraw er-... --by po1 [--reason R]                # the proposer takes it back
c360 erase --list [--status pending|approved|done|rejected|withdrawn|all]
c360 erase --reapply [--erasures FILE] [--any-hub] [--untied-erasures apply|skip]
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.table import Table

from hub.cli.common import console, err_console, fail, graph, load_settings, run
from hub.cli.subject_common import audit, audit_log, closing, intent
from privacy.audit import AuditLog
from privacy.audit_ring import RING_ENV, RING_FILE, log_ring
from privacy.erasure import (
    STATUSES,
    ErasureError,
    ErasureStore,
    FourEyesViolation,
    NotProposer,
    UnfinishedErasure,
    erase_customer,
    reapply_erasures,
)
from privacy.erasure_ledger import (
    Cancelled,
    Erased,
    ErasureLedger,
    LedgerError,
    Record,
    TornCancellation,
    foreign,
    merge,
    read_records,
    torn_cancellation,
)
from privacy.keyring import KeyRing, KeyRingError
from privacy.proposals import same_person
from privacy.types import PrivacyError
from shared.hub_id import read_hub_id
from shared.settings import Settings

REAPPLY = "reapply erasures"
ALL = "all"
# The audit operation of each decision, for its outcome and for its refusal alike.
OPERATIONS = {
    "propose": "cli erase propose",
    "approve": "cli erase",
    "reject": "cli erase reject",
    "withdraw": "cli erase withdraw",
}


# What to do with entries that cannot be tied to this hub (``--untied-erasures``).
APPLY, SKIP = "apply", "skip"
UNTIED_CHOICES = (APPLY, SKIP)


class UntiedErasures(LedgerError):
    """Other ledgers' entries that cannot be tied to this hub, and no ``--untied-erasures``."""


@dataclass(frozen=True)
class Reapplied:
    total: int  # customers in the ledgers (this hub's)
    redone: list[dict[str, Any]]  # what was found again and erased
    skipped: list[Erased]  # entries another hub wrote, left alone
    ring: str  # which audit key ring wrote the records (RING_FILE or RING_ENV)
    keys: KeyRing  # that ring (a restore verifies the chain with it)
    # Ledgers ending in a cancellation cut off mid-write: its entries were applied (counted).
    torn: list[TornCancellation]
    untied: list[Erased]  # entries no hub id ties to this hub, left alone (--untied-erasures skip)


def ring_in(name: str | None, data_dir: Path, env_keys: str) -> tuple[str, KeyRing] | None:
    """The key ring ``log_ring`` named (found on another copy of the same files: a restore's
    stage), opened for ``data_dir``: a ring file's KeyRing follows rotations through its own
    path. Raises KeyRingError."""
    if name is None:
        return None
    return name, KeyRing.from_env(env_keys) if name == RING_ENV else KeyRing.load(data_dir)


def _tied(record: Record, me: str | None) -> bool:
    """An entry whose hub id can be compared with this hub's (``foreign`` can tell)."""
    return not isinstance(record, Erased) or bool(record.hub and me)


def untied_entries(
    own_path: Path, others: Sequence[Path], me: str | None
) -> dict[Path, list[Erased]]:
    """Per ledger of ``others``, the erasures that count and cannot be tied to the hub ``me``
    (the data dir's or the archive's hub id): they name no hub (written before hub ids, or
    migrated from a data dir that had none) or ``me`` is None (an archive from before hub
    ids), and the hub's own ledger ``own_path`` does not name their customer. Another hub's
    C000005 is another person: such entries are neither applied nor skipped unasked. Raises
    LedgerError."""
    own = read_records(own_path) if own_path.exists() else []
    known = {e.customer_id for e in merge([own])}
    ledgers = {p: read_records(p) for p in others if p.exists()}
    cancels = [r for recs in [own, *ledgers.values()] for r in recs if isinstance(r, Cancelled)]
    found: dict[Path, list[Erased]] = {}
    for path, recs in ledgers.items():
        loose = [r for r in recs if not _tied(r, me)]
        entries = [e for e in merge([cancels, loose]) if e.customer_id not in known]
        if entries:
            found[path] = entries
    return found


def untied_note(found: dict[Path, list[Erased]], me: str | None, again: str) -> str:
    """Why entries cannot be tied to this hub, which, and the two ways on."""
    listed = "; ".join(
        f"{', '.join(e.customer_id for e in entries)} in {path}" for path, entries in found.items()
    )
    why = (
        "this hub has no hub id to tell them by (an archive from before hub ids)"
        if me is None
        else f"they name no hub (written before hub ids, or migrated from a data dir that had "
        f"none), and this hub is {me}"
    )
    count = sum(len(entries) for entries in found.values())
    return (
        f"{count} erasure ledger entries cannot be tied to this hub ({listed}): {why}. A "
        "customer id of another hub names another person there. If these ledgers are this "
        f"hub's, run {again} with --untied-erasures apply (they are erased); if they may be "
        f"another hub's, with --untied-erasures skip (left out and listed; `c360 erase "
        "--reapply --untied-erasures apply` applies them later)"
    )


async def reapply(
    settings: Settings,
    extra: list[Path],
    any_hub: bool = False,
    *,
    found: tuple[str, KeyRing] | None,
    untied: str | None = None,
    again: str = "it again",
) -> Reapplied:
    """Erase again, in ``settings``' data dir, every customer in its erasure ledgers (its own,
    the mirrors) and in ``extra`` files; the union is written to its own ledger first. Entries
    another hub wrote (another hub id than the data dir's) are skipped unless ``any_hub``;
    entries no hub id ties to this hub (:func:`untied_entries`) are applied or skipped as
    ``untied`` says (APPLY, SKIP), and refused (UntiedErasures, saying to run ``again`` with
    one) when it says nothing. Audited with the data dir's own audit key ring, ``found``
    (``log_ring``'s; None: a new one). Raises LedgerError, KeyRingError (nothing done)."""
    data_dir = settings.resolved_data_dir
    ring_name, ring = found if found is not None else (RING_FILE, KeyRing.load(data_dir))
    ledger = ErasureLedger.of(settings)
    own_path, *mirrors = ledger.paths
    others = [p for p in mirrors if p.exists()] + extra
    own = read_records(own_path) if own_path.exists() else []
    outside = [read_records(p) for p in others]
    reached = [p for p in (own_path, *others) if p.exists()]
    torn = [t for t in map(torn_cancellation, reached) if t is not None]
    try:
        me = read_hub_id(data_dir)
    except OSError as exc:
        raise LedgerError(f"cannot read the hub id of {data_dir}: {exc}") from exc
    skipped: list[Erased] = []
    left: list[Erased] = []
    if not any_hub:
        loose = untied_entries(own_path, others, me)
        if loose and untied not in UNTIED_CHOICES:
            raise UntiedErasures(untied_note(loose, me, again) + "; nothing was erased again")
        if untied == SKIP:
            left = merge([list(entries) for entries in loose.values()])
            drop = {e.customer_id for e in left}
            outside = [
                [r for r in recs if _tied(r, me) or r.customer_id not in drop] for recs in outside
            ]
        # The restored dir's own ledger is its hub's; the others may be another hub's.
        cancels = [[r for r in recs if isinstance(r, Cancelled)] for recs in [own, *outside]]
        theirs = [[r for r in recs if foreign(r, me)] for recs in outside]
        skipped = merge([*cancels, *theirs])
        outside = [[r for r in recs if not foreign(r, me)] for recs in outside]
    entries = merge([own, *outside])
    learn = ErasureLedger(data_dir)
    # The restored dir's own ledger learns the cancellations of its entries (an archive taken
    # between an entry and its cancellation) and the others' erasures.
    for cancel in {r for recs in outside for r in recs if isinstance(r, Cancelled)}:
        if any(isinstance(e, Erased) and cancel.cancels(e) for e in own) and cancel not in own:
            learn.append(cancel)
    if not entries:
        return Reapplied(0, [], skipped, ring_name, ring, torn, left)
    known = {e.customer_id for e in merge([own])}
    for entry in entries:
        if entry.customer_id not in known:
            learn.record(entry, as_is=True)
    async with graph(settings) as store:
        redone = await reapply_erasures(store, entries)
    if redone:
        log = AuditLog(data_dir / "audit", ring)
        for r in redone:
            await audit(log, "c360-restore", REAPPLY, "ok", r["customer_id"], {"reapplied": r})
    return Reapplied(len(entries), redone, skipped, ring_name, ring, torn, left)


UntiedOption = Annotated[
    str | None,
    typer.Option(
        "--untied-erasures",
        help="apply or skip erasure ledger entries no hub id ties to this hub (written "
        "before hub ids or migrated from a data dir that had none, or an archive from "
        "before hub ids); without it such entries stop the command, listed",
    ),
]


def untied_choice(value: str | None) -> str | None:
    if value is not None and value not in UNTIED_CHOICES:
        fail(f"--untied-erasures must be {' or '.join(UNTIED_CHOICES)}")
    return value


def untied_skipped_note(left: list[Erased], again: str) -> str:
    return (
        f"erasure ledger entries no hub id ties to this hub skipped (--untied-erasures skip): "
        f"{len(left)} ({', '.join(e.customer_id for e in left)}). If they are this hub's "
        f"customers, run {again} --untied-erasures apply"
    )


def skipped_note(skipped: list[Erased], again: str) -> str:
    """The line that says which other hub's erasures were left alone, and how to apply them."""
    hubs = sorted({e.hub for e in skipped})
    return (
        f"erasure ledger entries of another hub skipped: {len(skipped)} "
        f"({', '.join(e.customer_id for e in skipped)}; hub {', '.join(hubs)}): customer ids "
        "name other people there. If they are this hub's customers (a ledger of this hub "
        f"written under another hub id), run {again}"
    )


def refused(
    settings: Settings,
    store_file: ErasureStore,
    action: str,
    rid: str | None,
    by: str,
    exc: ErasureError,
    customer: str | None = None,
    hint: str = "",
) -> NoReturn:
    """Refuse ``by``'s decision (``action``) on request ``rid``, audited as the API audits
    it: ``denied`` when it is not theirs to make (the proposer approving or rejecting, anyone
    else withdrawing), ``error`` otherwise (an unknown, closed or claimed request, a blank
    reason); the record names the request's customer when there is one. Exits 2."""
    outcome = "denied" if isinstance(exc, FourEyesViolation | NotProposer) else "error"
    if customer is None and rid is not None:
        found = store_file.load().get(rid)
        customer = found.customer_id if found is not None else None
    details = {"erasure_refused": {"request": rid, "action": action, "by": by, "error": str(exc)}}
    message = f"{exc}{hint}"
    try:
        asyncio.run(audit(audit_log(settings), by, OPERATIONS[action], outcome, customer, details))
    except PrivacyError as err:  # refused all the same
        message += f" (the refusal could not be audited: {err})"
    fail(message)


def list_requests(store_file: ErasureStore, status: str) -> None:
    if status != ALL and status not in STATUSES:
        fail(f"--status must be one of {', '.join(STATUSES)} or {ALL}")
    table = Table("id", "customer", "status", "proposer", "created", "reason", "decided by", "why")
    for r in store_file.list(None if status == ALL else status):
        decider = r.rejected_by or r.approver or (r.proposer if r.withdrawn_at else "")
        table.add_row(
            r.id, r.customer_id, r.status, r.proposer, r.created_at, r.reason, decider,
            r.rejection_reason or r.withdraw_reason or "",
        )  # fmt: skip
    console.print(table)


def announce(
    settings: Settings, store_file: ErasureStore, action: str, rid: str, by: str
) -> AuditLog:
    """Write-ahead: ``by``'s decision (``action``) on request ``rid``, refused (audited) if it
    is not theirs to make or not pending, else its intent recorded (nothing done when the
    audit log cannot take it). The log, for the outcome record."""
    try:
        if action == "withdraw":
            found = store_file.withdrawable(rid, by)
        else:
            found = store_file.pending(rid, by, action)
    except ErasureError as exc:
        refused(settings, store_file, action, rid, by, exc)
    log = audit_log(settings)
    intent(log, by, OPERATIONS[action], found.customer_id,
           {action: rid, "customer": found.customer_id})  # fmt: skip
    return log


def reject_request(
    settings: Settings, store_file: ErasureStore, rid: str, by: str, why: str
) -> None:
    log = announce(settings, store_file, "reject", rid, by)
    try:
        rejected = store_file.reject(rid, by, why)
    except ErasureError as exc:  # the proposer, or not pending
        refused(settings, store_file, "reject", rid, by, exc)
    except LedgerError as exc:  # a ledger names it and cannot be written to cancel that
        refused(settings, store_file, "reject", rid, by, ErasureError(str(exc)))
    details = {
        "request": rejected.id,
        "customer": rejected.customer_id,
        "proposer": rejected.proposer,
        "by": by,
        "reason": rejected.rejection_reason,
    }
    record = {"erasure_rejected": details}
    closing(log, by, OPERATIONS["reject"], rejected.customer_id, record,
            f"erasure request {rid} for customer {rejected.customer_id} was rejected")  # fmt: skip
    console.print(f"erasure request {rid} for customer {rejected.customer_id} rejected by {by}")


def withdraw_request(
    settings: Settings, store_file: ErasureStore, rid: str, by: str, why: str | None
) -> None:
    log = announce(settings, store_file, "withdraw", rid, by)
    try:
        withdrawn = store_file.withdraw(rid, by, why)
    except ErasureError as exc:  # not the proposer, or not pending
        refused(settings, store_file, "withdraw", rid, by, exc)
    except LedgerError as exc:  # as reject_request
        refused(settings, store_file, "withdraw", rid, by, ErasureError(str(exc)))
    details = {
        "request": withdrawn.id,
        "customer": withdrawn.customer_id,
        "by": by,
        "reason": withdrawn.withdraw_reason,
    }
    record = {"erasure_withdrawn": details}
    done = f"erasure request {rid} for customer {withdrawn.customer_id} was withdrawn"
    closing(log, by, OPERATIONS["withdraw"], withdrawn.customer_id, record, done)
    console.print(f"erasure request {rid} for customer {withdrawn.customer_id} withdrawn by {by}")


def erase(
    customer: Annotated[str | None, typer.Option(help="the customer id to erase")] = None,
    reason: Annotated[
        str | None,
        typer.Option(
            help="why (a ticket number; no personal data): to propose or reject; optional "
            "to withdraw"
        ),
    ] = None,
    by: Annotated[str | None, typer.Option(help="the proposing privacy officer's subject")] = None,
    request: Annotated[str | None, typer.Option(help="carry out this pending request")] = None,
    approved_by: Annotated[
        str | None, typer.Option(help="a second privacy officer's subject (not the proposer)")
    ] = None,
    again: Annotated[
        bool,
        typer.Option("--reapply", help="erase the erasure ledger's customers again (a restore)"),
    ] = False,
    erasures: Annotated[
        list[Path] | None, typer.Option(help="with --reapply: another erasure ledger file")
    ] = None,
    any_hub: Annotated[
        bool,
        typer.Option("--any-hub", help="with --reapply: also apply entries another hub id wrote"),
    ] = False,
    untied: UntiedOption = None,
    reject: Annotated[
        str | None, typer.Option(help="reject this pending request (with --by, --reason)")
    ] = None,
    withdraw: Annotated[
        str | None,
        typer.Option(help="withdraw your own pending request (with --by, optionally --reason)"),
    ] = None,
    show: Annotated[bool, typer.Option("--list", help="list erasure requests")] = False,
    status: Annotated[
        str,
        typer.Option(help="with --list: pending, approved, done, rejected, withdrawn or all"),
    ] = "pending",
) -> None:
    """Erase a customer (PIPL Art. 47): destroy their data key, remove their node, links and
    index entries, compact the graph log; audited with ids and field names only."""
    settings = load_settings()
    if again:
        choice = untied_choice(untied)
        try:
            found = log_ring(settings.resolved_data_dir, settings.audit_keys)
            extra = list(erasures or [])
            done = run(reapply(settings, extra, any_hub, found=found, untied=choice))
        except UntiedErasures as exc:
            fail(str(exc))
        except (LedgerError, KeyRingError) as exc:
            fail(f"{exc}; nothing was erased again")
        if done.skipped:
            err_console.print(
                f"[yellow]warning:[/] {skipped_note(done.skipped, 'it again with --any-hub')}"
            )
        if done.untied:
            err_console.print(
                f"[yellow]warning:[/] {untied_skipped_note(done.untied, 'it again with')}"
            )
        for torn in done.torn:
            err_console.print(f"[yellow]warning:[/] {torn.describe()}")
        console.print(
            f"{done.total} erased customers in the ledgers; erased again: {len(done.redone)}"
        )
        return
    store_file = ErasureStore.of(settings)
    if show:
        list_requests(store_file, status)
        return
    if reject is not None:
        if not (by and reason):
            fail("give --by (a privacy officer other than the proposer) and --reason to reject")
        reject_request(settings, store_file, reject, by, reason)
        return
    if withdraw is not None:
        if not by:
            fail("give --by (the privacy officer who proposed the request) to withdraw it")
        withdraw_request(settings, store_file, withdraw, by, reason)
        return
    if request is None:
        if not (customer and reason and by):
            fail("give --customer, --reason and --by to propose (or --request to approve one)")
        if approved_by is not None and same_person(by, approved_by):
            # Refused before proposing: a request left pending would block the next one.
            own = FourEyesViolation("the officer who proposed an erasure cannot approve it; "
                                    "another privacy officer must")  # fmt: skip
            refused(settings, store_file, "approve", None, approved_by, own, customer)
        log = audit_log(settings)
        intent(log, by, OPERATIONS["propose"], customer, {"propose": customer})
        try:
            proposed = store_file.propose(customer, reason, by)
        except ErasureError as exc:  # a duplicate names the customer's open request
            refused(settings, store_file, "propose", None, by, exc, customer)
        closing(log, by, OPERATIONS["propose"], customer, proposed.proposal_audit(),
                f"erasure request {proposed.id} for customer {customer} was proposed")  # fmt: skip
        console.print(f"erasure request {proposed.id} for customer {customer} proposed by {by}")
        request = proposed.id
        if approved_by is None:
            console.print(f"another privacy officer runs: c360 erase --request {request} "
                          "--approved-by SUBJECT")  # fmt: skip
            return
    if approved_by is None:
        fail("give --approved-by: a privacy officer other than the proposer")
    try:
        pending = store_file.approvable(request, approved_by)
    except FourEyesViolation as exc:
        refused(settings, store_file, "approve", request, approved_by, exc)
    except ErasureError as exc:
        hint = "; list them with c360 erase --list --status all"
        refused(settings, store_file, "approve", request, approved_by, exc, hint=hint)
    log = audit_log(settings)
    # Before the claim, as the API: an audit log that cannot take it leaves the request pending.
    intent(log, approved_by, OPERATIONS["approve"], pending.customer_id,
           {"erase": pending.id, "customer": pending.customer_id})  # fmt: skip

    async def go() -> dict[str, Any] | None:
        # The claim's lease is renewed while it runs: no second approval meanwhile.
        async with graph(settings) as store, store_file.holding(pending):
            return await erase_customer(store, pending.customer_id, store_file.ledger, pending.id)

    try:
        # The claim is the compare-and-set (under the file's lock): a concurrent approval or
        # rejection finds it decided, and only this run erases.
        pending = store_file.claim(pending.id, approved_by)
    except ErasureError as exc:
        refused(settings, store_file, "approve", pending.id, approved_by, exc)
    try:
        erased = run(go())
    except UnfinishedErasure as exc:
        store_file.release(pending)  # it may have run: approved, to be completed, not rejected
        fail(str(exc))
    except LedgerError as exc:
        store_file.unclaim(pending)  # nothing was erased: pending again
        fail(str(exc))
    # Any other failure leaves it approved: the ledger names the customer, running it again
    # (or a restore) completes the erasure; it must not become rejectable.
    if erased is None:
        store_file.unclaim(pending)
        fail(f"no customer {pending.customer_id} in the graph (erased already?)")
    store_file.mark_done(pending, approved_by, erased)
    record = {"request": pending.id, "reason": pending.reason, "proposer": pending.proposer,
              "approver": approved_by, **erased}  # fmt: skip
    closing(log, approved_by, OPERATIONS["approve"], pending.customer_id, {"erasure": record},
            f"customer {pending.customer_id} was erased (request {pending.id})")  # fmt: skip
    console.print(
        f"erased customer {pending.customer_id}: data key destroyed={erased['key_destroyed']}, "
        f"fields {', '.join(erased['fields'])}; households erased "
        f"{erased['households_erased'] or 'none'}; {erased['interactions_deleted']} "
        f"interactions deleted; accounts unlinked {erased['accounts_unlinked'] or 'none'}; "
        "graph log compacted"
    )
