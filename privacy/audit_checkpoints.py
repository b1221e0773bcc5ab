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

A checkpoint is only signed over a log that extends the last one signed (its first ``size``
records have the signed root) and whose records after it chain (seq, prev, hash; with the key
ring, GCM too), and only after a checkpoint log whose every line is a checkpoint: a signer that
signed whatever is on disk would re-anchor a cut or rewritten log, after which nothing reports
it. Until the log is restored (or the damaged line removed) checkpoints stay paused, each
attempt logged as an ERROR (:class:`Checkpointer`, ``problem``); records lost for good are
acknowledged by a privacy officer instead (privacy.audit_reanchor, ``c360 audit reanchor``).
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import json
import logging
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from privacy import merkle
from privacy.audit import GENESIS, Ciphers, check_record, cut_torn_tail, line_still_at, write_synced
from privacy.keyring import KeyRing

__all__ = [
    "Checkpoint",
    "CheckpointLogError",
    "CheckpointLogReader",
    "CheckpointRefused",
    "CheckpointResult",
    "Checkpointer",
    "check_against",
    "consistency",
    "load_signing_key",
    "make_checkpoint",
    "prove",
    "public_from_hex",
    "public_hex",
    "read_checkpoint_log",
    "read_leaves",
    "send_to_witness",
]

log = logging.getLogger("c360.audit")

SIGNING_KEY_FILE = "audit-signing.key"
CHECKPOINT_LOG = "checkpoints.jsonl"
CONTEXT = "c360-audit-checkpoint/v1"
_FIELDS = ("size", "root", "time", "key", "sig")


class CheckpointLogError(ValueError):
    """A checkpoint log with a line that is not a checkpoint (the message names the line);
    ``before``: the checkpoints read before that line."""

    def __init__(self, message: str, before: list[Checkpoint] | None = None) -> None:
        super().__init__(message)
        self.before = before or []


class CheckpointRefused(RuntimeError):
    """No checkpoint was signed: the log does not extend the last one, or fails its chain."""


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
    def parse(
        cls, text: str, name: str = "the checkpoint file", whole_lines: bool = False
    ) -> Checkpoint:
        """One checkpoint, or the last of a checkpoint log (CheckpointLogError names a line
        that is not a checkpoint: a damaged log is not read past)."""
        found = read_checkpoint_log(text, name, whole_lines)
        if not found:
            raise CheckpointLogError(f"no checkpoint in {name}")
        return found[-1]

    @classmethod
    def from_line(cls, line: str) -> Checkpoint:
        """One checkpoint log line; ValueError says what is wrong with it."""
        try:
            raw = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"not JSON ({exc})") from None
        if not isinstance(raw, dict) or any(k not in raw for k in _FIELDS):
            raise ValueError(f"not a checkpoint object with {', '.join(_FIELDS)}")
        size, texts = raw["size"], [raw[k] for k in _FIELDS[1:]]
        if type(size) is not int or size < 0 or not all(isinstance(t, str) for t in texts):
            raise ValueError("size is not a count, or root/time/key/sig is not text")
        return cls(size, *texts)


def read_checkpoint_log(
    text: str, name: str = "the checkpoint log", whole_lines: bool = True, first_line: int = 1
) -> list[Checkpoint]:
    """Every checkpoint in a checkpoint log (blank lines skipped; ``text`` starts at line
    ``first_line``); CheckpointLogError for the first line that is not one or, with
    ``whole_lines`` (a log the hub appends to), a last line without its newline (a torn
    append: the next one would make it junk)."""
    lines = text.split("\n")
    last = first_line + len(lines) - 1
    found = []
    for number, line in enumerate(lines, start=first_line):
        if not line.strip():
            continue
        try:
            found.append(Checkpoint.from_line(line))
            if whole_lines and number == last:  # text after the last newline
                raise ValueError("the line is torn (no newline after it)")
        except ValueError as exc:
            raise CheckpointLogError(
                f"{name} line {number} is not a checkpoint: {exc}. Restore the file from a "
                "copy (the witness, a backup) or, if the line is junk added after the last "
                "signed checkpoint, remove that line (the hub signs no checkpoint while its "
                "checkpoint log has one)",
                found,
            ) from None
    return found


