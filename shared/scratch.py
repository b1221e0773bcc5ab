"""Temp folders named after the process that made them (``<prefix><pid>-XXXXXXXX``).

A command removes its own on the way out (the CLI turns SIGTERM and SIGHUP into an unwinding
exit: hub/cli/common.py ``unwinding_on_signals``). One killed before it could (SIGKILL, a power
cut) leaves a folder whose pid is dead: :func:`sweep` removes those of this user. A folder of a
live pid, or of another user, is never touched (a recycled pid only keeps a stale one longer).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

__all__ = ["alive", "scratch_dir", "sweep"]


def alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (ours or another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def scratch_dir(prefix: str, folder: Path | None = None) -> tempfile.TemporaryDirectory[str]:
    """A fresh 0700 folder ``<prefix><our pid>-XXXXXXXX`` in ``folder`` (default the temp
    folder), removed when its ``with`` block exits; the same prefix's folders of dead
    processes are swept first (:func:`sweep`)."""
    sweep(prefix, folder)
    return tempfile.TemporaryDirectory(prefix=f"{prefix}{os.getpid()}-", dir=folder)


def sweep(prefix: str, folder: Path | None = None) -> list[Path]:
    """Remove the folders :func:`scratch_dir` made with ``prefix`` in ``folder`` (default the
    temp folder) for processes of this user that are gone; returns them."""
    root = folder or Path(tempfile.gettempdir())
    named = re.compile(re.escape(prefix) + r"(\d+)-")
    removed = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return []
    for entry in entries:
        match = named.match(entry.name)
        if match is None:
            continue
        pid = int(match[1])
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue  # gone meanwhile
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
            continue
        if pid == os.getpid() or alive(pid):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(Path(entry.path))
    return removed
