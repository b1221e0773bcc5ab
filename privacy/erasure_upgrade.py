"""Erasures done before the erasure ledger existed, written into it when a data dir is opened.

Versions before the ledger (up to e977530) recorded an erasure only as a ``done`` request in
``erasure-requests.json``: its node removed, its data key destroyed. The guards that keep
erased customers out (imports, ``upsertCustomer``), ``c360 erase --reapply`` and ``c360
restore`` read only the ledgers, so after an upgrade such a customer could be imported again
and an older backup restored readable. The first open of such a data dir (and a restore of
such an archive) writes the missing entries: the same entry an approval writes (customer,
households erased, social accounts, request, time; ids only), marked ``migrated``, to the
data dir's ledger and every ``C360_ERASURE_LEDGER`` mirror, fsynced, after an audit record
(operation ``upgrade erasure ledger``). Idempotent: a done request that a ledger already
names is left alone; the whole step runs under the requests file's lock (a ``serve
--workers N`` start opens the dir in every worker at once).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from privacy.audit import AuditLog, make_record
from privacy.audit_ring import log_ring
from privacy.erasure_ledger import (
    Erased,
    ErasureLedger,
    LedgerError,
    erased_owners,
    mirror_paths,
    read_records,
)
from privacy.fieldcrypt import key_owner
from privacy.keyring import KeyRing, KeyRingError, _locked
from privacy.types import Principal, PrivacyError
from shared.dataformat import FORMAT, FormatError, UpgradeFailed, read_format, register_upgrade
from shared.hub_id import read_hub_id
from shared.settings import Settings

if TYPE_CHECKING:
    from privacy.datakeys import DataKeyStore

__all__ = [
    "LEDGER_ERASURES_MARK",
    "UPGRADE_OPERATION",
    "UpgradeError",
    "mark_ledger_erasures",
    "upgrade_at_open",
    "upgrade_erasure_ledger",
]

REQUESTS_FILE = "erasure-requests.json"  # privacy.erasure.FILE_NAME (not imported: the graph)
UPGRADE_OPERATION = "upgrade erasure ledger"
_DONE = "done"
_UPGRADER = Principal(subject="c360-upgrade", roles=(), purpose="compliance")


class UpgradeError(LedgerError):
    """The missing entries could not be written (or audited): nothing may use the data dir,
    or an erased customer could come back."""


def _done_requests(path: Path) -> list[dict[str, Any]]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        requests = raw.get("requests", [])
        return [r for r in requests if r.get("status") == _DONE and r.get("customer_id")]
    except (OSError, ValueError, AttributeError) as exc:
        raise UpgradeError(
            f"{path} cannot be read as erasure requests ({exc}): the erasures it records may "
            "be missing from the erasure ledger. Restore the file from a backup"
        ) from None


def _entry(request: dict[str, Any], hub: str) -> Erased:
    erased = request.get("erased") or {}
    return Erased(
        customer_id=str(request["customer_id"]),
        households=tuple(str(h) for h in erased.get("households_erased") or ()),
        request=str(request["id"]),
        at=str(request.get("done_at") or ""),
        social_accounts=tuple(str(s) for s in erased.get("social_accounts_unlinked") or ()),
        entry=uuid.uuid4().hex,
        hub=hub,
        migrated=True,
    )


def upgrade_erasure_ledger(
    data_dir: Path, mirrors: str, audit_keys: str, *, strict: bool = True
) -> list[Erased]:
    """Write a ledger entry for every done request of ``data_dir`` that no ledger (its own,
    the ``mirrors``: C360_ERASURE_LEDGER) names; the entries written (none: nothing to do).
    Raises UpgradeError. Not ``strict`` (a dir this version marked already: the upgrade ran,
    it only catches requests an older version run on it since left): a ledger that cannot
    be read is left to the guards that read it (they fail closed), so that a damaged ledger
    line does not keep every command, the hub included, from opening the dir."""
    path = data_dir / REQUESTS_FILE
    if not path.is_file():
        return []
    ledger = ErasureLedger(data_dir, mirror_paths(mirrors))
    with _locked(path):  # the approvals' lock: no request changes meanwhile
        done = _done_requests(path)
        if not done:
            return []
        try:
            named = {
                r.request
                for p in ledger.paths
                if p.exists()
                for r in read_records(p)
                if isinstance(r, Erased)
            }
            # The data dir's own id when it has one; none (an archive from before hub ids):
            # a restore reaching the entry through another ledger cannot tie it to its hub
            # and asks (hub/cli/erase.py untied_entries), as for entries from before hub ids.
            hub = read_hub_id(data_dir) or ""
        except (LedgerError, OSError) as exc:
            if not strict:
                return []  # every reader of this ledger stops on it: nothing gets back in
            raise UpgradeError(
                f"the erasure ledger cannot be read to bring in the erasures {path} records "
                f"as done ({exc}): fix it and run the command again"
            ) from None
        missing = [_entry(r, hub) for r in done if str(r["id"]) not in named]
        if not missing:
            return []
        _audit(data_dir, audit_keys, missing)
        written = []
        for entry in missing:
            try:
                written.append(ledger.record(entry, as_is=True))
            except LedgerError as exc:
                raise UpgradeError(
                    f"{exc} (bringing erasure request {entry.request}, done before the "
                    "erasure ledger existed, into it)"
                ) from None
        return written


def _audit(data_dir: Path, audit_keys: str, entries: list[Erased]) -> None:
    """One record before the entries are written (an intent: a failed write is tried again,
    and audited again, at the next open)."""
    try:
        found = log_ring(data_dir, audit_keys)
        ring = found[1] if found is not None else KeyRing.load(data_dir, audit_keys)
        log = AuditLog(data_dir / "audit", ring)
        record = make_record(
            principal=_UPGRADER,
            operation=UPGRADE_OPERATION,
            outcome="ok",
            customers={e.customer_id: {"revealed": [], "masked": []} for e in entries},
            details={"erasure_ledger_upgrade": {
                "from": REQUESTS_FILE, "requests": [e.request for e in entries]}},
        )  # fmt: skip
        try:
            log.append_now(record)
        finally:
            log.close()
    except (KeyRingError, PrivacyError, OSError) as exc:
        raise UpgradeError(
            f"the data dir {data_dir} holds erasures done before the erasure ledger existed, "
            f"and bringing them into it cannot be audited ({exc}): fix the audit log or "
            "C360_AUDIT_KEYS and run the command again"
        ) from exc


def upgrade_at_open(data_dir: Path, settings: Settings) -> None:
    """The upgrade as ``Settings.resolved_data_dir`` runs it (shared.dataformat.UPGRADES)."""
    try:
        try:
            strict = read_format(data_dir) < FORMAT  # not marked yet: this is the upgrade
        except FormatError as exc:
            raise UpgradeFailed(str(exc)) from None
        upgrade_erasure_ledger(
            data_dir, settings.erasure_ledger, settings.audit_keys, strict=strict
        )
    except UpgradeError as exc:
        raise UpgradeFailed(str(exc)) from None


register_upgrade(upgrade_at_open)

# The data key store's mark (privacy.datakeys ``marks``) once the erasures the ledger held
# when it was set are recorded as destroyed there.
LEDGER_ERASURES_MARK = "ledger-erasures-destroyed"


def mark_ledger_erasures(keys: DataKeyStore, ledger: ErasureLedger) -> int:
    """Once per key store: record every owner (customer, households, social accounts) of an
    erasure that counts in ``ledger`` (entries no cancellation names; a request pending or
    rejected has none) as destroyed in ``keys``, so that no key is made for it again. The
    store's ``destroyed`` list began in session 22: an erasure done before it destroyed the
    key but did not list the owner, and a later write (a post of its social account, an
    import) would have made it a fresh one. Erasures since list their owners themselves.
    How many owners were added. Raises LedgerError when the ledger cannot be read (nothing
    is marked: tried again at the next open; the guards that read it fail closed meanwhile).
    Idempotent: two processes opening the data dir at once both add the same rows."""
    if keys.marked(LEDGER_ERASURES_MARK):
        return 0
    entries = ledger.entries()
    owners = {key_owner(scope, i) for scope, ids in erased_owners(entries).items() for i in ids}
    return keys.mark_destroyed(sorted(owners), LEDGER_ERASURES_MARK)
