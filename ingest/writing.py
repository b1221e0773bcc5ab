"""The write side of an import: classify a validated batch against what the graph holds, write
what changed (one batch in flight while the next is looked up), checkpoint each committed
batch, and turn a graph failure into ImportInterrupted with what was committed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from graph.errors import GraphError
from graph.store import GraphStore, Row
from ingest.checkpoint import Checkpoint
from ingest.deadletter import DeadLetters
from ingest.kinds import ImportKind
from ingest.summary import ImportInterrupted, ImportSummary
from ingest.validation import Batch, missing_reasons, outcome


@dataclass
class BatchWriter:
    """One import's write state while it runs. ``checkpoint`` None: nothing is checkpointed
    (a dry run, or a caller that does not resume); ``dry_run``: nothing is written."""

    store: GraphStore
    spec: ImportKind
    summary: ImportSummary
    dead: DeadLetters
    create_missing: bool
    dry_run: bool
    checkpoint: Checkpoint | None
    key: str
    name: str
    committed: int = 0
    _pending: asyncio.Future[int] | None = None
    _pending_end: int = 0

    def skip(self, batch: Batch) -> None:
        """A batch an earlier run committed: only re-validated, for the dead letters."""
        for record, reasons in batch.dead:
            self.dead.add(record.line, record.data, reasons)
        self.summary.duplicates += batch.duplicates
        self.summary.unchanged += len(batch.rows)

    async def classify(self, batch: Batch) -> list[Row]:
        """Count outcomes and dead-letter missing parents; return the rows to write."""
        for record, reasons in batch.dead:
            self.dead.add(record.line, record.data, reasons)
        self.summary.duplicates += batch.duplicates
        if self.spec.lookup is None:
            self.summary.upserted += len(batch.rows)
            return batch.rows
        found = await self.spec.lookup(self.store, batch.rows)
        write: list[Row] = []
        for row, record, state in zip(batch.rows, batch.raws, found, strict=True):
            missing = state.get("missing") or []
            if missing and not self.create_missing:
                self.summary.missing_parents += 1
                self.dead.add(record.line, record.data, missing_reasons(self.spec, row, missing))
                continue
            result = outcome(self.spec, row, state)
            self.summary.count(result)
            if result != "unchanged":
                write.append(row)
        return write

    async def settle(self) -> None:
        """Wait for the batch in flight; checkpoint it, or raise ImportInterrupted."""
        if self._pending is None:
            return
        task, self._pending = self._pending, None
        try:
            await task
        except GraphError as exc:
            raise ImportInterrupted(
                f"the graph failed while importing {self.name} after {self.committed} records "
                f"were committed ({exc}); fix the cause and run the same command again "
                "to resume from there",
                committed=self.committed,
            ) from exc
        self._commit(self._pending_end)

    async def write(self, rows: list[Row], end: int) -> None:
        """Start writing ``rows`` (records up to ``end``) once the batch before is in."""
        await self.settle()
        if self.dry_run:
            return
        if rows:
            self._pending = asyncio.ensure_future(self.spec.upsert(self.store, rows))
            self._pending_end = end
        else:
            self._commit(end)

    def _commit(self, end: int) -> None:
        self.committed = end
        if self.checkpoint is not None:
            self.checkpoint.set(self.key, {"committed": end})

    async def abandon(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            await asyncio.gather(self._pending, return_exceptions=True)
            self._pending = None


__all__ = ["BatchWriter"]
