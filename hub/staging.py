"""Staging dirs of backups and restores: private, held while in use, removed after a crash.

A backup stages plaintext on disk (the graph snapshot, copies of the keys), and so does a
restore (the unpacked archive). They stage in ``<data dir>/tmp/`` (0700, in the owner-only
data dir; never beside the archive, which may sit in a shared folder), each in a dir of its
own on which it holds an exclusive flock for its whole run. The kernel drops the lock of a
process that dies, even by SIGKILL, so the next backup or restore of that data dir finds the
dir unlocked and removes it, with the ``.partial`` archive the dead run had begun (named in
its ``owner.json``, with the file's identity, so a later file of that name is left alone).
A running backup's staging stays locked and is never removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["STAGING_DIR", "Staging", "remove_stale", "staging"]

STAGING_DIR = "tmp"  # inside the data dir; backups leave it out
PREFIX = "c360-stage-"
_GUARD = ".staging.lock"  # serialises creating a staging dir with removing stale ones
_OWNER = "owner.json"


@dataclass(frozen=True)
class Staging:
    path: Path

    def claim(self, partial: Path) -> None:
        """Record ``partial`` (already created by us) as ours: removed if we die."""
        st = partial.stat()
        record = {"pid": os.getpid(), "partial": str(partial), "dev": st.st_dev, "ino": st.st_ino}
        (self.path / _OWNER).write_text(json.dumps(record))


@contextlib.contextmanager
def _guard(root: Path) -> Iterator[None]:
    fd = os.open(root / _GUARD, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _private_root(root: Path) -> None:
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    if root.is_symlink():  # the plaintext would be staged wherever it leads
        raise OSError(f"{root} is a symbolic link: remove it (staging stays in the data dir)")
    os.chmod(root, 0o700)  # an older or hand-made tmp/ must not let others list the stages


def _remove_stale_locked(root: Path) -> list[Path]:
    removed = []
    for path in sorted(root.glob(PREFIX + "*")):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue  # not a dir of ours (or gone)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live backup or restore holds it
            _remove_partial(path / _OWNER)
            shutil.rmtree(path)
            removed.append(path)
        finally:
            os.close(fd)
    return removed


def _remove_partial(owner: Path) -> None:
    try:
        record = json.loads(owner.read_text())
        partial = Path(record["partial"])
        st = partial.stat()
    except (OSError, ValueError, KeyError, TypeError):
        return  # no partial begun, or already gone
    if partial.name.endswith(".partial") and (st.st_dev, st.st_ino) == (
        record["dev"],
        record["ino"],
    ):
        partial.unlink(missing_ok=True)


def remove_stale(root: Path, *, prune: bool = False) -> list[Path]:
    """Remove the staging dirs (and their ``.partial`` archives) of dead runs under ``root``;
    returns the dirs removed. ``prune``: remove ``root`` too when nothing else is left in it
    (a restore's target must be empty again)."""
    if not root.is_dir() or not (root / _GUARD).is_file():
        return []  # never staged in: not ours to touch (nor to leave a lock file in)
    with _guard(root):
        removed = _remove_stale_locked(root)
        if prune and [p.name for p in root.iterdir()] == [_GUARD]:
            (root / _GUARD).unlink()
            root.rmdir()
    return removed


@contextlib.contextmanager
def staging(root: Path) -> Iterator[tuple[Staging, list[Path]]]:
    """A fresh 0700 staging dir under ``root`` (created 0700), locked until exit and removed
    then; first removes what dead runs left. Yields it and the stale dirs removed."""
    _private_root(root)
    with _guard(root):
        # Under the guard: a cleaner never sees our dir between its creation and its lock.
        removed = _remove_stale_locked(root)
        path = Path(tempfile.mkdtemp(prefix=PREFIX, dir=root))  # 0700
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        (path / _OWNER).write_text(json.dumps({"pid": os.getpid()}))
        yield Staging(path), removed
    finally:
        try:
            shutil.rmtree(path, ignore_errors=True)
        finally:
            os.close(fd)
