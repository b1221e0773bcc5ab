"""Can the audit log be written? /readyz asks: every request touching personal data appends to
it first and answers AUDIT_UNAVAILABLE when it cannot (privacy fails closed), so a hub whose
audit log is unusable is not ready, as one whose policies cannot be evaluated is not.

The probe opens the log for appending (writes nothing) and looks at the free space under it:
a read-only mount, a directory or file the hub may not write and a full disk are named by the
operating system's reason. Paths go to the hub log only; /readyz answers anyone.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
from pathlib import Path

from privacy.audit import AuditLog
from shared.files import unwritable

log = logging.getLogger("c360.hub")

# Below this much free space the next records may not fit (most are under 2 KB; one naming
# a campaign's audience may be larger and fail alone): not ready before writes fail.
MIN_FREE_BYTES = 64 << 10

NOT_OPENED = "unavailable: the audit log could not be opened (the hub log says why)"


def _problem(path: Path) -> tuple[str, str] | None:
    """(reason for anyone, detail with the path) when ``path``'s log cannot take an append."""
    target = path if path.exists() else path.parent
    while not target.exists():  # no log yet: the nearest directory it would be created in
        target = target.parent
    try:
        if target.is_dir():
            code = unwritable(target)
        else:
            code = None
            os.close(os.open(target, os.O_WRONLY | os.O_APPEND))
        available = shutil.disk_usage(target).free
    except OSError as exc:
        code = exc.errno or errno.EIO
    if code is not None:
        reason = os.strerror(code).lower()
        return reason, f"{target}: {reason}"
    if available < MIN_FREE_BYTES:
        reason = os.strerror(errno.ENOSPC).lower()
        return reason, f"{target}: {reason} ({available} bytes free; it needs {MIN_FREE_BYTES})"
    return None


class AuditReadiness:
    """The audit log's state for /readyz; logs the detail when the state changes (a probe
    asks every few seconds: one line per change, not per probe)."""

    def __init__(self) -> None:
        self._last: str | None = None

    def problem(self, audit: AuditLog | None) -> str | None:
        """None when the log can be written, else the public reason."""
        if audit is None:
            found: tuple[str, str] | None = (NOT_OPENED, "the audit log could not be opened")
        else:
            probed = _problem(audit.path)
            found = None if probed is None else (f"cannot be written: {probed[0]}", probed[1])
        detail = None if found is None else found[1]
        if detail != self._last:
            if detail is None:
                log.info("audit log: writable again")
            else:
                log.error("audit log: not ready: %s (every personal-data request fails)", detail)
            self._last = detail
        return None if found is None else found[0]


__all__ = ["MIN_FREE_BYTES", "AuditReadiness"]
