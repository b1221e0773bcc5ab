"""Master keys that wrap the per-customer data keys: the seam for KMS/HSM providers.

A provider wraps and unwraps small keys; it never sees personal data. The default keeps
AES-256 master keys in ``$C360_DATA_DIR/keys/master-keys.json`` (0600, created on first use);
a rotation adds a new active key and keeps the old ones for unwrapping until every data key
is re-wrapped (``c360 keys rotate``).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from privacy.keyring import _locked
from privacy.secrets import write_private

MASTER_FILE = "master-keys.json"


class KeyProviderError(Exception):
    pass


class KeyProvider(Protocol):
    @property
    def active_id(self) -> str: ...

    def key_ids(self) -> list[str]: ...

    def wrap(self, key: bytes, aad: bytes) -> tuple[str, bytes]:
        """(master key id, wrapped key) under the active master key."""
        ...

    def unwrap(self, kid: str, wrapped: bytes, aad: bytes) -> bytes: ...


class LocalKeyFileProvider:
    """Master keys in a 0600 JSON file inside the data dir."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._active, self._keys = self._load()
        self._stamp = self.path.stat().st_mtime_ns

    def _refresh(self) -> None:
        # Another process (c360 keys rotate-master) may have rotated: wrap under its key.
        stamp = self.path.stat().st_mtime_ns
        if stamp != self._stamp:
            self._active, self._keys = self._load_unlocked()
            self._stamp = stamp

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> LocalKeyFileProvider:
        return cls(data_dir / "keys" / MASTER_FILE)

    def _load(self) -> tuple[str, dict[str, bytes]]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with _locked(self.path):
            if not self.path.exists():
                self._write("m1", {"m1": secrets.token_bytes(32)})
            raw = json.loads(self.path.read_text())
        keys = {kid: base64.b64decode(b64) for kid, b64 in raw["keys"].items()}
        if raw["active"] not in keys or any(len(k) != 32 for k in keys.values()):
            raise KeyProviderError(f"{self.path} is damaged: restore it from a backup")
        return raw["active"], keys

    def _write(self, active: str, keys: dict[str, bytes]) -> None:
        body = {
            "active": active,
            "keys": {k: base64.b64encode(v).decode() for k, v in keys.items()},
        }
        write_private(self.path, json.dumps(body))

    @property
    def active_id(self) -> str:
        return self._active

    def key_ids(self) -> list[str]:
        return list(self._keys)

    def wrap(self, key: bytes, aad: bytes) -> tuple[str, bytes]:
        self._refresh()
        nonce = secrets.token_bytes(12)
        return self._active, nonce + AESGCM(self._keys[self._active]).encrypt(nonce, key, aad)

    def wrap_many(self, items: list[tuple[bytes, bytes]]) -> list[tuple[str, bytes]]:
        """``wrap`` for each (key, aad), with one look at the file and one cipher."""
        self._refresh()
        kid, aead = self._active, AESGCM(self._keys[self._active])
        nonces = os.urandom(12 * len(items))
        out = []
        for i, (key, aad) in enumerate(items):
            nonce = nonces[12 * i : 12 * i + 12]
            out.append((kid, nonce + aead.encrypt(nonce, key, aad)))
        return out

    def unwrap(self, kid: str, wrapped: bytes, aad: bytes) -> bytes:
        if kid not in self._keys:
            self._refresh()
        master = self._keys.get(kid)
        if master is None:
            raise KeyProviderError(f"master key {kid!r} is not in {self.path}")
        return AESGCM(master).decrypt(wrapped[:12], wrapped[12:], aad)

    def rotate(self) -> str:
        """Add a new active master key (old ones stay for unwrapping); its id."""
        with _locked(self.path):
            _, keys = self._load_unlocked()
            n = 1 + max(int(k[1:]) for k in keys if k[1:].isdigit()) if keys else 1
            kid = f"m{n}"
            keys[kid] = secrets.token_bytes(32)
            self._write(kid, keys)
        self._active, self._keys = kid, keys
        self._stamp = self.path.stat().st_mtime_ns
        return kid

    def retire(self, kid: str) -> None:
        """Drop an old master key once nothing is wrapped under it."""
        if kid == self._active:
            raise KeyProviderError("the active master key cannot be retired")
        with _locked(self.path):
            active, keys = self._load_unlocked()
            keys.pop(kid, None)
            self._write(active, keys)
        self._active, self._keys = active, keys
        self._stamp = self.path.stat().st_mtime_ns

    def _load_unlocked(self) -> tuple[str, dict[str, bytes]]:
        raw = json.loads(self.path.read_text())
        return raw["active"], {kid: base64.b64decode(b) for kid, b in raw["keys"].items()}


__all__ = ["KeyProvider", "KeyProviderError", "LocalKeyFileProvider"]
