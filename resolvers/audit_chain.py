"""The audit chain's verification status for the API: decided by the policy like the audit
trail (the AuditLog resource, read), computed by privacy/audit_status.py (the walk ``c360 audit
verify`` does, kept between requests)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from privacy.audit import AuditLog
from privacy.audit_checkpoints import load_signing_key
from privacy.audit_status import ChainStatus, chain_monitor
from privacy.types import AuditUnavailable
from resolvers.privacy import READ, RequestPrivacy
from resolvers.privacy_admin import AUDIT_LOG


@cache
def _public_key(data_dir: Path, key_path: str) -> Ed25519PublicKey | None:
    """The checkpoint key's public half (the hub signs with it); None if it cannot be read,
    and then checkpoints are checked against the log but their signatures are not."""
    try:
        return load_signing_key(data_dir, key_path).public_key()
    except (OSError, ValueError):
        return None


async def audit_chain(
    privacy: RequestPrivacy, data_dir: Path, signing_key_path: str = ""
) -> ChainStatus:
    await privacy.require_resource(AUDIT_LOG, READ)
    log = privacy.services.audit
    if not isinstance(log, AuditLog):  # None (not open), or a sink without a hash chain
        raise AuditUnavailable("the audit log is not open")
    monitor = chain_monitor(log, lambda: _public_key(data_dir, signing_key_path))
    return await monitor.status()


__all__ = ["audit_chain"]
