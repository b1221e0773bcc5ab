"""Which audit key ring wrote a data dir's audit log: what appends to a log that is not the
running hub's own (a restored dir, a data-dir upgrade at open) must use that ring, or the
chain breaks for every key set."""

from __future__ import annotations

from pathlib import Path

from privacy.audit import LOG_NAME, AuditLog
from privacy.keyring import KEYRING_FILE, KeyRing, KeyRingError

__all__ = ["RING_ENV", "RING_FILE", "log_ring"]

RING_FILE, RING_ENV = "its own key ring (keys/audit-keyring.json)", "C360_AUDIT_KEYS"


def log_ring(data_dir: Path, env_keys: str) -> tuple[str, KeyRing] | None:
    """The audit key ring that wrote ``data_dir``'s audit log (a restored one): its own key
    ring file, else C360_AUDIT_KEYS, whichever opens the log's last record (both may name
    their key k1; appending under the wrong one breaks the chain for every key set). None: no
    log, no ring file, no C360_AUDIT_KEYS (a new ring is made on first use). Raises
    KeyRingError when neither opens the log."""
    ring_file = data_dir / "keys" / KEYRING_FILE
    rings = []
    if ring_file.is_file():
        rings.append((RING_FILE, KeyRing.load(data_dir)))
    if env_keys.strip():
        rings.append((RING_ENV, KeyRing.from_env(env_keys)))
    log_file = data_dir / "audit" / LOG_NAME
    if not log_file.is_file() or not log_file.stat().st_size:
        return rings[0] if rings else None
    tried = []
    for name, ring in rings:
        try:
            AuditLog(data_dir / "audit", ring).check_keys()
        except KeyRingError as exc:
            tried.append(f"{name}: {exc}")
            continue
        return name, ring
    raise KeyRingError(
        f"no audit key ring at hand opens the audit log of {data_dir} "
        f"({'; '.join(tried) or 'it has no key ring file and C360_AUDIT_KEYS is not set'}): "
        "the hub it comes from kept its audit keys in C360_AUDIT_KEYS. Set C360_AUDIT_KEYS to "
        "that hub's keys and run it again"
    )
