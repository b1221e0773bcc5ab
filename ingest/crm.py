"""CRM file import: read, map, validate, look up, batched upsert, checkpoint; nothing silent.

Two passes over the input. The first counts records and finds duplicate keys (the last row of a
key wins, whatever the batch size; the earlier ones are counted as duplicates, never written).
The second validates batch n+1 in a worker thread while batch n is being written, looks each
batch up in the graph (inserted / updated / unchanged, missing parents), and writes what
changed. Bad records go to ``<stem>.dead.jsonl`` with their line and reasons.

Re-running a file is safe (every upsert MERGEs on natural keys, unchanged rows are not written
at all); a run that stopped half way resumes after the last committed batch, because the
checkpoint is keyed by the file's path, size and mtime and cleared only when the whole file
went in.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from graph.errors import GraphError
from graph.repositories.accounts import upsert_accounts, upsert_holdings, upsert_transactions
from graph.repositories.advisors import upsert_advisors
from graph.repositories.customers import upsert_customers
from graph.repositories.households import upsert_households
from graph.repositories.imports import (
    Found,
    Lookup,
    lookup_accounts,
    lookup_advisors,
    lookup_customers,
    lookup_holdings,
    lookup_households,
    lookup_interactions,
    lookup_transactions,
)
from graph.repositories.interactions import upsert_interactions
from graph.store import GraphStore, Row
from ingest.checkpoint import Checkpoint
from ingest.deadletter import DeadLetters
from ingest.mapping import ColumnMapping
from ingest.readers import RawRecord, ReadOptions, UnsupportedFile, open_source
from ingest.records import (
    AccountRecord,
    AdvisorRecord,
    CustomerRecord,
    HoldingRecord,
    HouseholdRecord,
    InteractionRecord,
    TransactionRecord,
    validation_reasons,
)
from ingest.social.accounts import SocialAccountLink, link_accounts
from ingest.transform import run_query

# How many JSONL records to look at for the key columns before refusing a file.
_KEY_SCAN = 100


Upsert = Callable[[GraphStore, list[Row]], Awaitable[int]]


@dataclass(frozen=True)
class ImportKind:
    """What one ``c360 import <kind>`` validates with, writes with, and requires.

    ``model``: a pydantic model class whose instances have ``to_graph_row()``; ``keys``: the
    columns every file must have (after mapping), default ``model.KEY_FIELDS`` or ``("id",)``;
    ``unique``: what makes two rows of one file the same record (default ``keys``);
    ``lookup``: reads the stored state of a batch (None: every row counts as "upserted");
    ``link``: the row field compared with the lookup's ``links``; ``parents``: parent key
    field -> the kind that imports it (a row whose parent is missing is a dead letter)."""

    model: Any
    upsert: Upsert
    keys: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()
    lookup: Lookup | None = None
    link: str | None = None
    parents: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.keys:
            object.__setattr__(self, "keys", tuple(getattr(self.model, "KEY_FIELDS", ("id",))))
        if not self.unique:
            object.__setattr__(self, "unique", self.keys)

    @property
    def fields(self) -> list[str]:
        return list(self.model.model_fields)


# The registry: add a kind with one entry; key columns default to the model's KEY_FIELDS.
KINDS: dict[str, ImportKind] = {
    "customers": ImportKind(CustomerRecord, upsert_customers, lookup=lookup_customers,
                            link="advisorId"),
    "accounts": ImportKind(AccountRecord, upsert_accounts, lookup=lookup_accounts,
                           link="customerId"),
    "holdings": ImportKind(HoldingRecord, upsert_holdings, lookup=lookup_holdings, link="role",
                           parents={"customerId": "customers", "accountId": "accounts"}),
    "households": ImportKind(HouseholdRecord, upsert_households, unique=("id", "customerId"),
                             lookup=lookup_households, link="role",
                             parents={"customerId": "customers"}),
    "transactions": ImportKind(TransactionRecord, upsert_transactions, unique=("id",),
                               lookup=lookup_transactions, link="accountId",
                               parents={"accountId": "accounts"}),
    "interactions": ImportKind(InteractionRecord, upsert_interactions, unique=("id",),
                               lookup=lookup_interactions, link="productCode"),
    "advisors": ImportKind(AdvisorRecord, upsert_advisors, lookup=lookup_advisors,
                           link="branchId"),
    "social-accounts": ImportKind(SocialAccountLink, link_accounts),
}  # fmt: skip


class ImportRefused(ValueError):
    """The input cannot be imported at all; nothing was written. One sentence, what to do next."""


class ImportInterrupted(GraphError):
    """The graph failed part way; ``committed`` records are in and a re-run resumes after them."""

    def __init__(self, message: str, committed: int) -> None:
        super().__init__(message)
        self.committed = committed


@dataclass
class ImportSummary:
    """What one import did. ``imported`` = inserted + updated + unchanged + upserted."""

    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    upserted: int = 0  # kinds without a lookup: written, new or changed unknown
    rejected: int = 0
    duplicates: int = 0
    missing_parents: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    dead_letter_path: Path | None = None
    resumed_after: int = 0  # records skipped because an earlier run had committed them
    dry_run: bool = False
    source: str = ""

    @property
    def imported(self) -> int:
        return self.inserted + self.updated + self.unchanged + self.upserted

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["imported"] = self.imported
        data["dead_letter_path"] = str(self.dead_letter_path) if self.dead_letter_path else None
        return data


class _Source(Protocol):
    path: Path
    header: list[str] | None

    def records(self) -> Iterator[RawRecord]: ...

    def describe(self) -> str: ...


def default_checkpoint_path() -> Path:
    """``$C360_DATA_DIR/checkpoints/imports.json`` (the CLI passes its settings' data dir)."""
    return Path(os.environ.get("C360_DATA_DIR", ".c360")) / "checkpoints" / "imports.json"


def checkpoint_key(kind: str, path: Path) -> str:
    stat = path.stat()
    return f"{kind}:{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def kind_spec(kind: str, kinds: dict[str, ImportKind] | None = None) -> ImportKind:
    kinds = kinds or KINDS
    spec = kinds.get(kind)
    if spec is None:
        raise ImportRefused(f"unknown import kind {kind!r}; use one of {', '.join(kinds)}")
    return spec


def check_mapping(
    kind: str, mapping: ColumnMapping, kinds: dict[str, ImportKind] | None = None
) -> None:
    """Raise MappingError if the mapping names a field ``kind`` does not have."""
    mapping.check(kind_spec(kind, kinds).fields, kind)


def open_input(
    path: Path | None, mapping: ColumnMapping, options: ReadOptions, sql: str | None
) -> _Source:
    """The file (format, encoding and delimiter detected) or the SQL transform's result."""
    query = sql or mapping.sql
    try:
        if query:
            where = mapping.folder if mapping.sql and not sql else None
            # Names the progress bar and the dead letters (<stem>.dead.jsonl beside it).
            label = mapping.name if mapping.sql and not sql else "sql"
            name = path or (mapping.folder or Path.cwd()) / label
            return run_query(query, name, where, path)
        if path is None:
            raise ImportRefused("give a FILE to import, or a query with --sql")
        if not path.is_file():
            raise ImportRefused(f"{path} does not exist or is not a file")
        return open_source(path, options)
    except UnsupportedFile as exc:
        raise ImportRefused(str(exc)) from exc


def _check_keys(kind: str, spec: ImportKind, source: _Source, mapping: ColumnMapping) -> list[str]:
    """Raise ImportRefused unless the source has the kind's key columns; return its columns."""
    header = source.header
    if header is not None:
        columns = header
        present = {mapping.target(c) for c in header} | set(mapping.defaults)
    else:
        sample = [r.data for r in islice(source.records(), _KEY_SCAN) if r.data is not None]
        if not sample:
            return []  # empty or all-broken: every line goes to dead letters, nothing is lost
        columns = list(dict.fromkeys(k for d in sample for k in d))
        best = max(
            (set(map(mapping.target, d)) | set(mapping.defaults) for d in sample),
            key=lambda names: len(set(spec.keys) & names),
        )
        present = best
    missing = [k for k in spec.keys if k not in present]
    if missing:
        seen = ", ".join(columns[:8]) or "none"
        hint = "rename the column or map it with --mapping MAP.toml"
        if header is not None and len(header) == 1 and any(d in header[0] for d in ";\t|,"):
            hint = "the delimiter may be wrong: give --delimiter"
        raise ImportRefused(
            f"{source.path.name} has no {' / '.join(missing)} column for {kind} "
            f"(found: {seen}); {hint}"
        )
    return columns


def _key_sources(spec: ImportKind, mapping: ColumnMapping) -> list[list[str]]:
    """Per unique field, the source columns that land in it."""
    return [[c for c, f in mapping.columns.items() if f == name] + [name] for name in spec.unique]


def _record_key(data: dict[str, Any], sources: list[list[str]]) -> int | None:
    parts = []
    for names in sources:
        value = next((data[n] for n in names if data.get(n) not in (None, "")), None)
        parts.append("" if value is None else str(value).strip())
    if not parts[0]:
        return None  # no key: the record fails validation anyway
    # A 64-bit hash, not the key: a million keys fit in tens of MB.
    return hash("\x1f".join(parts))


def scan(source: _Source, spec: ImportKind, mapping: ColumnMapping) -> tuple[int, set[int]]:
    """First pass: the record count, and the indexes of records a later one supersedes."""
    sources = _key_sources(spec, mapping)
    last: dict[int, int] = {}
    superseded: set[int] = set()
    count = 0
    for index, record in enumerate(source.records()):
        count += 1
        if record.data is None:
            continue
        key = _record_key(record.data, sources)
        if key is None:
            continue
        previous = last.get(key)
        if previous is not None:
            superseded.add(previous)
        last[key] = index
    return count, superseded


def validate(
    spec: ImportKind, mapping: ColumnMapping, record: RawRecord
) -> tuple[Row | None, list[str]]:
    """One record to a graph row, or the reasons it is rejected (never an exception)."""
    if record.error is not None or record.data is None:
        return None, [record.error or "empty record"]
    try:
        model = spec.model.model_validate(mapping.apply(record.data))
    except ValidationError as exc:
        return None, validation_reasons(exc)
    except ValueError as exc:
        return None, [str(exc)]
    except Exception as exc:  # a value of a type no validator expected: a dead letter too
        return None, [f"unreadable value ({type(exc).__name__})"]
    return model.to_graph_row(), []


def outcome(spec: ImportKind, row: Row, found: Found) -> str:
    """inserted / updated / unchanged, from the row and what the lookup found."""
    if not found.get("exists"):
        return "inserted"
    stored = found.get("props") or {}
    given = row.get("props") or {}
    if any(stored.get(k) != v for k, v in given.items()):
        return "updated"
    link = row.get(spec.link) if spec.link else None
    if link is not None and link not in (found.get("links") or []):
        return "updated"
    return "unchanged"


@dataclass
class _Batch:
    first: int  # index of its first record
    end: int  # index after its last record
    rows: list[Row] = field(default_factory=list)
    raws: list[RawRecord] = field(default_factory=list)
    dead: list[tuple[RawRecord, list[str]]] = field(default_factory=list)
    duplicates: int = 0


def _progress(enabled: bool, name: str) -> Progress:
    return Progress(
        TextColumn(f"importing {name}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
    )


class _Chunks:
    """Chunks of ``size`` raw records, cut at ``boundary`` too, so a resumed run with another
    batch size neither re-writes nor skips records around the checkpoint."""

    def __init__(self, records: Iterator[RawRecord], size: int, boundary: int) -> None:
        self._records = records
        self._size = size
        self._boundary = boundary
        self._read = 0

    def next(self) -> tuple[int, list[RawRecord]]:
        read = self._read
        step = min(self._size, self._boundary - read) if read < self._boundary else self._size
        chunk = list(islice(self._records, step))
        self._read += len(chunk)
        return read, chunk


def _prepare(
    chunks: _Chunks, spec: ImportKind, mapping: ColumnMapping, superseded: set[int]
) -> _Batch | None:
    """Read and validate the next chunk (runs in a worker thread, beside the graph write)."""
    first, chunk = chunks.next()
    if not chunk:
        return None
    batch = _Batch(first, first + len(chunk))
    for offset, record in enumerate(chunk):
        if first + offset in superseded:
            batch.duplicates += 1
            continue
        row, reasons = validate(spec, mapping, record)
        if row is None:
            batch.dead.append((record, reasons))
        else:
            batch.rows.append(row)
            batch.raws.append(record)
    return batch


def _missing_reason(spec: ImportKind, row: Row, missing: list[str]) -> list[str]:
    return [
        f"{name} {row.get(name)} not found: import {spec.parents.get(name, 'it')} first "
        "(or pass --create-missing)"
        for name in missing
    ]


@dataclass
class _Run:
    """One import's state while it runs."""

    store: GraphStore
    spec: ImportKind
    summary: ImportSummary
    dead: DeadLetters
    create_missing: bool
    dry_run: bool
    checkpoint: Checkpoint | None
    key: str
    name: str
    pending: asyncio.Task[int] | None = None
    pending_end: int = 0
    committed: int = 0

    async def classify(self, batch: _Batch) -> list[Row]:
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
                self.dead.add(record.line, record.data, _missing_reason(self.spec, row, missing))
                continue
            result = outcome(self.spec, row, state)
            setattr(self.summary, result, getattr(self.summary, result) + 1)
            if result != "unchanged":
                write.append(row)
        return write

    async def settle(self) -> None:
        """Wait for the batch in flight; checkpoint it, or raise ImportInterrupted."""
        if self.pending is None:
            return
        task, self.pending = self.pending, None
        try:
            await task
        except GraphError as exc:
            raise ImportInterrupted(
                f"the graph failed while importing {self.name} after {self.committed} records "
                f"were committed ({exc}); fix the cause and run the same command again "
                "to resume from there",
                committed=self.committed,
            ) from exc
        self.committed = self.pending_end
        if self.checkpoint is not None:
            self.checkpoint.set(self.key, {"committed": self.committed})

    async def write(self, rows: list[Row], end: int) -> None:
        await self.settle()
        if self.dry_run:
            return
        if rows:
            self.pending = asyncio.create_task(self.spec.upsert(self.store, rows))
            self.pending_end = end
        elif self.checkpoint is not None:
            self.committed = end
            self.checkpoint.set(self.key, {"committed": end})

    async def abandon(self) -> None:
        if self.pending is not None:
            self.pending.cancel()
            await asyncio.gather(self.pending, return_exceptions=True)
            self.pending = None


async def import_file(
    store: GraphStore,
    kind: str,
    path: Path | None,
    mapping: ColumnMapping | None = None,
    batch_size: int = 1000,
    progress: bool = True,
    *,
    checkpoint_path: Path | None = None,
    kinds: dict[str, ImportKind] | None = None,
    read_options: ReadOptions | None = None,
    sql: str | None = None,
    dry_run: bool = False,
    create_missing: bool = False,
) -> ImportSummary:
    """Import one CRM export of ``kind`` (a key of KINDS) into the graph.

    ``path`` is the file (any delimited text, JSON Lines, spreadsheet or Parquet); with ``sql``
    (or a mapping with [sql]) the rows come from that DuckDB query instead. Refuses
    (ImportRefused / MappingError, nothing written) input that cannot be read, lacks the
    kind's key columns after mapping, or a mapping naming unknown fields. Invalid records,
    and records whose parent is missing (unless ``create_missing``), go to
    ``<stem>.dead.jsonl`` with their line and reasons. A graph failure raises
    ImportInterrupted; running the same unchanged file again resumes after the last
    committed batch. ``dry_run`` validates and looks up without writing to the graph."""
    if batch_size < 1:
        raise ImportRefused("--batch-size must be at least 1")
    mapping = mapping or ColumnMapping.identity()
    spec = kind_spec(kind, kinds)
    mapping.check(spec.fields, kind)
    source = open_input(path, mapping, read_options or mapping.read_options(), sql)
    try:
        return await _import(store, kind, spec, source, mapping, batch_size, progress,
                             checkpoint_path, dry_run, create_missing, sql)  # fmt: skip
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()


async def _import(
    store: GraphStore,
    kind: str,
    spec: ImportKind,
    source: _Source,
    mapping: ColumnMapping,
    batch_size: int,
    progress: bool,
    checkpoint_path: Path | None,
    dry_run: bool,
    create_missing: bool,
    sql: str | None,
) -> ImportSummary:
    columns = _check_keys(kind, spec, source, mapping)
    total, superseded = await asyncio.to_thread(scan, source, spec, mapping)
    resumable = not (sql or mapping.sql or dry_run)
    checkpoint = Checkpoint(checkpoint_path or default_checkpoint_path()) if resumable else None
    key = checkpoint_key(kind, source.path) if checkpoint is not None else ""
    done = int(checkpoint.get(key, {}).get("committed", 0)) if checkpoint is not None else 0
    summary = ImportSummary(
        ignored_columns=mapping.ignored(columns, spec.fields),
        dry_run=dry_run,
        source=source.describe(),
        resumed_after=0,
    )
    chunks = _Chunks(source.records(), batch_size, done)
    with DeadLetters.beside(source.path) as dead, _progress(progress, source.path.name) as bar:
        task = bar.add_task("import", total=total)
        run = _Run(store, spec, summary, dead, create_missing, dry_run, checkpoint, key,
                   source.path.name, committed=done)  # fmt: skip
        ahead: asyncio.Future[_Batch | None] | None = None
        try:
            # Three stages in flight: batch n+2 is read and validated in a worker thread while
            # batch n+1 is looked up and batch n is written (the server runs those in turn).
            ahead = asyncio.ensure_future(
                asyncio.to_thread(_prepare, chunks, spec, mapping, superseded)
            )
            while True:
                batch = await ahead
                if batch is None:
                    break
                ahead = asyncio.ensure_future(
                    asyncio.to_thread(_prepare, chunks, spec, mapping, superseded)
                )
                summary.read = batch.end
                if batch.end <= done:
                    # Committed by an earlier run: only re-validated, for the dead letters.
                    for record, reasons in batch.dead:
                        dead.add(record.line, record.data, reasons)
                    summary.duplicates += batch.duplicates
                    summary.unchanged += len(batch.rows)
                else:
                    rows = await run.classify(batch)
                    await run.write(rows, batch.end)
                bar.update(task, advance=batch.end - batch.first)
            await run.settle()
        except BaseException:
            await run.abandon()
            if ahead is not None:
                await asyncio.gather(ahead, return_exceptions=True)  # let the thread finish
            raise
        if checkpoint is not None:
            checkpoint.clear(key)
    summary.rejected = dead.count
    summary.dead_letter_path = dead.path if dead.count else None
    summary.resumed_after = min(done, summary.read)
    return summary


__all__ = [
    "KINDS",
    "ImportInterrupted",
    "ImportKind",
    "ImportRefused",
    "ImportSummary",
    "check_mapping",
    "default_checkpoint_path",
    "import_file",
    "kind_spec",
    "open_input",
    "outcome",
    "scan",
    "validate",
]
