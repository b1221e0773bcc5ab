"""A change signal between the processes of one data dir (``c360 serve --workers N``, the CLI).

Some state is read once and kept in memory (the active policy, unwrapped data keys, the audit
key, the cursor-seal key). When one process changes what that state comes from, it ``bump``s
a signal: a small file rewritten whole with a fresh random token. Every other process asks
``changed()`` before it next uses its copy, and reloads when the token is not the one it saw.
A token, not the file's mtime: two changes within one clock tick (coarse on most file
systems) would leave the mtime as it was, and a stale policy or key would go unnoticed.
Reading 64 bytes is a few microseconds: cheap enough to do before every use.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from shared.files import PRIVATE, replace_file

__all__ = ["ChangeSignal"]


class ChangeSignal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen = self.token()

    def token(self) -> str:
        """The current token ("" before the first bump). Secret where the caller derives a
        key from it (the file is 0600)."""
        # os.read, not Path.read_text: a third of the cost, and this runs before every use.
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return ""
        try:
            return os.read(fd, 256).decode().strip()
        finally:
            os.close(fd)

    def changed(self) -> bool:
        """Whether a bump happened since this object last looked (or was made)."""
        now = self.token()
        if now == self._seen:
            return False
        self._seen = now
        return True

    def bump(self) -> None:
        """Tell every process (this one too, on its next ``changed``) that the state changed.
        Call it after the change is durable: a process that looks then reloads the new state.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        replace_file(self.path, secrets.token_hex(32), mode=PRIVATE)
