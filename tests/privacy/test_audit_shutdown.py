"""The hub's shutdown writes the audit records still pending and ends the writer thread before
the process exits: the writer is a daemon thread, and a process that exits while it writes
could leave a batch in the log but not in its index (or half written). In a child process
that really exits: the hub's own open and close of the privacy services (hub/services.py),
appends whose callers are gone (cancelled, as a shutdown cancels requests), then exit."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from privacy.audit import AuditLog
from privacy.audit_index import INDEX_NAME
from privacy.keyring import KeyRing

ROOT = Path(__file__).resolve().parents[2]
WAVES, PER_WAVE = 5, 200


def _child(data_dir: Path) -> str:
    return textwrap.dedent(f"""
        import asyncio, sys, threading
        from pathlib import Path
        sys.path.insert(0, {str(ROOT)!r})
        from hub.services import close_privacy, open_privacy
        from shared.settings import Settings

        async def main():
            services = await open_privacy(Settings(data_dir=Path({str(data_dir)!r})))
            log = services.audit
            first = await log.append({{"operation": "first"}})
            waiting = []
            for wave in range({WAVES}):
                waiting += [
                    asyncio.create_task(log.append({{"operation": "late", "i": i}}))
                    for i in range({PER_WAVE})
                ]
                await asyncio.sleep(0)  # queued: the writer takes them batch by batch
            for task in waiting:  # their requests are gone; the records were handed over
                task.cancel()
            await close_privacy(services)
            alive = [t.name for t in threading.enumerate() if t.name == "c360-audit"]
            print("writers", len(alive), "first", first)

        asyncio.run(main())
    """)


def _index_rows(data_dir: Path) -> list[tuple[int, str]]:
    db = sqlite3.connect(data_dir / "audit" / INDEX_NAME)
    try:
        return [
            (int(s), str(h)) for s, h in db.execute("SELECT seq, hash FROM records ORDER BY seq")
        ]
    finally:
        db.close()


async def test_shutdown_writes_pending_records_and_the_index_agrees(data_dir: Path) -> None:
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", _child(data_dir)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "writers 0 first 1" in done.stdout, done.stdout
    lines = (data_dir / "audit" / "audit.log").read_bytes().split(b"\n")
    assert lines[-1] == b""  # no torn tail
    in_log = [(e["seq"], e["hash"]) for e in map(json.loads, lines[:-1])]
    # Every record handed to the writer is in the log, and the index agrees with the log.
    assert len(in_log) == 1 + WAVES * PER_WAVE
    assert _index_rows(data_dir) == in_log
    # What `c360 audit verify` checks.
    result = AuditLog(data_dir / "audit", KeyRing.load(data_dir)).verify()
    assert (result.ok, result.count, result.repairs) == (True, len(in_log), ())
