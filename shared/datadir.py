"""The data dir holds keys, the audit log, policies and the graph's files: owner only.

:func:`tighten_data_dir` makes what is already there 0700 dirs / 0600 files (an older version,
or a command run under umask 022, left some 0755/0644); ``Settings.resolved_data_dir`` runs it
whenever a process first opens the data dir. :func:`secure_data_dir` also sets the process
umask to 077, so everything created later, by the hub or by the graph server child it starts,
is owner-only too (the `c360` command sets that umask at its start, for every command).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
UMASK = 0o077


def tighten_data_dir(root: Path) -> int:
    """Dirs 0700, files 0600 under ``root`` (and ``root`` itself); returns how many entries had
    their mode tightened. Symlinks are left alone. An entry that cannot be changed (owned by
    another user) raises the OSError: the data dir is then not private, and says so."""
    fixed = 0
    for path in [root, *root.rglob("*")]:
        try:
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                continue
            wanted = DIR_MODE if stat.S_ISDIR(mode) else FILE_MODE
            if stat.S_IMODE(mode) & ~wanted:
                os.chmod(path, stat.S_IMODE(mode) & wanted)
                fixed += 1
        except FileNotFoundError:  # removed while walking (a temp file of the graph server)
            continue
    return fixed


def secure_data_dir(root: Path) -> int:
    """umask 077 for this process and its children, then :func:`tighten_data_dir`."""
    os.umask(UMASK)
    return tighten_data_dir(root)


__all__ = ["DIR_MODE", "FILE_MODE", "UMASK", "secure_data_dir", "tighten_data_dir"]
