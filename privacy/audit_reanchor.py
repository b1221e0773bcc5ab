"""Re-anchoring the audit checkpoints after a real loss (``c360 audit reanchor``).

When records the last signed checkpoint covers are gone for good (cut, or rewritten below it,
and no backup has them), the hub's signer stays paused: signing over that log would hide the
loss. A privacy officer acknowledges it here, on the record:

1. under the checkpoint log's flock (the one every append takes), the log is checked as the
   hub's signer checks it; only "does not extend the last checkpoint" (truncated, rewritten)
   with an intact chain is re-anchored, anything else is refused (:class:`NothingToReanchor`);
2. an audit record (operation ``audit reanchor``) is appended through the normal audit log,
   naming who, why, the lost checkpoint and the log as it stood: the act is in the chain;
3. a fresh first checkpoint is signed over the log as it now stands (that record included)
   into a new checkpoint log, after the signer's own checks;
4. the old checkpoint log gets a second name, ``audit/checkpoints.lost-<UTC time>.jsonl``
   (a hard link: never copied, never deleted), and the new one is renamed over
   ``audit/checkpoints.jsonl``: at every instant the hub finds one or the other whole.

A running hub's signer reads the checkpoint log anew when its bytes change (CheckpointLogReader),
so it signs on from the new checkpoint at its next attempt (within
``C360_AUDIT_CHECKPOINT_INTERVAL_S``), no restart. A witness holding an old checkpoint still
sees the loss: the log does not extend it, and never will again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from privacy.audit import AuditLog, make_record
from privacy.audit_checkpoints import CHECKPOINT_LOG, Checkpoint, Checkpointer, CheckpointRefused
from privacy.keyring import KeyRing
from privacy.types import Principal
from shared.files import sync_dir

__all__ = ["OPERATION", "NothingToReanchor", "Reanchor", "Reanchored", "open_reanchor"]

OPERATION = "audit reanchor"
OFFICER = "privacy_officer"
_NEW_LOG = ".checkpoints.reanchor.jsonl"  # the new checkpoint log until it is renamed in


class NothingToReanchor(RuntimeError):
    """Checkpoints are not paused for a loss re-anchoring acknowledges (the message says why
    and what to do instead)."""


@dataclass(frozen=True)
class Reanchored:
    lost: Checkpoint  # the old checkpoint log's last checkpoint
    log_size: int  # the log's records before the re-anchor record
    log_root: str
    record_seq: int  # the re-anchor record
    checkpoint: Checkpoint  # the fresh first checkpoint
    kept_as: Path  # the old checkpoint log's new name


class Reanchor:
    """A loss found under the checkpoint log's lock (``lost``, ``problem``, ``log_size``,
    ``log_root``); :meth:`run` acknowledges it. Made by :func:`open_reanchor`."""

    def __init__(
        self,
        audit_dir: Path,
        key: Ed25519PrivateKey,
        keyring: KeyRing,
        lost: Checkpoint,
        problem: str,
        head: tuple[int, str],
    ) -> None:
        self.audit_dir, self.key, self.keyring = audit_dir, key, keyring
        self.lost, self.problem = lost, problem
        self.log_size, self.log_root = head

    def run(self, actor: str, reason: str) -> Reanchored:
        """Record the act, sign the fresh checkpoint, keep the old log aside, swap in the new.
        CheckpointRefused if the log fails the signer's checks after the record was written
        (changed meanwhile): the record stays, checkpoints stay paused, nothing is moved.
        AuditUnavailable, OSError: stopped before the swap, so checkpoints stay paused too."""
        moment = dt.datetime.now(dt.UTC)
        cp_path = self.audit_dir / CHECKPOINT_LOG
        stamp = moment.strftime("%Y%m%dT%H%M%S.%f")[:-3]  # UTC, to the millisecond
        kept_as = self.audit_dir / f"checkpoints.lost-{stamp}Z.jsonl"
        seq = asyncio.run(self._record(actor, reason, kept_as.name))
        new_log = self.audit_dir / _NEW_LOG
        new_log.unlink(missing_ok=True)  # one a crashed run left (we hold the lock)
        fresh = Checkpointer(
            self.audit_dir / "audit.log", self.key, keyring=self.keyring, checkpoint_log=new_log
        )
        problem = fresh.check()
        if problem:  # the log was changed again after the check
            raise CheckpointRefused(f"audit record {seq} was written, but {problem}")
        checkpoint = fresh.sign()
        # The old log keeps its bytes under its new name; the new one replaces the old name
        # in one rename, so a reader finds one log or the other, never none.
        os.link(cp_path, kept_as)
        os.replace(new_log, cp_path)
        sync_dir(self.audit_dir)
        return Reanchored(self.lost, self.log_size, self.log_root, seq, checkpoint, kept_as)

    async def _record(self, actor: str, reason: str, kept_as: str) -> int:
        log = AuditLog(self.audit_dir, self.keyring)
        lost = self.lost
        details = {
            "audit_reanchor": {
                "reason": reason,
                "problem": self.problem,
                "lost_checkpoint": {
                    "size": lost.size,
                    "root": lost.root,
                    "key": lost.key,
                    "time": lost.time,
                },
                "log": {"size": self.log_size, "root": self.log_root},
                "old_checkpoint_log": f"audit/{kept_as}",
            }
        }
        principal = Principal(subject=actor, roles=(OFFICER,), purpose="compliance")
        record = make_record(
            principal=principal, operation=OPERATION, outcome="ok", details=details
        )
        try:
            return await log.append(record)
        finally:
            await asyncio.to_thread(log.close)


@contextmanager
def open_reanchor(audit_dir: Path, key: Ed25519PrivateKey, keyring: KeyRing) -> Iterator[Reanchor]:
    """Hold the checkpoint log's flock and find the loss to re-anchor; NothingToReanchor when
    checkpoints are not paused for one. A hub's signer appends under the same lock, so none
    of its checkpoints lands between the check and the swap (it is paused anyway)."""
    cp_path = audit_dir / CHECKPOINT_LOG
    try:
        fd = os.open(cp_path, os.O_RDONLY)
    except FileNotFoundError:
        raise NothingToReanchor(
            f"nothing to re-anchor: there is no checkpoint log at {cp_path}, so checkpoints "
            "are not paused (`c360 audit checkpoint` signs the first)"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if not _same_file(fd, cp_path):  # re-anchored (or removed) while we waited
            raise NothingToReanchor(
                f"{cp_path} was replaced while this command waited for it; run it again"
            )
        signer = Checkpointer(audit_dir / "audit.log", key, keyring=keyring)
        problem = signer.check()
        if not problem:
            size, _ = signer.head()
            raise NothingToReanchor(
                f"nothing to re-anchor: the audit log ({size} records) extends its last signed "
                "checkpoint, checkpoints are not paused"
            )
        if signer.lost is None:
            raise NothingToReanchor(
                f"nothing to re-anchor: checkpoints are paused, but not because records the "
                f"last checkpoint covers are gone: {problem}"
            )
        yield Reanchor(audit_dir, key, keyring, signer.lost, problem, signer.head())
    finally:
        os.close(fd)  # also lets the flock go


def _same_file(fd: int, path: Path) -> bool:
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino)
