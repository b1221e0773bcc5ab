"""Audit key ring: one active AES-256 key for writing, every old key kept for reading.

Either ``$C360_DATA_DIR/keys/audit-keyring.json`` (mode 0600, created on first use, never
beside an audit log that already holds records) or, when C360_AUDIT_KEYS is set
("kid:base64key,kid2:base64key", the first is active), the environment alone, and then
nothing is written.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import secrets
from pathlib import Path

from privacy.secrets import write_private
from shared.change_signal import ChangeSignal

__all__ = ["KeyRing", "KeyRingError"]

KEYRING_FILE = "audit-keyring.json"
# Bumped by rotate (shared/change_signal.py): every process writes under the new key next.
SIGNAL_FILE = "audit-keyring.changed"
# privacy.audit.LOG_NAME in the data dir (that module imports this one): a ring made beside a
# log that holds records opens none of them.
AUDIT_LOG = Path("audit") / "audit.log"


class KeyRingError(Exception):
    pass


class KeyRing:
    def __init__(self, active: str, keys: dict[str, bytes], path: Path | None = None) -> None:
        if active not in keys:
            raise KeyRingError(f"active key {active!r} is not in the key ring")
        self._active = active
        self._keys = dict(keys)
        self._path = path
        # A running hub's workers hold the ring from their start; `c360 audit rotate-key`
        # (another process) says so here, and active_key re-reads the file.
        self._rotated = None if path is None else ChangeSignal(path.with_name(SIGNAL_FILE))
        self._stale = False  # a rotation seen whose key ring was not read yet

    @classmethod
    def load(cls, data_dir: Path, env_keys: str = "") -> KeyRing:
        if env_keys.strip():
            return cls.from_env(env_keys)
        path = data_dir / "keys" / KEYRING_FILE
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with _locked(path):
            if not path.exists():
                _refuse_beside_records(data_dir / AUDIT_LOG, path)
                kid = "k1"
                _write(path, kid, {kid: secrets.token_bytes(32)})
            return cls._read(path)

    @classmethod
    def read(cls, data_dir: Path, env_keys: str = "") -> KeyRing:
        """The ring as it is: nothing created, nothing locked (a read-only copy of a data dir,
        checked by ``c360 audit verify``). KeyRingError when there is none to read."""
        if env_keys.strip():
            return cls.from_env(env_keys)
        return cls._read(data_dir / "keys" / KEYRING_FILE)

    @classmethod
    def from_env(cls, env_keys: str) -> KeyRing:
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for item in env_keys.split(","):
            kid, sep, b64 = item.strip().partition(":")
            try:
                key = base64.b64decode(b64, validate=True)
            except binascii.Error:
                key = b""
            if not sep or not kid or len(key) != 32:
                raise KeyRingError(
                    f"C360_AUDIT_KEYS entry {kid or item!r} must be kid:base64 of 32 bytes"
                )
            keys[kid] = key
            order.append(kid)
        return cls(order[0], keys)

    @classmethod
    def _read(cls, path: Path) -> KeyRing:
        try:
            doc = json.loads(path.read_text())
            keys = {kid: base64.b64decode(b64, validate=True) for kid, b64 in doc["keys"].items()}
            active = doc["active"]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyRingError(
                f"the audit key ring {path} cannot be read ({type(exc).__name__}: {exc}); "
                "restore it from a backup or set C360_AUDIT_KEYS"
            ) from None
        if any(len(key) != 32 for key in keys.values()):
            raise KeyRingError(f"the audit key ring {path} holds a key that is not 32 bytes")
        return cls(active, keys, path)

    @property
    def active_kid(self) -> str:
        return self._active

    @property
    def kids(self) -> list[str]:
        return sorted(self._keys)

    def active_key(self) -> tuple[str, bytes]:
        """The key to write under: the newest, also when another process rotated."""
        if self._rotated is not None and self._path is not None:
            # Stale until a read succeeds: a failed re-read (EMFILE) fails this append and
            # is tried again next time, never left writing under the old key.
            self._stale = self._rotated.changed() or self._stale
            if self._stale:
                fresh = KeyRing._read(self._path)
                self._active, self._keys = fresh._active, {**self._keys, **fresh._keys}
                self._stale = False
        return self._active, self._keys[self._active]

    def key(self, kid: str) -> bytes:
        """The key for ``kid``; re-reads the file once in case another process rotated."""
        if kid not in self._keys and self._path is not None:
            fresh = KeyRing._read(self._path)
            self._keys.update(fresh._keys)
        try:
            return self._keys[kid]
        except KeyError:
            raise KeyRingError(f"unknown audit key id {kid!r}") from None

    def rotate(self) -> str:
        """Make a new active key, keep the old ones; returns the new key id."""
        if self._path is None:
            raise KeyRingError(
                "the key ring comes from C360_AUDIT_KEYS: put a new kid:key first in that "
                "variable (keep the old ones after it) to rotate"
            )
        with _locked(self._path):
            current = KeyRing._read(self._path)
            n = len(current._keys) + 1
            while f"k{n}" in current._keys:
                n += 1
            kid = f"k{n}"
            keys = {**current._keys, kid: secrets.token_bytes(32)}
            _write(self._path, kid, keys)
        self._active, self._keys = kid, keys
        if self._rotated is not None:
            self._rotated.bump()
        return kid


class _locked:
    """An exclusive flock on a sibling lock file (creation and rotation across processes)."""

    def __init__(self, path: Path) -> None:
        self._lock_path = path.with_suffix(".lock")
        self._fd = -1

    def __enter__(self) -> None:
        self._fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)


def _refuse_beside_records(log_file: Path, path: Path) -> None:
    """KeyRingError when ``log_file`` holds records: a new key would write records under the
    same id that no reader can open beside the old ones, breaking the chain for good (a data
    dir restored without keys/, a ring file deleted)."""
    try:
        empty = log_file.stat().st_size == 0
    except (FileNotFoundError, NotADirectoryError):
        return  # no log yet: the first record is written under the new key
    except OSError as exc:
        raise KeyRingError(
            f"no audit key ring at {path}, and {log_file} cannot be looked at ({exc.strerror}): "
            "nothing was created"
        ) from None
    if not empty:
        raise KeyRingError(
            f"no audit key ring at {path}, but the audit log {log_file} holds records (a new "
            f"key would open none of them): restore keys/{KEYRING_FILE} from a backup, or set "
            "C360_AUDIT_KEYS to the keys the log was written with"
        )


def _write(path: Path, active: str, keys: dict[str, bytes]) -> None:
    doc = {"active": active, "keys": {k: base64.b64encode(v).decode() for k, v in keys.items()}}
    write_private(path, json.dumps(doc))
