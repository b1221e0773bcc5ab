"""Replacing a file whole (readers see the old content or the new, never half of either), and
creating a private one."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

PRIVATE = 0o600


def replace_file(path: Path, data: str | bytes, *, mode: int = 0o666, durable: bool = True) -> None:
    """Write ``data`` (text as UTF-8) to a temp file beside ``path`` (one per process, so two
    writers never share one), fsynced unless not ``durable``, then rename it over ``path``.
    ``mode`` (before the umask) is set on the file even where a crashed writer left its temp
    file behind: O_CREAT keeps an existing file's mode."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    if mode != 0o666:
        os.fchmod(fd, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data.encode() if isinstance(data, str) else data)
        if durable:
            fh.flush()
            os.fsync(fh.fileno())
    os.replace(tmp, path)
    if durable:
        sync_dir(path.parent)  # the new name, not only its bytes, survives a power cut


def unwritable(folder: Path) -> int | None:
    """Why files in ``folder`` cannot be changed, as an errno (EACCES, EROFS), else None.
    root passes access() on a read-only mount: the mount's flag says so."""
    if not os.access(folder, os.W_OK):
        return errno.EACCES
    if os.statvfs(folder).f_flag & os.ST_RDONLY:
        return errno.EROFS
    return None


def sync_dir(folder: Path) -> None:
    """fsync a folder: a file created or renamed in it is there after a crash."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def create_private(path: Path) -> BinaryIO:
    """A new, empty file at ``path`` open for writing, mode 0600 whatever the umask: for
    personal data written outside the data dir (dead letters beside the input, exports), which
    a library caller may write under any umask.

    A regular file already there is removed and created anew, not truncated: it may be 0644
    (from an older version), and whoever opened it then could read on through a chmod. A file
    that appears in between (another user in a shared folder) makes it fail, not write into
    theirs. Something else at ``path`` (a FIFO, /dev/stdout) is written to as it is."""
    try:
        existing = path.stat()
    except FileNotFoundError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        return path.open("wb")
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    return os.fdopen(fd, "wb")


__all__ = ["PRIVATE", "create_private", "replace_file"]
