"""What `c360 erase` and `c360 export` share: the audit log and the officer's principal."""

from __future__ import annotations

from typing import Any

from hub.cli.common import fail
from hub.settings import Settings
from privacy.audit import AuditLog, make_record
from privacy.keyring import KeyRing, KeyRingError
from privacy.types import Principal

OFFICER = "privacy_officer"


def audit_log(settings: Settings) -> AuditLog:
    try:
        ring = KeyRing.load(settings.resolved_data_dir, settings.audit_keys)
    except KeyRingError as exc:
        fail(f"{exc}. Fix C360_AUDIT_KEYS or the key ring file; nothing was done.")
    return AuditLog(settings.resolved_data_dir / "audit", ring)


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