class CheckpointLogReader:
    """The last checkpoint of a checkpoint log that grows, reading only what was appended
    since the last look (a log of a checkpoint a minute is ~150 MB after a year): the bytes
    before it are read again only if they changed at its end (a cut, a replaced file).
    ``read`` raises CheckpointLogError for a line that is not a checkpoint (and reads it
    again at the next look, until it is fixed). A last line without its newline is not read
    yet: another process (a worker) may be appending it."""

    TAIL = 512  # bytes before the read offset compared at each look

    def __init__(self, path: Path, name: str = "") -> None:
        self.path, self.name = path, name or str(path)
        self._start()

    def _start(self) -> None:
        self._offset, self._lines, self._tail = 0, 0, b""
        self.last: Checkpoint | None = None

    def read(self) -> Checkpoint | None:
        try:
            fh = self.path.open("rb")
        except FileNotFoundError:
            self._start()
            return None
        with fh:
            if self._offset:
                fh.seek(self._offset - len(self._tail))
                if fh.read(len(self._tail)) != self._tail:
                    self._start()
            fh.seek(self._offset)
            data = fh.read()
        data = data[: data.rfind(b"\n") + 1]  # whole lines: a torn one is read when whole
        try:
            text = data.decode()
        except UnicodeDecodeError as exc:
            raise CheckpointLogError(f"{self.name} is not UTF-8 text ({exc})") from None
        try:
            found = read_checkpoint_log(text, self.name, first_line=self._lines + 1)
        except CheckpointLogError as exc:
            self.last = exc.before[-1] if exc.before else self.last
            raise
        self._offset += len(data)
        self._lines += text.count("\n")
        self._tail = (self._tail + data)[-self.TAIL :]
        if found:
            self.last = found[-1]
        return self.last


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


