"""Secrets generated into the data dir (mode 0600) unless the environment supplies them."""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from privacy.types import PrivacyError
from shared.files import replace_file

SECRETS_DIR = "keys"
# What to do about a damaged key file stored data depend on (blind indexes, name tokens).
KEEP = "restore it from a backup of this data dir (a new key would not match the stored data)"
# What to do about a damaged key file that nothing sealed depends on (the JWT key, the mask
# key, the cursor seal): a new key only invalidates tokens, never stored data.
REGENERATE = "restore it from a backup of this data dir, or delete it to generate a new one"


class KeyFileError(PrivacyError):
    """A key file of the data dir is missing, damaged or would have to be made anew over data
    that depends on the old one. The message names the file and what to do (operators read it:
    the CLI's one sentence, the hub log, /readyz without the path); clients get the code."""

    code = "KEYS_UNAVAILABLE"

    @property
    def public_message(self) -> str:
        # The file's path is the server's business: clients learn only that keys are down.
        return "the hub's encryption keys cannot be used; the server log says why"


# Why a missing key must not be made anew (None: it may), asked only when the file is absent.
InUse = Callable[[], str | None]


def load_or_create_secret(
    data_dir: Path, name: str, nbytes: int = 32, *, in_use: InUse | None = None
) -> bytes:
    """Return the secret ``name`` from ``$C360_DATA_DIR/keys/<name>.key``, creating it once.

    Creation is race-free across processes (O_EXCL): the loser reads the winner's key.
    ``in_use``: for a key stored data depends on (blind indexes, name tokens): a reason it is
    not created (KeyFileError) when the file is missing but data made with it exist, since a
    new key would silently match none of it. Raises KeyFileError for a damaged file.
    """
    directory = data_dir / SECRETS_DIR
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / f"{name}.key"
    if in_use is not None and not path.exists() and (reason := in_use()) is not None:
        raise KeyFileError(
            f"the key file {path} is missing, but {reason}: a new key would match none of "
            f"them; restore {directory} from a backup of this data dir"
        )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_secret(path, nbytes, advice=_advice(in_use))
    with os.fdopen(fd, "w") as fh:
        fh.write(base64.b64encode(secrets.token_bytes(nbytes)).decode() + "\n")
    return read_secret(path, nbytes)


def _advice(in_use: InUse | None) -> str:
    # Stored data were indexed with such a key: a new one finds none of them, only a restore.
    return REGENERATE if in_use is None else KEEP


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically (a temp file beside it, fsynced,
    renamed), mode 0600: a reader sees the old content or the new, never half of either.
    The one way the data dir's private files are written: keys, alert secrets, policy
    overrides and proposals (they name officers and hold policy sources)."""
    replace_file(path, text, mode=0o600)


def read_secret(path: Path, nbytes: int = 32, *, advice: str = REGENERATE) -> bytes:
    """The key in ``path`` (base64 of ``nbytes`` bytes); KeyFileError naming the file and
    ``advice`` when it is empty, not base64 or not that long, or cannot be read."""
    for _ in range(50):
        try:
            text = path.read_text().strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyFileError(f"the key file {path} cannot be read ({exc}): {advice}") from None
        if text:
            return _decoded(path, text, nbytes, advice)
        # Another process created the file and is about to write it.
        time.sleep(0.01)
    raise KeyFileError(f"the key file {path} is empty: {advice}")


def _decoded(path: Path, text: str, nbytes: int, advice: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"the key file {path} is damaged (not base64): {advice}") from None
    if len(key) != nbytes:
        raise KeyFileError(
            f"the key file {path} is damaged ({len(key)} bytes, not {nbytes}): {advice}"
        )
    return key
