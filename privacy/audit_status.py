"""The audit chain's status for the API (privacy officers, auditors): the same walk as
``c360 audit verify`` (``AuditLog.verify``), kept between requests so that a long log is
walked once and afterwards only its new records are, plus the latest signed checkpoint.

A status younger than ``max_age_s`` is served as it is (a page load costs nothing), and every
``full_every_s`` the walk starts over from the first record, so a record changed in place
inside the already verified prefix is found within that time even if its length is unchanged.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from privacy import merkle
from privacy.audit import AuditLog, ChainState, VerifyResult
from privacy.audit_checkpoints import (
    CHECKPOINT_LOG,
    Checkpoint,
    CheckpointLogError,
    CheckpointLogReader,
)

__all__ = ["AuditChainMonitor", "ChainStatus", "CheckpointMark", "chain_monitor", "count_lines"]


@dataclass(frozen=True)
class CheckpointMark:
    seq: int  # the records it covers (its last record's seq)
    time: str


@dataclass(frozen=True)
class ChainStatus:
    verified: bool
    records: int  # records verified
    last_seq: int  # the last record in the file (verified or not)
    last_checkpoint: CheckpointMark | None
    problems: tuple[str, ...]
    checked_at: float  # time.time() of the walk


def chain_problems(result: VerifyResult) -> list[str]:
    """The walk's findings in words (the same wording ``c360 audit verify`` prints)."""
    if result.ok:
        return []
    return [f"BROKEN at seq {result.first_bad_seq}: {result.reason}"]


def checkpoint_problems(
    cp: Checkpoint, leaves: tuple[bytes, ...], records: int, public: Ed25519PublicKey | None
) -> list[str]:
    """Does the verified log extend the signed checkpoint ``cp``? (audit_checkpoints.
    check_against, over the leaf hashes the walk already computed.)"""
    if public is not None and not cp.signed_by(public):
        return [f"checkpoint {cp.size}: the signature does not verify with this hub's key"]
    if records < cp.size:
        return [f"truncated: checkpoint {cp.size} covers more records than the log's {records}"]
    if merkle.root(list(leaves[: cp.size])).hex() != cp.root:
        return [f"rewritten: the first {cp.size} records do not match signed checkpoint"]
    return []


def _last_checkpoint(reader: CheckpointLogReader) -> tuple[Checkpoint | None, str]:
    """The checkpoint log's last checkpoint, and what is wrong with the log ("" if nothing):
    a line that is not a checkpoint is a problem, not a log without checkpoints (the last
    checkpoint before it is still the one the log is checked against)."""
    try:
        return reader.read(), ""
    except OSError as exc:
        return reader.last, f"audit/{CHECKPOINT_LOG} cannot be read: {exc}"
    except CheckpointLogError as exc:
        return reader.last, str(exc)


def count_lines(path: Path) -> int:
    """The log's complete lines (its records), read in chunks; 0 when there is no log."""
    try:
        with path.open("rb") as fh:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    except FileNotFoundError:
        return 0


class AuditChainMonitor:
    """One per audit log: ``status()`` walks only what came since the last good walk."""

    def __init__(
        self,
        log: AuditLog,
        public_key: Callable[[], Ed25519PublicKey | None] = lambda: None,
        max_age_s: float = 5.0,
        full_every_s: float = 600.0,
    ) -> None:
        self.log = log
        self.public_key = public_key
        self.max_age_s, self.full_every_s = max_age_s, full_every_s
        self._state: ChainState | None = None
        self._state_at = 0.0  # monotonic time of the walk that started from record 1
        self._status: ChainStatus | None = None
        self._status_at = 0.0
        self._checked_cp: tuple[int, str] | None = None  # (size, root) found consistent
        self._checkpoints = CheckpointLogReader(
            log.path.parent / CHECKPOINT_LOG, f"audit/{CHECKPOINT_LOG}"
        )
        self._lock = asyncio.Lock()

    async def status(self) -> ChainStatus:
        async with self._lock:
            now = time.monotonic()
            if self._status is None or now - self._status_at >= self.max_age_s:
                self._status = await asyncio.to_thread(self._walk, now)
                self._status_at = now
            return self._status

    def _walk(self, now: float) -> ChainStatus:
        if self._state is not None and now - self._state_at >= self.full_every_s:
            self._state = None
        if self._state is None:
            self._state_at = now
        # The checkpoint first: the log only grows, so the walk sees every record it covers.
        cp, cp_log_problem = _last_checkpoint(self._checkpoints)
        result = self.log.verify(since=self._state)
        self._state = result.state  # None when broken: the next walk starts over
        problems = chain_problems(result) + ([cp_log_problem] if cp_log_problem else [])
        # A checkpoint found consistent stays so (the walk checks the prefix it covers).
        unchecked = cp is not None and self._checked_cp != (cp.size, cp.root)
        if cp is not None and unchecked and result.state is not None:
            found = checkpoint_problems(cp, result.state.leaves, result.count, self.public_key())
            problems += found
            self._checked_cp = None if found else (cp.size, cp.root)
        last_seq = result.count if result.ok else count_lines(self.log.path)
        return ChainStatus(
            verified=not problems,
            records=result.count,
            last_seq=last_seq,
            last_checkpoint=CheckpointMark(cp.size, cp.time) if cp else None,
            problems=tuple(problems),
            checked_at=time.time(),
        )


_monitors: weakref.WeakKeyDictionary[AuditLog, AuditChainMonitor] = weakref.WeakKeyDictionary()


def chain_monitor(
    log: AuditLog, public_key: Callable[[], Ed25519PublicKey | None] = lambda: None
) -> AuditChainMonitor:
    """The process's monitor for ``log`` (made on first use, dropped with the log)."""
    found = _monitors.get(log)
    if found is None:
        found = _monitors[log] = AuditChainMonitor(log, public_key)
    return found