def make_checkpoint(
    log_path: Path, key: Ed25519PrivateKey, keyring: KeyRing | None = None
) -> Checkpoint:
    """Sign the log as it is now and append the checkpoint to the checkpoint log; the same
    checks as the hub's signer first (CheckpointRefused says what failed)."""
    signer = Checkpointer(log_path, key, keyring=keyring)
    problem = signer.check()
    if problem:
        raise CheckpointRefused(problem)
    return signer.sign()


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
    them all again at every checkpoint).

    It signs only a log it has checked, incrementally: each new record must chain from the
    one before (seq, prev, hash; GCM with ``keyring``), and the last signed checkpoint (read
    from the checkpoint log as it grows, before the records, its signature valid for the key
    it names: after a change of signing key it is the old key's, logged once) must have the
    root of the log's first ``size`` records. That root is taken as the read passes ``size``;
    for a checkpoint another process (a worker) signed over records this one had already read
    (it read the log before this one, and appended its checkpoint after), the leaves from
    where one of this signer's last reads began are hashed again (no decryption). A log
    changed behind the records already read (its last read line moved) is read again from
    the start. New records are read up to the log's size under its flock (shared), so only
    acknowledged batches. While ``problem`` is set nothing is signed nor sent to the witness;
    it is checked again (and logged as an ERROR) every ``interval_s``."""

    MARKS = 8  # read starts kept, for a checkpoint another process signed behind this one

    def __init__(
        self,
        log_path: Path,
        key: Ed25519PrivateKey,
        every: int = 100,
        interval_s: float = 60.0,
        witness_url: str = "",
        keyring: KeyRing | None = None,
        checkpoint_log: Path | None = None,
    ) -> None:
        self.log_path, self.key = log_path, key
        self.every, self.interval_s = every, interval_s
        self.witness_url = witness_url
        self.keyring = keyring
        self._ciphers = Ciphers(keyring) if keyring is not None else None
        self._public = key.public_key()
        # Another checkpoint log than the audit dir's: a re-anchor's new one (audit_reanchor).
        self._cp_path = checkpoint_log or log_path.parent / CHECKPOINT_LOG
        self._cp_log = CheckpointLogReader(self._cp_path)
        self.problem = ""  # why checkpoints are paused ("" when they are not)
        # The last checkpoint, when the problem is that the log does not extend it (cut or
        # rewritten below it, the chain intact): what `c360 audit reanchor` acknowledges.
        self.lost: Checkpoint | None = None
        self._problem_at = -math.inf
        self._signed = -1
        self._signed_at = 0.0
        self._anchor: Checkpoint | None = None  # the checkpoint log's last checkpoint
        self._anchor_ok: tuple[int, str] | None = None  # (size, root) found in the log
        self._warned_key = ""  # another key whose last checkpoint was signed on from
        # Times the log was read again from its first record (a decryption per record): an
        # operator's and a test's view of a cost that should stay at 0.
        self.read_again = -1
        self._reset()

    def _reset(self) -> None:
        """Forget what was read of the log: the next read starts at its first record."""
        self.read_again += 1
        self._offset, self._last_line, self._prev = 0, b"", GENESIS
        self._tree = merkle.Frontier()
        # (records, bytes, tree) where recent reads began: a root behind the position is
        # hashed again from the nearest one.
        self._marks: list[tuple[int, int, merkle.Frontier]] = []
        self._passed: tuple[int, str] | None = None  # (size, root) taken for the anchor
        self._anchor_ok = None

    def check(self) -> str:
        """Read what is new in both logs and check it; the problem found ("" if none)."""
        self.lost = None
        anchor_problem = self._read_checkpoints()
        if anchor_problem:
            return anchor_problem
        if not self._prefix_intact():
            log.warning("audit log changed behind the records already read: reading it again")
            self._reset()
        # A break first: the records after it are not read, so the log would look short.
        return self._read_new() or self._anchor_problem()

    def head(self) -> tuple[int, str]:
        """(records, Merkle root hex) of the log as read and checked so far."""
        return self._tree.size, self._tree.root().hex()

    def sign(self) -> Checkpoint:
        """Sign what was read (call after a :meth:`check` that found nothing) and append it."""
        unsigned = Checkpoint(self._tree.size, self._tree.root().hex(), _now(), "", "")
        sig = base64.b64encode(self.key.sign(unsigned.message())).decode()
        cp = Checkpoint(unsigned.size, unsigned.root, unsigned.time, public_hex(self._public), sig)
        _append(self._cp_path, cp)
        # Read back from the checkpoint log at the next check: already known to match.
        self._anchor, self._anchor_ok = cp, (cp.size, cp.root)
        return cp

    def tick(self, now: float) -> Checkpoint | None:
        """Sign if due (``now``: a monotonic clock); the checkpoint made, if any."""
        if self.problem and now - self._problem_at < self.interval_s:
            return None  # paused: checked (and logged) again once per interval
        self.problem = self.check()
        if self.problem:
            self._problem_at = now
            log.error("audit checkpoint not signed (checkpoints paused): %s", self.problem)
            return None
        size = self._tree.size
        if self._signed < 0:
            self._signed_at = now
        # Counted from the last checkpoint in the log, also one smaller than this signer's
        # own last (a re-anchored log: its fresh first checkpoint may be far below it).
        self._signed = self._anchor.size if self._anchor else max(self._signed, 0)
        fresh = size - self._signed
        if fresh <= 0 or (fresh < self.every and now - self._signed_at < self.interval_s):
            return None
        cp = self.sign()
        self._signed, self._signed_at = size, now
        if self.witness_url:
            send_to_witness(self.witness_url, cp)
        return cp

    def _read_checkpoints(self) -> str:
        """The checkpoint log's last checkpoint into ``_anchor``; the problem with the log."""
        try:
            anchor = self._cp_log.read()
        except OSError as exc:
            return f"the checkpoint log {self._cp_path} cannot be read: {exc}"
        except CheckpointLogError as exc:
            return str(exc)
        if anchor != self._anchor:
            self._anchor, self._anchor_ok = anchor, None
        unchecked = anchor is not None and (anchor.size, anchor.root) != self._anchor_ok
        if anchor is not None and unchecked and not _signed_by_its_key(anchor):
            return (
                f"the last checkpoint in {self._cp_path} ({anchor.size} records) is not "
                f"signed by the key it names ({anchor.key[:16]}...): a forged or damaged "
                "line; restore the file from a copy (the witness, a backup)"
            )
        return ""

    def _accept(self, anchor: Checkpoint) -> None:
        """``anchor`` matches the log. Signed by another key (C360_AUDIT_SIGNING_KEY or the
        key file changed): the hub signs on with this one, and says so once."""
        self._anchor_ok = (anchor.size, anchor.root)
        own = public_hex(self._public)
        if anchor.key != own and anchor.key != self._warned_key:
            self._warned_key = anchor.key
            log.warning(
                "audit checkpoint key changed: the last checkpoint (%s records) is signed by "
                "key %s, this hub signs with %s from now on; give verifiers the new public key "
                "(`c360 audit public-key`). If nobody changed the key, find out who did.",
                anchor.size,
                anchor.key,
                own,
            )

    def _pending(self) -> int:
        """The size whose root the read must take as it passes (0: none)."""
        anchor = self._anchor
        if anchor is None or (anchor.size, anchor.root) == self._anchor_ok:
            return 0
        return anchor.size if anchor.size > self._tree.size else 0

    def _anchor_problem(self) -> str:
        anchor = self._anchor
        if anchor is None or (anchor.size, anchor.root) == self._anchor_ok:
            return ""
        size = self._tree.size
        if anchor.size > size:
            self.lost = anchor
            return (
                f"truncated: the last signed checkpoint covers {anchor.size} records, the log "
                f"has {size} verified; restore audit/audit.log from a backup or copy (lost "
                "for good: `c360 audit reanchor`)"
            )
        if anchor.size == size:
            root = self._tree.root().hex()
        elif self._passed is not None and self._passed[0] == anchor.size:
            root = self._passed[1]
        else:  # signed behind this signer's position by another process
            try:
                root = self._root_behind(anchor.size)
            except OSError as exc:
                return f"the audit log {self.log_path} cannot be read: {exc}"
        if root != anchor.root:
            self.lost = anchor
            return (
                f"rewritten: the log's first {anchor.size} records do not match the last "
                "signed checkpoint; restore audit/audit.log from a backup or copy (lost for "
                "good: `c360 audit reanchor`)"
            )
        self._accept(anchor)
        return ""

    def _root_behind(self, size: int) -> str:
        """The root of the first ``size`` records (already read and checked): their leaves
        hashed again from the nearest read start at or before ``size``."""
        start, offset, tree = 0, 0, merkle.Frontier()
        for mark in reversed(self._marks):
            if mark[0] <= size:
                start, offset, tree = mark[0], mark[1], mark[2].copy()
                break
        with self.log_path.open("rb") as fh:
            fh.seek(offset)
            data = fh.read(self._offset - offset)
        for line in data.split(b"\n")[: size - start]:
            tree.append(merkle.leaf_hash(line))
        return tree.root().hex()

    def _prefix_intact(self) -> bool:
        """Is the last line read still where it was (the log only grows)?"""
        return not self._offset or line_still_at(self.log_path, self._offset, self._last_line)

    def _read_new(self) -> str:
        """Read and check the complete lines after the last one read; the first that does
        not chain stops the read: its problem."""
        try:
            with self.log_path.open("rb") as fh:
                # The size under the writer's lock (shared): a batch written but not yet
                # fsynced may still be cut off if its fsync fails, and a checkpoint over it
                # would stand for records that were never acknowledged ("rewritten" for
                # good). The bytes before that size stay, so they are read after the lock
                # is let go (a long first read does not hold the writers up).
                fcntl.flock(fh.fileno(), fcntl.LOCK_SH)
                end = os.fstat(fh.fileno()).st_size
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
                fh.seek(self._offset)
                data = fh.read(max(0, end - self._offset))
        except FileNotFoundError:
            return ""
        lines = data.split(b"\n")[:-1]  # a torn last line is not a record (yet)
        if not lines:
            return ""
        tree = self._tree
        self._marks = [*self._marks[1 - self.MARKS :], (tree.size, self._offset, tree.copy())]
        pending = self._pending()
        offset, prev, last, problem = self._offset, self._prev, self._last_line, ""
        for line in lines:
            seq = tree.size + 1
            why, digest, _ = check_record(line, seq, prev, self._ciphers)
            if why:
                problem = (
                    f"BROKEN at seq {seq}: {why}; restore audit/audit.log from a backup or copy"
                )
                break
            tree.append(merkle.leaf_hash(line))
            offset, prev, last = offset + len(line) + 1, digest, line
            if seq == pending:
                self._passed = (seq, tree.root().hex())
        self._offset, self._prev, self._last_line = offset, prev, last
        return problem


def _signed_by_its_key(cp: Checkpoint) -> bool:
    """Does the signature verify with the key the checkpoint names? (Which key is trusted
    is the verifier's business: ``check_against`` takes it from elsewhere.)"""
    try:
        public = public_from_hex(cp.key)
    except ValueError:
        return False
    return cp.signed_by(public)


def _append(path: Path, cp: Checkpoint) -> None:
    """Append the line in one write under the file's flock (workers append to one log): a
    reader sees it whole or not yet. A write that fails is cut off; a torn tail found under
    the lock is an append a crash cut short, cut off too (else this line would join it and
    make a line that is not a checkpoint)."""
    line = (json.dumps(asdict(cp)) + "\n").encode()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        torn = cut_torn_tail(fd)
        if torn:
            log.warning("checkpoint log %s: cut a torn last line of %d bytes", path, torn)
        start = os.fstat(fd).st_size
        try:
            write_synced(fd, line)
        except OSError:
            os.ftruncate(fd, start)
            raise
    finally:
        os.close(fd)  # also lets the flock go


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
