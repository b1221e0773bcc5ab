"""The data dir holds keys, the audit log, policies and the graph's files: owner only.

:func:`secure_data_dir` sets the process umask to 077 (so everything created later, by the hub
or by the graph server child it starts, is 0600/0700) and tightens what is already there.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
UMASK = 0o077


def secure_data_dir(root: Path) -> int:
    """umask 077 for this process and its children; dirs 0700, files 0600 under ``root``.
    Returns how many entries had their mode tightened. Symlinks are left alone."""
    os.umask(UMASK)
    fixed = 0
    for path in [root, *root.rglob("*")]:
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:  # removed while walking (a temp file of the graph server)
            continue
        if stat.S_ISLNK(mode):
            continue
        wanted = DIR_MODE if stat.S_ISDIR(mode) else FILE_MODE
        if stat.S_IMODE(mode) & ~wanted:
            os.chmod(path, stat.S_IMODE(mode) & wanted)
            fixed += 1
    return fixed


__all__ = ["DIR_MODE", "FILE_MODE", "UMASK", "secure_data_dir"]
