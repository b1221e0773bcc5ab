"""What `c360 erase`, `c360 export` and `c360 keys` share: the audit log and the officer's
principal. A CLI write that changes privacy state is audited write-ahead: its ``intent``
record first (an audit log that cannot take it: nothing is done), its outcome after
(``closing``)."""

from __future__ import annotations

import asyncio
from typing import Any

from hub.cli.common import audit_unwritable, fail
from hub.settings import Settings
from privacy.audit import AuditLog, make_record
from privacy.keyring import KeyRing, KeyRingError
from privacy.types import AuditUnavailable, Principal

OFFICER = "privacy_officer"


def audit_log(settings: Settings) -> AuditLog:
    """The data dir's audit log, its key ring checked against the log's last record before
    anything is appended (as the hub checks at start): a missing or wrong ring would write
    records nobody can open, and the chain would break for good. One sentence, exit 2."""
    try:
        ring = KeyRing.load(settings.resolved_data_dir, settings.audit_keys)
        log = AuditLog(settings.resolved_data_dir / "audit", ring)
        log.check_keys()
    except KeyRingError as exc:
        fail(f"{exc}; nothing was done")
    return log


def officer(subject: str) -> Principal:
    # The CLI runs with the data dir's keys: it trusts the shell, and records who it was told.
    return Principal(subject=subject, roles=(OFFICER,), purpose="compliance")


async def audit(
    log: AuditLog,
    who: str,
    operation: str,
    outcome: str,
    customer_id: str | None,
    details: dict[str, Any],
    revealed: list[str] | None = None,
) -> None:
    """One record by ``who``; ``customer_id`` None: it names no customer (a refusal of an
    unknown request)."""
    customers = {customer_id: {"revealed": revealed or [], "masked": []}} if customer_id else {}
    await log.append(
        make_record(
            principal=officer(who),
            operation=operation,
            outcome=outcome,
            customers=customers,
            details=details,
        )
    )


def closing(
    log: AuditLog,
    who: str,
    operation: str,
    customer_id: str | None,
    details: dict[str, Any],
    done: str,
    outcome: str = "ok",
) -> None:
    """The outcome record of a write its intent record announced. If the log cannot take it,
    one sentence saying the write (``done``) happened and must not be repeated, exit 2."""
    try:
        asyncio.run(audit(log, who, operation, outcome, customer_id, details))
    except AuditUnavailable as exc:
        fail(f"{done}; its intent was audited, its outcome record was not: do not repeat it; "
             f"{audit_unwritable(exc)}")  # fmt: skip


def intent(
    log: AuditLog, who: str, operation: str, customer_id: str | None, details: dict[str, Any]
) -> None:
    """The write-ahead record of a write about to happen. If the log cannot take it, the write
    does not happen: one sentence, exit 2."""
    try:
        asyncio.run(audit(log, who, operation, "intent", customer_id, details))
    except AuditUnavailable as exc:
        fail(f"nothing was done: {audit_unwritable(exc)}, then run the command again")
