"""Secrets generated into the data dir (mode 0600) unless the environment supplies them."""

from __future__ import annotations

import base64
import os
import secrets
import time
from pathlib import Path

from shared.files import replace_file

SECRETS_DIR = "keys"


def load_or_create_secret(data_dir: Path, name: str, nbytes: int = 32) -> bytes:
    """Return the secret ``name`` from ``$C360_DATA_DIR/keys/<name>.key``, creating it once.

    Creation is race-free across processes (O_EXCL): the loser reads the winner's key.
    """
    directory = data_dir / SECRETS_DIR
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / f"{name}.key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    with os.fdopen(fd, "w") as fh:
        fh.write(base64.b64encode(secrets.token_bytes(nbytes)).decode() + "\n")
    return _read(path)


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically (a temp file beside it, fsynced,
    renamed), mode 0600: a reader sees the old content or the new, never half of either.
    The one way the data dir's private files are written: keys, alert secrets, policy
    overrides and proposals (they name officers and hold policy sources)."""
    replace_file(path, text, mode=0o600)


def _read(path: Path) -> bytes:
    for _ in range(50):
        text = path.read_text().strip()
        if text:
            return base64.b64decode(text)
        # Another process created the file and is about to write it.
        time.sleep(0.01)
    raise RuntimeError(f"secret file {path} is empty; delete it to generate a new one")
