"""Signed checkpoints over the audit log: the log cannot be cut short or rewritten, even by
someone holding the audit encryption keys, without a checkpoint showing it.

A checkpoint signs the RFC 6962 Merkle root (privacy.merkle) of the first ``size`` lines of
``audit/audit.log`` (each line's bytes without its newline are a leaf) with an Ed25519 key
kept apart from the audit key ring: ``C360_AUDIT_SIGNING_KEY`` names its file (e.g. outside
the data dir, on a disk the hub's operators do not write); else ``keys/audit-signing.key``
(0600). Checkpoints are appended to ``audit/checkpoints.jsonl`` and should also be kept
elsewhere (a witness: ``C360_AUDIT_WITNESS_URL`` gets each one POSTed as JSON; a ticket, a
mail): ``c360 audit verify --checkpoint FILE`` checks the log against any one of them.

Checkpoint JSON: ``{"size", "root" (hex), "time", "key" (hex of the raw public key),
"sig" (base64 Ed25519 over "c360-audit-checkpoint/v1\\n<size>\\n<root>\\n<time>")}``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from privacy import merkle

__all__ = [
    "Checkpoint",
    "CheckpointResult",
    "Checkpointer",
    "check_against",
    "consistency",
    "load_signing_key",
    "make_checkpoint",
    "prove",
    "public_from_hex",
    "public_hex",
    "read_leaves",
    "send_to_witness",
]

log = logging.getLogger("c360.audit")

SIGNING_KEY_FILE = "audit-signing.key"
CHECKPOINT_LOG = "checkpoints.jsonl"
CONTEXT = "c360-audit-checkpoint/v1"


@dataclass(frozen=True)
class Checkpoint:
    size: int
    root: str
    time: str
    key: str
    sig: str

    def message(self) -> bytes:
        return f"{CONTEXT}\n{self.size}\n{self.root}\n{self.time}".encode()

    def signed_by(self, public: Ed25519PublicKey) -> bool:
        try:
            public.verify(base64.b64decode(self.sig), self.message())
        except (InvalidSignature, ValueError):
            return False
        return True

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """One checkpoint, or the last of a checkpoint log."""
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines:
            raise ValueError("no checkpoint in the file")
        raw = json.loads(lines[-1])
        return cls(**{k: raw[k] for k in ("size", "root", "time", "key", "sig")})


@dataclass(frozen=True)
class CheckpointResult:
    ok: bool
    reason: str


def load_signing_key(data_dir: Path, env_path: str = "") -> Ed25519PrivateKey:
    """The checkpoint signing key: ``env_path`` if given (must exist), else the data dir's,
    created on first use (0600)."""
    path = Path(env_path) if env_path else data_dir / "keys" / SIGNING_KEY_FILE
    if not path.exists():
        if env_path:
            raise FileNotFoundError(f"C360_AUDIT_SIGNING_KEY names {path}, which does not exist")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
        except FileExistsError:
            pass  # another process made it first
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def public_hex(public: Ed25519PublicKey) -> str:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def public_from_hex(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text.strip()))


def read_leaves(log_path: Path) -> list[bytes]:
    """The leaf hashes of the audit log's complete lines."""
    try:
        raw = log_path.read_bytes()
    except FileNotFoundError:
        return []
    lines = raw.split(b"\n")[:-1]  # a torn last line (no newline) is not a record
    return [merkle.leaf_hash(line) for line in lines]


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def make_checkpoint(log_path: Path, key: Ed25519PrivateKey) -> Checkpoint:
    """Sign the log as it is now and append the checkpoint to the checkpoint log."""
    leaves = read_leaves(log_path)
    unsigned = Checkpoint(len(leaves), merkle.root(leaves).hex(), _now(), "", "")
    sig = base64.b64encode(key.sign(unsigned.message())).decode()
    cp = Checkpoint(unsigned.size, unsigned.root, unsigned.time, public_hex(key.public_key()), sig)
    _append(log_path.parent / CHECKPOINT_LOG, cp)
    return cp


def check_against(log_path: Path, cp: Checkpoint, public: Ed25519PublicKey) -> CheckpointResult:
    """Is the log a continuation of what ``cp`` signed?"""
    if not cp.signed_by(public):
        return CheckpointResult(False, "the checkpoint's signature does not verify with the key")
    leaves = read_leaves(log_path)
    if len(leaves) < cp.size:
        return CheckpointResult(
            False,
            f"truncated: the checkpoint covers {cp.size} records, the log has {len(leaves)}",
        )
    if merkle.root(leaves[: cp.size]).hex() != cp.root:
        return CheckpointResult(
            False, f"rewritten: the first {cp.size} records do not match the signed checkpoint"
        )
    return CheckpointResult(True, f"the log extends checkpoint {cp.size} ({len(leaves)} records)")


