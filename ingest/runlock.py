"""One import of an input at a time: an exclusive flock per checkpoint key.

Two runs of the same import at once (a cron job and a person) would race for the same
inserts, count them both, and share one checkpoint entry and one dead-letter file. So a run
that writes holds an exclusive, non-blocking flock on ``<checkpoints dir>/import-<digest>.lock``
(the digest of its checkpoint key) for its whole run, and a second run of the same key is
refused at once (ImportRunning), before it reads the checkpoint or opens the dead letters.
The lock file holds the owner's pid and start time, for the message. The kernel drops the
lock of a process that dies, even by SIGKILL: nothing is left to clean up (the small file
stays, and the next run takes it). Different inputs have different keys and run at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

from ingest.summary import ImportRefused

__all__ = ["ImportRunning", "import_lock", "lock_path"]


class ImportRunning(ImportRefused):
    """Another import of the same input (checkpoint key) holds its lock."""


def lock_path(checkpoints_dir: Path, key: str) -> Path:
    """The lock file of the import whose checkpoint key is ``key``."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return checkpoints_dir / f"import-{digest}.lock"


def _owner(fd: int) -> str:
    try:
        record = json.loads(os.pread(fd, 4096, 0) or b"{}")
        pid, started = int(record["pid"]), float(record["started"])
    except (OSError, ValueError, KeyError, TypeError):
        return ""  # the owner has not written it yet
    return f" (pid {pid}, started {time.strftime('%H:%M', time.localtime(started))})"


@contextlib.contextmanager
def import_lock(checkpoints_dir: Path, key: str, name: str) -> Iterator[None]:
    """Hold the lock of the import keyed ``key`` until exit; ImportRunning at once, nothing
    written, when another process holds it. ``name``: the input, for the message."""
    checkpoints_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(checkpoints_dir, key), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ImportRunning(
                f"another import of {name} is running{_owner(fd)}; wait for it to finish or stop it"
            ) from None
        record = json.dumps({"pid": os.getpid(), "started": time.time()}).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, record, 0)
        yield
    finally:
        os.close(fd)  # also lets the flock go
