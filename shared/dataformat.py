"""The data dir's format marker, ``<data dir>/format.json``: ``{"format": N, "written_by": V}``.

Written whenever a process opens the data dir for writing (``Settings.resolved_data_dir``),
after the one-time upgrades of older dirs ran. A c360 that finds a format newer than
:data:`FORMAT` refuses the dir with one sentence (exit 2, /readyz not ready): an older
version does not know what a newer one changed (ledger lines it would misread, values it
would not open), and running it on such a dir is how erased customers came back. Versions
before the marker cannot be stopped this way; from this one on, the next downgrade is.

Formats: 1 = no marker (every version before it); 2 = erasure ledger complete (done requests
of pre-ledger versions migrated), cancellation lines without a top-level ``customer_id``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from shared.files import replace_file

__all__ = [
    "FORMAT",
    "FORMAT_FILE",
    "UPGRADES",
    "FormatError",
    "UpgradeFailed",
    "check_format",
    "read_format",
    "register_upgrade",
    "write_format",
]

FORMAT = 2
FORMAT_FILE = "format.json"


class FormatError(ValueError):
    """The data dir's format marker is newer than this c360, or unreadable."""


class UpgradeFailed(ValueError):
    """A one-time upgrade of an older data dir could not be done: nothing may use the dir."""


# The one-time upgrades of a data dir an older version wrote, run by every open for writing
# before the marker is written: ``upgrade(data_dir, settings)``, raising UpgradeFailed. Kept
# here because this layer imports nothing of ours: the packages that own an upgrade register
# it (privacy/erasure_upgrade.py, registered by hub/settings, which every command and the hub
# import before they open a data dir).
UPGRADES: list[Callable[[Path, Any], None]] = []


def register_upgrade(upgrade: Callable[[Path, Any], None]) -> None:
    if upgrade not in UPGRADES:
        UPGRADES.append(upgrade)


def _version() -> str:
    try:
        return version("c360")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def read_format(root: Path) -> int:
    """The dir's format (1: no marker). Raises FormatError when the marker is not one."""
    path = root / FORMAT_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return 1
    except (OSError, ValueError) as exc:
        raise FormatError(
            f"the data dir's format marker {path} cannot be read ({exc}): restore it from a "
            "backup of this data dir, or remove it if this c360 wrote the dir"
        ) from None
    found = raw.get("format") if isinstance(raw, dict) else None
    if not isinstance(found, int) or isinstance(found, bool) or found < 1:
        raise FormatError(
            f"the data dir's format marker {path} holds no format number: restore it from a "
            "backup of this data dir, or remove it if this c360 wrote the dir"
        )
    return found


def check_format(root: Path) -> int:
    """The dir's format; FormatError when a newer c360 wrote it."""
    found = read_format(root)
    if found > FORMAT:
        try:
            by = json.loads((root / FORMAT_FILE).read_text(encoding="utf-8")).get("written_by")
        except (OSError, ValueError, AttributeError):
            by = None  # the sentence names the format either way
        raise FormatError(
            f"the data dir {root} has format {found}, written by c360 {by or '(unknown)'}, and "
            f"this c360 ({_version()}) knows formats up to {FORMAT}: run that version or a "
            "newer one on it, or restore a backup this version made into an empty dir"
        )
    return found


def write_format(root: Path) -> None:
    """Mark the dir as this version's format (nothing written when it says so already)."""
    body = json.dumps({"format": FORMAT, "written_by": _version()}) + "\n"
    path = root / FORMAT_FILE
    try:
        if path.read_text(encoding="utf-8") == body:
            return
    except FileNotFoundError:
        pass  # a new dir, or one from before the marker: written below
    replace_file(path, body, mode=0o600)
