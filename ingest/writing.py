"""The write side of an import: classify a validated batch against what the graph holds, hand
what changed to a writer task through a bounded queue, checkpoint each batch once it is in, and
turn a graph failure into ImportInterrupted with what was committed.

Why a writer task: the graph server and the import process each spend about as much CPU per row
(the server on the lookup and the ``UNWIND ... MERGE``, the import on reading, validating,
sealing and encoding). With the write awaited in line, the server sat idle while the import
prepared the next batch and the import sat idle while the server wrote. Now the import looks up
and classifies batches n+1 and n+2 while the writer's batch n is on the server, so the server
always has the next request queued and the import runs for as long as the server writes.

The checkpoint stays exact: the writer takes batches in order, one at a time, and records a
batch's end only after its write returned (FalkorDB has then appended it to its fsynced log).
After the first failed write the writer writes nothing more (later batches are dropped, never
written out of order), and the import stops with the checkpoint at the last written batch; a
re-run resumes there, and MERGE on the natural keys makes a batch written twice harmless.

Rows the lookup found absent go to the kind's ``insert`` when it has one (transactions: a
guarded CREATE, much cheaper on the server than MERGE and as idempotent); the others to its
``upsert``. Unchanged rows are not written at all."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graph.errors import GraphError
from graph.repositories.customers import case_twins
from graph.store import GraphStore, Row
from ingest.checkpoint import Checkpoint
from ingest.currencies import parent_currencies, priced
from ingest.deadletter import DeadLetters
from ingest.kinds import Advice, ImportKind, import_case_conflict
from ingest.readers import RawRecord
from ingest.summary import ImportInterrupted, ImportSummary, graph_cause
from ingest.validation import Batch, keep_on_move, missing_reasons, outcome
from shared.echo import echo
from shared.validators import NO_CASE_TWIN, id_key, id_reason

# Batches waiting for the writer besides the one it writes: two keep the server busy while the
# import looks up the next; more only hold memory (a batch of 5 000 rows is a few MB).
QUEUE_DEPTH = 2
_HOME_MASK = (1 << 48) - 1  # the bits of a home's hash kept (ImportKind.one_home)


@dataclass
class Writes:
    """A classified batch: ``new`` rows the lookup found absent (for the kind's ``insert``),
    ``changed`` rows to upsert (inserted ones too when the kind has no ``insert``)."""

    new: list[Row] = field(default_factory=list)
    changed: list[Row] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.new) + len(self.changed)


# (what to write, the end of the records it covers); None: no more batches.
_Item = tuple[Writes, int, int] | None


@dataclass
class BatchWriter:
    """One import's write state while it runs. ``checkpoint`` None: nothing is checkpointed
    (a dry run, or a caller that does not resume); ``dry_run``: nothing is written.

    ``start()`` before the first ``write``; ``settle()`` after the last (it raises
    ImportInterrupted if a write failed); ``abandon()`` when the import stops for another
    reason."""

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
    depth: int = QUEUE_DEPTH
    # When the input was exported (``--as-of``, UTC ISO): the evidence time of rows that give
    # none of their own (ImportKind.stale). None: unknown.
    as_of: str | None = None
    # The options the rows are read and written with (ingest.sources.import_options), kept in
    # the checkpoint: a run with others does not resume from it.
    options: dict[str, object] | None = None
    # The mapping's [defaults] fields a record does not give (ColumnMapping.defaulted): left
    # out of rows whose record the graph holds. None: the mapping has no defaults.
    defaulted: Callable[[dict[str, Any]], list[str]] | None = None
    # Input lines of valid rows :meth:`classify` dead-lettered (a missing parent, a conflict
    # with the stored record): not imported, so no case-twin warning names them.
    refused: set[int] = field(default_factory=set)
    # The kind's ``exclusive`` values the import's rows took so far -> (their link, line).
    _claims: dict[tuple[object, ...], tuple[object, int]] = field(
        default_factory=dict, init=False, repr=False
    )
    # For a kind whose ids are one whatever their case (ImportKind.one_case): the case-folded
    # id -> (id, line) of each new record this import brings in whose key the first pass
    # found spelled otherwise too (only those: a few, not every row).
    spelled: dict[str, tuple[str, int]] = field(default_factory=dict)
    _advice: Advice | None = field(default=None, init=False, repr=False)
    # The lines of the batch being classified that are the last row of a repeated key.
    _repeated: set[int] = field(default_factory=set, init=False, repr=False)
    # ImportKind.one_home: hash(id) -> the hash of its first row's home << 32 | its line.
    _homes: dict[int, int] = field(default_factory=dict, init=False, repr=False)
    # The customer ids --create-missing creates in this import: case-folded -> (id, line).
    _created: dict[str, tuple[str, int]] = field(default_factory=dict, init=False, repr=False)
    _queue: asyncio.Queue[_Item] = field(init=False, repr=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False, repr=False)
    _failure: BaseException | None = field(default=None, init=False, repr=False)
    _stopped: bool = field(default=False, init=False, repr=False)

    def skip(self, batch: Batch) -> None:
        """A batch an earlier run committed: only re-validated, for the dead letters. Its
        valid rows count as unchanged (not written again), except those the earlier run
        dead-lettered when it looked them up (a missing parent, a conflict): they are in the
        kept dead letters, so rejected (``rejected_total``), and the figures add up to what
        was read."""
        self._rejected(batch)
        earlier = self.dead.kept_lines
        self.summary.unchanged += sum(1 for record in batch.raws if record.line not in earlier)
        valid = {record.line for record in batch.raws}
        self.summary.duplicates_rejected += len(batch.repeated & valid & earlier)

    def _rejected(self, batch: Batch) -> None:
        self._repeated = batch.repeated
        for record, reasons in batch.dead:
            raw = record.data if record.data is not None else record.raw
            self.dead.add(record.line, raw, reasons)
            self.summary.duplicates_rejected += record.line in batch.repeated
        self.summary.duplicates += batch.duplicates
        self.summary.erased += batch.erased

    async def classify(self, batch: Batch) -> Writes:
        """Count outcomes and dead-letter missing parents and rows that conflict with the
        stored record (ImportKind.conflicts); return the rows to write."""
        self._rejected(batch)
        if self.spec.lookup is None:
            self.summary.upserted += len(batch.rows)
            return Writes(changed=batch.rows)
        found = await self.spec.lookup(self.store, batch.rows)
        writes = Writes()
        # A row with a missing parent that --create-missing lets through is upserted: only
        # the MERGE creates the parent.
        insert = writes.new if self.spec.insert is not None else writes.changed
        create = self.create_missing and self.spec.creates_parents
        # Lines of rows whose key the first pass found in another case too (ingest.validation
        # scan): a new id among them may be the second spelling of one this import writes.
        twinned = {m.line for m in batch.marked.values()} if self.spec.one_case else set()
        if self._advice is None and self.spec.advice is not None:
            self._advice = self.spec.advice()
        advice = self._advice
        twins, currencies, _ = await asyncio.gather(
            self._parent_twins(batch.rows, found),
            parent_currencies(self.store, batch.rows, found, self.spec.money_parent),
            advice.prepare(self.store, batch.rows, found) if advice else asyncio.sleep(0),
        )
        for row, record, state in zip(batch.rows, batch.raws, found, strict=True):
            missing = state.get("missing") or []
            case_twin = any(
                self.spec.parents.get(name) == "customers" and str(row.get(name)) in twins
                for name in missing
            )
            if missing and (not create or case_twin):
                # Never a bare customer beside a stored one differing only by case.
                self.summary.missing_parents += 1
                self._refuse(record, missing_reasons(self.spec, row, missing, twins))
                continue
            if missing and (reasons := self._creation_reasons(row, record.line, missing)):
                self.summary.missing_parents += 1
                self._refuse(record, reasons)
                continue
            # Before the currency: a default currency is no stored record's either.
            row = self._without_defaults(row, record, state)
            if self.spec.money is not None:
                row, reasons = priced(
                    row, state, self.spec.money, currencies, self.spec.money_parent
                )
                if reasons:
                    self._refuse(record, reasons)
                    continue
            if self.spec.one_home and (reason := self._other_home(row, record.line)):
                self._refuse(record, [reason])
                continue
            state = self._claimed(row, state)
            if self.spec.conflicts is not None and (reasons := self.spec.conflicts(row, state)):
                self._refuse(record, reasons)
                continue
            if record.line in twinned and not state.get("exists"):
                # Looked up before the earlier spelling is written (even in the same batch):
                # refused as its twin would be once stored.
                first = self.spelled.setdefault(id_key(str(row["id"])), (row["id"], record.line))
                if first[0] != row["id"]:
                    self._refuse(record, [import_case_conflict(*first)])
                    continue
            if self.spec.stale is not None:
                row, why = self.spec.stale(row, state, self.as_of)
                if why is not None:
                    self.summary.stale_consents += 1
                    self.summary.warn(f"line {record.line}: {why}")
            self._claim(row, record.line)
            for warning in advice.warnings(row, state, record.line) if advice else []:
                self.summary.warn(f"line {record.line}: {warning}")
            result = outcome(self.spec, row, state)
            self.summary.count(result)
            if result == "updated":
                row, lost = keep_on_move(self.spec, row, state)
                if lost:
                    self._lost_on_move(record.line, row, state, lost)
            if result == "inserted" and not missing:
                insert.append(row)
            elif result != "unchanged":
                writes.changed.append(row)
        return writes

    def _other_home(self, row: Row, line: int) -> str | None:
        """Why a row is refused when an earlier row of this import gave its id another home
        (ImportKind.one_home): core systems that number transactions per account export
        ``1, 2, ...`` on every account, and each row would move the one transaction (QA,
        session 26). Kept as 64-bit hashes and the line: a million ids in tens of MB."""
        home = self.spec.home or ""
        key, mark = hash(str(row["id"])), hash(str(row.get(home))) & _HOME_MASK
        first = self._homes.setdefault(key, (mark << 32) | line)
        if first >> 32 == mark:
            return None
        return (
            f"id: {echo(row['id'])} is also given for another account, on line "
            f"{first & 0xFFFFFFFF} of this import; transaction ids must be unique across "
            "accounts (a transaction is keyed by its id): prefix them with the account id, e.g. "
            "with a mapping's [sql] or --sql \"SELECT * REPLACE (concat(accountId, '-', id) AS "
            "id) FROM read_csv('FILE')\""
        )

    def _creation_reasons(self, row: Row, line: int, missing: list[str]) -> list[str]:
        """Why the bare parents a row would create under --create-missing cannot be: an id
        the key rule refuses (invisible or full-width characters: what upsertCustomer and a
        customers row refuse), or a customer id another row of this import creates in another
        case (NEWCUST1 / newcust1: QA, session 26). Each customer id it creates is noted."""
        reasons = [r for name in missing if (r := id_reason(name, str(row.get(name))))]
        created: list[tuple[str, str]] = []
        for name in missing:
            value = str(row.get(name))
            if reasons or self.spec.parents.get(name) != "customers":
                continue
            first = self._created.get(id_key(value))
            if first is not None and first[0] != value:
                reasons.append(
                    f"{name}: differs only by case from the customer {echo(first[0])} that "
                    f"line {first[1]} of this import creates; {NO_CASE_TWIN}: write one spelling"
                )
            created.append((id_key(value), value))
        if not reasons:
            for key, value in created:
                self._created.setdefault(key, (value, line))
        return reasons

    def _without_defaults(self, row: Row, record: RawRecord, state: Row) -> Row:
        """``row`` without the fields only the mapping's [defaults] gave it, when the graph
        holds its record: a default fills a new record, never a stored value (the link too,
        an advisor or an owner, except a member's role: it comes with its customer)."""
        if self.defaulted is None or not state.get("exists") or record.data is None:
            return row
        names = set(self.defaulted(record.data))
        props = row.get("props") or {}
        link = self.spec.link
        drop_link = link in names and link in row and link != "role" and link != self.spec.home
        if not drop_link and not names & props.keys():
            return row
        out = {k: v for k, v in row.items() if not (drop_link and k == link)}
        if "props" in row:
            out["props"] = {k: v for k, v in props.items() if k not in names}
        return out

    async def _parent_twins(self, rows: list[Row], found: list[Row]) -> dict[str, str]:
        """The stored customer ids that the missing customer parents of ``rows`` differ from
        only by case (one read of the indexed ``idKey``, none when no customer is missing)."""
        ids = [
            str(row.get(name))
            for row, state in zip(rows, found, strict=True)
            for name in state.get("missing") or []
            if self.spec.parents.get(name) == "customers"
        ]
        return await case_twins(self.store, ids) if ids else {}

    def _claimed(self, row: Row, state: Row) -> Row:
        """``state`` with the link an earlier row of this import gave the row's ``exclusive``
        values, when it is another (ImportKind.exclusive): batches are looked up before the
        ones ahead of them are written, so the graph does not show it yet."""
        if not self.spec.exclusive:
            return state
        key, link = self._claim_key(row)
        earlier = self._claims.get(key)
        if earlier is None or earlier[0] == link:
            return state
        return {**state, "links": [*(state.get("links") or []), earlier[0]],
                "claimedBy": earlier[1]}  # fmt: skip

    def _claim(self, row: Row, line: int) -> None:
        if self.spec.exclusive:
            key, link = self._claim_key(row)
            self._claims.setdefault(key, (link, line))

    def _claim_key(self, row: Row) -> tuple[tuple[object, ...], object]:
        """The row's ``exclusive`` values and the link it gives them."""
        link = row.get(self.spec.link) if self.spec.link else None
        return tuple(row.get(f) for f in self.spec.exclusive), link

    def _refuse(self, record: RawRecord, reasons: list[str]) -> None:
        """A dead letter for ``record``, which no case-twin warning then names."""
        self.dead.add(record.line, record.data, reasons)
        self.refused.add(record.line)
        self.summary.duplicates_rejected += record.line in self._repeated

    def _lost_on_move(self, line: int, row: Row, state: Row, lost: list[str]) -> None:
        home = self.spec.home or ""
        old = (state.get("props") or {}).get(home)
        self.summary.unreadable_moved += 1
        self.summary.warn(
            f"line {line}: {', '.join(lost)} not moved to {home} {echo(row.get(home))}: it "
            f"cannot be opened under {echo(old)}'s key (that customer was erased, or an older "
            "import moved the record without re-sealing it), so it stays unreadable (null); "
            f"give the {', '.join(lost)} column to store it again"
        )

    def start(self) -> None:
        """Start the writer task (nothing to start for a dry run)."""
        if self.dry_run:
            return
        self._queue = asyncio.Queue(maxsize=self.depth)
        self._task = asyncio.create_task(self._drain(), name=f"import writer {self.name}")

    async def write(self, writes: Writes, end: int, line: int = 0) -> None:
        """Queue ``writes`` (the records up to ``end``, whose last input line is ``line``) for
        the writer; waits while the queue is full. Raises ImportInterrupted as soon as an
        earlier batch failed to write."""
        if self.dry_run:
            return
        self._raise_failure()
        await self._put((writes, end, line))

    async def settle(self) -> None:
        """Wait until every queued batch is written; raise ImportInterrupted if one failed."""
        if self._task is None:
            return
        await self._put(None)
        task, self._task = self._task, None
        await task
        self._raise_failure()

    async def _put(self, item: _Item) -> None:
        # Never wait on a queue nobody drains: should the writer task end early (cancelled),
        # say so instead of hanging.
        assert self._task is not None
        put = asyncio.ensure_future(self._queue.put(item))
        await asyncio.wait({put, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if not put.done():
            put.cancel()
            self._raise_failure()
            raise ImportInterrupted(
                f"the import's writer stopped after {self.committed} records were committed",
                committed=self.committed,
            )

    async def abandon(self) -> None:
        """Stop the writer: the batch being written finishes (and is committed if it landed),
        the queued ones are dropped, uncommitted. Not cancelled mid-write, so the checkpoint
        stays exact (and a graph driver that swallows a cancellation cannot leave the writer
        waiting for a next batch forever)."""
        if self._task is None:
            return
        task, self._task = self._task, None
        self._stopped = True
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)
        await asyncio.gather(task, return_exceptions=True)

    async def _drain(self) -> None:
        # The writer never raises: it keeps taking batches (so a full queue never blocks the
        # import) but writes none after a failure; write() and settle() report it.
        while (item := await self._queue.get()) is not None:
            if self._failure is not None or self._stopped:
                continue
            writes, end, line = item
            try:
                if writes.new:
                    assert self.spec.insert is not None
                    await self.spec.insert(self.store, writes.new)
                if writes.changed:
                    await self.spec.upsert(self.store, writes.changed)
            except Exception as exc:
                self._failure = exc
                continue
            self._commit(end, line)

    def _raise_failure(self) -> None:
        exc = self._failure
        if exc is None:
            return
        if isinstance(exc, GraphError):
            raise self.interrupted(exc) from exc
        raise exc

    def interrupted(self, exc: GraphError) -> ImportInterrupted:
        """The import stopped by ``exc`` (a failed write, or a lookup the graph did not
        answer: its server was killed, restarted or still loading), with what was committed
        and how to resume."""
        return ImportInterrupted(
            f"importing {self.name} was interrupted after {self.committed} records were "
            f"committed ({graph_cause(exc)}); fix the cause and run the same command again "
            "to resume from there",
            committed=self.committed,
        )

    def _commit(self, end: int, line: int) -> None:
        self.committed = end
        if self.checkpoint is not None:
            # The line: a resumed run keeps the dead letters up to it (ingest.deadletter),
            # so they are on disk before the checkpoint passes them.
            self.dead.sync()
            state: dict[str, object] = {"committed": end, "line": line}
            state["dead"] = self.dead.state(line)  # a resumed run checks they are still there
            if self.options is not None:
                state["options"] = self.options
            self.checkpoint.set(self.key, state)


__all__ = ["QUEUE_DEPTH", "BatchWriter", "Writes"]
