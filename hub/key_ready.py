"""Can the hub's keys still be used? /readyz asks once the graph is open (the keys were
loaded with it, hub.services.field_crypto): a master key file or data key store removed or
damaged since, a key file emptied, would fail the next write or the next start, so the hub is
not ready. Nothing is created here; paths go to the hub log only (/readyz answers anyone).
"""

from __future__ import annotations

import logging

from graph.fieldcipher import cipher_of
from graph.store import GraphStore
from hub.services import BLIND_KEY_NAME, MASK_KEY_NAME, NAME_TOKEN_KEY_NAME
from privacy.fieldcrypt import FieldCrypto
from privacy.secrets import KEEP, REGENERATE, SECRETS_DIR, KeyFileError, read_secret
from shared.settings import Settings

log = logging.getLogger("c360.hub")

# Loaded at start (field_crypto, open_privacy): one missing now is lost, not yet to be made.
LOADED = (BLIND_KEY_NAME, NAME_TOKEN_KEY_NAME)
# Made on first use (the JWT key by the first request): checked when they exist.
IF_PRESENT = (MASK_KEY_NAME, "jwt")


def key_problem(store: GraphStore, settings: Settings) -> str | None:
    """Why the keys cannot be used (the sentence names the file), or None."""
    keys_dir = settings.resolved_data_dir / SECRETS_DIR
    try:
        crypto = cipher_of(store)
        if isinstance(crypto, FieldCrypto):
            crypto.keys.check()
        for name in LOADED + IF_PRESENT:
            path = keys_dir / f"{name}.key"
            if name in LOADED:
                read_secret(path, advice=KEEP)
            elif path.exists():
                read_secret(path, advice=REGENERATE)
    except KeyFileError as exc:
        _say(str(exc))
        return str(exc)
    _said.clear()
    return None


_said: set[str] = set()


def _say(problem: str) -> None:
    # The hub log gets the whole sentence (path included) once, not at every probe.
    if problem not in _said:
        _said.add(problem)
        log.error("keys: %s", problem)


__all__ = ["key_problem"]
