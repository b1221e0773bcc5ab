"""Replacing a file whole: readers see the old content or the new, never half of either."""

from __future__ import annotations

import os
from pathlib import Path


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


__all__ = ["replace_file"]