def prove(log_path: Path, seq: int, cp: Checkpoint) -> dict[str, Any]:
    """An inclusion proof of record ``seq`` (line ``seq``) in the tree ``cp`` signed."""
    leaves = read_leaves(log_path)[: cp.size]
    if not 1 <= seq <= cp.size:
        raise ValueError(f"record {seq} is not covered by checkpoint {cp.size}")
    line = log_path.read_bytes().split(b"\n")[seq - 1].decode()
    return {
        "format": "c360-audit-inclusion/v1",
        "seq": seq,
        "index": seq - 1,
        "line": line,
        "size": cp.size,
        "root": cp.root,
        "path": [h.hex() for h in merkle.inclusion_proof(seq - 1, leaves)],
        "checkpoint": asdict(cp),
    }


def consistency(log_path: Path, old: int, new: int) -> dict[str, Any]:
    """A consistency proof: the log's first ``old`` records are a prefix of its first ``new``."""
    leaves = read_leaves(log_path)
    if not 0 < old <= new <= len(leaves):
        raise ValueError(f"need 0 < OLD <= NEW <= {len(leaves)} (the log's records)")
    return {
        "format": "c360-audit-consistency/v1",
        "old": old,
        "new": new,
        "old_root": merkle.root(leaves[:old]).hex(),
        "new_root": merkle.root(leaves[:new]).hex(),
        "path": [h.hex() for h in merkle.consistency_proof(old, leaves[:new])],
    }


class Checkpointer:
    """Signs a checkpoint once ``every`` new records have been appended, or ``interval_s``
    after the last one when any record came since. Reads only what was appended since its
    last look, and keeps only the Merkle frontier (a few dozen hashes, not one per record: a
    hub that runs for months would otherwise hold ~70 bytes per audit record forever and hash
    them all again at every checkpoint)."""

    def __init__(
        self,
        log_path: Path,
        key: Ed25519PrivateKey,
        every: int = 100,
        interval_s: float = 60.0,
        witness_url: str = "",
    ) -> None:
        self.log_path, self.key = log_path, key
        self.every, self.interval_s = every, interval_s
        self.witness_url = witness_url
        self._offset = 0
        self._tree = merkle.Frontier()
        self._signed = -1
        self._signed_at = 0.0

    def _read_new(self) -> None:
        try:
            with self.log_path.open("rb") as fh:
                fh.seek(self._offset)
                data = fh.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n")
        if end < 0:
            return
        for line in data[:end].split(b"\n"):
            self._tree.append(merkle.leaf_hash(line))
        self._offset += end + 1

    def tick(self, now: float) -> Checkpoint | None:
        """Sign if due (``now``: a monotonic clock); the checkpoint made, if any."""
        self._read_new()
        size = self._tree.size
        if self._signed < 0:
            self._signed, self._signed_at = self._last_signed_size(), now
        fresh = size - self._signed
        if fresh <= 0 or (fresh < self.every and now - self._signed_at < self.interval_s):
            return None
        unsigned = Checkpoint(size, self._tree.root().hex(), _now(), "", "")
        sig = base64.b64encode(self.key.sign(unsigned.message())).decode()
        cp = Checkpoint(size, unsigned.root, unsigned.time, public_hex(self.key.public_key()), sig)
        _append(self.log_path.parent / CHECKPOINT_LOG, cp)
        self._signed, self._signed_at = size, now
        if self.witness_url:
            send_to_witness(self.witness_url, cp)
        return cp

    def _last_signed_size(self) -> int:
        try:
            return Checkpoint.parse((self.log_path.parent / CHECKPOINT_LOG).read_text()).size
        except (FileNotFoundError, ValueError, KeyError):
            return 0


def _append(path: Path, cp: Checkpoint) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (json.dumps(asdict(cp)) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def send_to_witness(url: str, cp: Checkpoint, timeout_s: float = 5.0) -> bool:
    """POST the checkpoint as JSON; a witness that is down is logged, not fatal (the
    checkpoint log keeps it, and the next one covers it)."""
    try:
        response = httpx.post(url, json=asdict(cp), timeout=timeout_s)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        log.warning("audit witness %s did not take checkpoint %s: %s", url, cp.size, exc)
        return False
    return True
