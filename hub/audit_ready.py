"""Can the audit log be written? /readyz asks: every request touching personal data appends to
it first and answers AUDIT_UNAVAILABLE when it cannot (privacy fails closed), so a hub whose
audit log is unusable is not ready, as one whose policies cannot be evaluated is not.

The probe opens the log for appending (writes nothing) and looks at the free space under it:
a read-only mount, a directory or file the hub may not write and a full disk are named by the
operating system's reason. Paths go to the hub log only; /readyz answers anyone. A log cut or
rewritten behind the records this hub wrote (privacy.audit.AuditLog.own_records_gone) is not
ready either: appends are refused until it is restored.
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

# A request appends two records (the write-ahead intent and the closing one), most under
# 2 KB each, into the log (free space plus what is left of its last block, which an append
# fills before it needs a new one), and the audit index's write-ahead file beside it grows by
# ~33 KB a request while it is young (SQLite WAL, up to its 1000-page checkpoint) out of the
# same free space. With less room than both the next request's records may not fit: not
# ready.
RECORDS_ROOM_BYTES = 4 << 10
INDEX_WAL_ROOM_BYTES = 36 << 10
MIN_ROOM_BYTES = RECORDS_ROOM_BYTES + INDEX_WAL_ROOM_BYTES
# Below this much free space the log still takes appends, but not for long: ready, with a
# warning. A few requests' worth above the failure threshold (a record naming a campaign's
# audience may be larger than the rest and fail alone; tests/faults/test_audit_disk.py).
# Before session 22 64 KiB was the failure threshold: /readyz answered 503 "no space left on
# device" while writes were still served; until session 22's review the failure threshold
# left out the index's WAL, so /readyz could say ready when the next request would not fit.
LOW_FREE_BYTES = 128 << 10

NOT_OPENED = "unavailable: the audit log could not be opened (the hub log says why)"
RECORDS_GONE = (
    "unavailable: records this hub wrote are gone from the audit log (tampering; the hub log "
    "names them)"
)


def _tail_room(path: Path) -> int:
    """Bytes an append to ``path`` can still write into its last allocated block."""
    try:
        st = path.stat()
    except OSError:
        return 0
    block = st.st_blksize or 4096
    return (-st.st_size) % block if st.st_size else 0


def _problem(path: Path) -> tuple[str, str, bool] | None:
    """(reason for anyone, detail with the path, fatal) when ``path``'s log cannot take an
    append (fatal) or is low on space (not fatal: appends still succeed)."""
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
        return reason, f"{target}: {reason}", True
    room = available + (_tail_room(target) if target.is_file() else 0)
    if room < MIN_ROOM_BYTES:
        reason = os.strerror(errno.ENOSPC).lower()
        detail = f"{room} bytes of room; a request's records and index need up to {MIN_ROOM_BYTES}"
        return reason, f"{target}: {reason} ({detail})", True
    if available < LOW_FREE_BYTES:
        reason = f"low free space: {available} bytes left"
        return reason, f"{target}: {reason} (appends still fit; free some space)", False
    return None


class AuditReadiness:
    """The audit log's state for /readyz; logs the detail when the state changes (a probe
    asks every few seconds: one line per change, not per probe)."""

    def __init__(self) -> None:
        self._last: str | None = None
        # The last probe's warning for /readyz (low free space, appends still fit), or None.
        self.warning: str | None = None

    def problem(self, audit: AuditLog | None) -> str | None:
        """None when the log can be written (see :attr:`warning`), else the public reason."""
        self.warning = None
        if audit is None:
            found: tuple[str, str, bool] | None = (
                NOT_OPENED,
                "the audit log could not be opened",
                True,
            )
        elif gone := audit.own_records_gone():
            found = (RECORDS_GONE, gone, True)
        else:
            probed = _problem(audit.path)
            found = (
                probed
                if probed is None or not probed[2]
                else (
                    f"cannot be written: {probed[0]}",
                    probed[1],
                    True,
                )
            )
        detail = None if found is None else found[1]
        if detail != self._last:
            if found is None:
                log.info("audit log: writable again")
            elif found[2]:
                log.error("audit log: not ready: %s (every personal-data request fails)", detail)
            else:
                log.warning("audit log: %s", detail)
            self._last = detail
        if found is not None and not found[2]:
            self.warning = found[0]
            return None
        return None if found is None else found[0]


__all__ = ["LOW_FREE_BYTES", "MIN_ROOM_BYTES", "RECORDS_GONE", "AuditReadiness"]
