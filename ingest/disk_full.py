"""A disk that fills up part way through an import, said as what to do: which disk, that the
same command resumes, and what is committed (QA, session 26: a full dead-letter folder was a
bare ``OSError: [Errno 28]``, exit 1; a full graph disk a "Broken pipe", its cause only in
the graph server's log)."""

from __future__ import annotations

import errno
import re
from datetime import datetime
from pathlib import Path

from graph.falkordb import log_tail
from ingest.summary import ImportInterrupted

_NO_SPACE = "No space left on device"
# A Redis/FalkorDB log line's time: "28702:M 02 Dec 2026 15:37:52.674 # ..." (server local time).
_LOG_TIME = re.compile(r"^\d+:\w (\d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2})")


class DiskFull(ImportInterrupted):
    """An import stopped by a full disk; ``committed`` records are in, a re-run resumes."""


def disk_full(where: Path, committed: int) -> DiskFull:
    return DiskFull(
        f"the disk under {where} is full; free space and run the same command again to resume "
        f"({committed} records committed)",
        committed,
    )


def no_space_folder(exc: BaseException) -> Path | None:
    """The folder of the file a write found no space for (ENOSPC), or None for another error."""
    if not isinstance(exc, OSError) or exc.errno != errno.ENOSPC:
        return None
    name = exc.filename if isinstance(exc.filename, str | Path) else None
    return Path(name).resolve().parent if name else Path.cwd()


def graph_log_says_full(log_path: Path, since: datetime) -> bool:
    """Whether the graph server's log tail holds a "No space left on device" line written at
    or after ``since`` (naive local time, as the server writes it): an older line is an
    earlier incident, not this import's."""
    tail = log_tail(log_path)
    if tail is None:
        return False
    start = since.replace(microsecond=0)
    for line in reversed(tail.splitlines()):
        if _NO_SPACE not in line or (found := _LOG_TIME.match(line)) is None:
            continue
        try:
            written = datetime.strptime(found[1], "%d %b %Y %H:%M:%S")
        except ValueError:
            continue
        if written >= start:
            return True
    return False


__all__ = ["DiskFull", "disk_full", "graph_log_says_full", "no_space_folder"]
