"""Master keys that wrap the per-customer data keys: the seam for KMS/HSM providers.

A provider wraps and unwraps small keys; it never sees personal data. The default keeps
AES-256 master keys in ``$C360_DATA_DIR/keys/master-keys.json`` (0600, created on first use);
a rotation adds a new active key and keeps the old ones for unwrapping until every data key
is re-wrapped (``c360 keys rotate``).

The master key file is made only for a new data dir: never while the data key store beside
it holds keys (they were wrapped by the lost file: a new key opens none of them, and the hub
used to start with one and fail every read). It is made after an empty store file, so a master
key file without a store means the store was lost (privacy.datakeys refuses it).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import secrets
import sqlite3
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from privacy.keyring import _locked
from privacy.secrets import KeyFileError, write_private

log = logging.getLogger("c360.keys")

MASTER_FILE = "master-keys.json"
# The data key store's file (privacy.datakeys), beside the master key file: what the master
# keys wrap, so what tells a lost master key file from a new data dir.
DATAKEYS_FILE = "datakeys.sqlite"
RESTORE = "restore the data dir's keys/ folder from a backup of this data dir"


class KeyProviderError(KeyFileError):
    """A master key cannot be loaded or does not open a data key (GraphQL KEYS_UNAVAILABLE)."""


_said: set[str] = set()


def failure(message: str) -> KeyProviderError:
    """The error, logged once per process and reason: clients are told the log says why, and
    a request per second must not repeat it."""
    # Not where nothing is set up to log (a CLI command): it says the sentence itself, and
    # logging's last resort would print it twice.
    if message not in _said and log.hasHandlers():
        _said.add(message)
        log.error("%s", message)
    return KeyProviderError(message)


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
        try:
            stamp = self.path.stat().st_mtime_ns
        except OSError as exc:
            raise failure(
                f"the master key file {self.path} is gone ({exc.strerror}): {RESTORE}; the "
                "hub does not restart without it"
            ) from None
        if stamp != self._stamp:
            self._active, self._keys = self._load_unlocked()
            self._stamp = stamp

    def check(self) -> None:
        """KeyProviderError when the file is gone or damaged since it was loaded (/readyz)."""
        self._refresh()

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> LocalKeyFileProvider:
        return cls(data_dir / "keys" / MASTER_FILE)

    def _load(self) -> tuple[str, dict[str, bytes]]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with _locked(self.path):
            if not self.path.exists():
                self._create()
            return self._load_unlocked()

    def _create(self) -> None:
        """The first master key of a new data dir; refused when data keys exist (see above)."""
        store = self.path.parent / DATAKEYS_FILE
        wrapped = _wrapped_keys(store)
        if wrapped:
            raise failure(
                f"the master key file {self.path} is missing, but the data key store {store} "
                f"holds {wrapped} data keys wrapped by it: {RESTORE} (a new master key would "
                "open none of them)"
            )
        # The store first: a master key file without one is a lost store, never a new dir.
        os.close(os.open(store, os.O_WRONLY | os.O_CREAT, 0o600))
        self._write("m1", {"m1": secrets.token_bytes(32)})

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
            raise failure(f"master key {kid!r} is not in {self.path}: {RESTORE}")
        try:
            return AESGCM(master).decrypt(wrapped[:12], wrapped[12:], aad)
        except InvalidTag:
            # Not the key that wrapped it: the file was replaced (a lost one made anew by an
            # older c360, another dir's). Said as such, not as an unexpected error.
            raise failure(
                f"master key {kid!r} in {self.path} does not open the data keys wrapped by it "
                f"(it is not the key that wrapped them): {RESTORE}"
            ) from None

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
        try:
            raw = json.loads(self.path.read_text())
            return _parsed(raw)
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
            pass  # said below, whichever it was (an emptied file is a JSONDecodeError)
        raise failure(f"the master key file {self.path} is damaged or unreadable: {RESTORE}")


def _parsed(raw: Any) -> tuple[str, dict[str, bytes]]:
    """(active id, keys) of the file's JSON; ValueError when it is not a valid key file."""
    keys = {kid: base64.b64decode(b64, validate=True) for kid, b64 in raw["keys"].items()}
    if raw["active"] not in keys or any(len(k) != 32 for k in keys.values()):
        raise ValueError("no active 32-byte key")
    return raw["active"], keys


def _wrapped_keys(store: Path) -> int:
    """How many data keys the store holds (0: none, or no store); read-only, nothing made."""
    if not store.exists() or store.stat().st_size == 0:
        return 0
    try:
        with contextlib.closing(
            sqlite3.connect(f"{store.resolve().as_uri()}?mode=ro", uri=True)
        ) as db:
            row = db.execute("SELECT count(*) FROM datakeys").fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return 0
        raise failure(f"the data key store {store} cannot be read ({exc}): {RESTORE}") from None
    except sqlite3.DatabaseError as exc:
        raise failure(f"the data key store {store} cannot be read ({exc}): {RESTORE}") from None
    return int(row[0])


__all__ = ["KeyProvider", "KeyProviderError", "LocalKeyFileProvider"]
