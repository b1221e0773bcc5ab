"""The hub's identity: a random id in ``$C360_DATA_DIR/hub-id``, made once and never changed.

Customer ids are the banks' own (``C000005`` in one hub is another person in the next), so
what one hub records about a customer id (its erasure ledger) must not be applied to another
hub's data. The file travels with the data dir and its backups; a copy of the data dir is the
same hub.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

from shared.files import sync_dir

__all__ = ["HUB_ID_FILE", "hub_id", "read_hub_id"]

HUB_ID_FILE = "hub-id"


def read_hub_id(data_dir: Path) -> str | None:
    """The data dir's hub id; None when it has none yet (made before hub ids, or new).
    Raises OSError when the file is there but unreadable (the caller says what to do)."""
    try:
        text = (data_dir / HUB_ID_FILE).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    if not text:
        raise OSError(f"{data_dir / HUB_ID_FILE} is empty: restore it from a backup")
    return text


def hub_id(data_dir: Path) -> str:
    """The data dir's hub id, made now when it has none. Written to a temp file, fsynced and
    linked into place (link fails if it exists): of two processes making it at once, one id
    wins and both return it; a crash leaves no half-written file. Raises OSError."""
    found = read_hub_id(data_dir)
    if found is not None:
        return found
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    made = f"hub-{uuid.uuid4().hex}"
    tmp = data_dir / f".{HUB_ID_FILE}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, f"{made}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        # Another process made it first (FileExistsError): theirs is the id.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, data_dir / HUB_ID_FILE)
    finally:
        tmp.unlink(missing_ok=True)
    sync_dir(data_dir)  # the new name survives a crash
    found = read_hub_id(data_dir)
    if found is None:
        raise OSError(f"{data_dir / HUB_ID_FILE} vanished right after it was written")
    return found
