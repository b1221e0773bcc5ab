"""The hub's shutdown writes the audit records still pending before its signer's final
checkpoint, so that checkpoint covers every record the log holds (hub/app.py's lifespan:
the audit log is closed, then the signer cancelled, which signs what is on disk)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from graph.store import GraphStore
from hub.app import create_app
from privacy.audit import AuditLog
from shared.settings import Settings

PENDING = 3000


async def test_the_last_checkpoint_covers_records_written_at_shutdown(
    store: GraphStore, data_dir: Path
) -> None:
    # Signed only at shutdown: no count or interval is reached while the hub runs.
    settings = Settings(
        data_dir=data_dir, audit_checkpoint_every=10**9, audit_checkpoint_interval_s=3600
    )
    app = create_app(settings, store=store)
    async with app.router.lifespan_context(app):
        audit = app.state.privacy.services.audit
        assert isinstance(audit, AuditLog)
        waiting = [
            asyncio.create_task(audit.append({"operation": "late", "i": i})) for i in range(PENDING)
        ]
        await asyncio.sleep(0)  # handed to the writer
        for task in waiting:  # their requests are gone, as a shutdown cancels them
            task.cancel()
    records = (data_dir / "audit" / "audit.log").read_bytes().splitlines()
    assert len(records) >= PENDING
    checkpoints = (data_dir / "audit" / "checkpoints.jsonl").read_text().splitlines()
    assert json.loads(checkpoints[-1])["size"] == len(records)
