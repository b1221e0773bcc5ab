"""CRM file import: read, map, validate, batched upsert, checkpoint; bad rows to dead letters.

Re-running a file is safe (every upsert MERGEs on natural keys); a run that stopped half way
resumes after the last committed batch, because the checkpoint is keyed by the file's path,
size and mtime and cleared only when the whole file went in.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from graph.errors import GraphError
from graph.repositories.accounts import upsert_accounts, upsert_holdings, upsert_transactions
from graph.repositories.advisors import upsert_advisors
from graph.repositories.customers import upsert_customers
from graph.repositories.households import upsert_households
from graph.repositories.interactions import upsert_interactions
from graph.store import GraphStore, Row
from ingest.checkpoint import Checkpoint
from ingest.deadletter import DeadLetters
from ingest.mapping import ColumnMapping
from ingest.readers import RawRecord, UnsupportedFile, count_records, read_header, read_records
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

# How many JSONL records to look at for the key columns before refusing a file.
_KEY_SCAN = 100


Upsert = Callable[[GraphStore, list[Row]], Awaitable[int]]


@dataclass(frozen=True)
class ImportKind:
    """What one ``c360 import <kind>`` validates with, writes with, and requires as key columns.

    ``model``: a pydantic model class whose instances have ``to_graph_row()``; ``keys``: the
    columns every file must have (after mapping), default ``model.KEY_FIELDS`` or ``("id",)``."""

    model: Any
    upsert: Upsert
    keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.keys:
            object.__setattr__(self, "keys", tuple(getattr(self.model, "KEY_FIELDS", ("id",))))


# The registry: add a kind with one entry (e.g. "social-accounts"); key columns default to
# the model's KEY_FIELDS.
KINDS: dict[str, ImportKind] = {
    "customers": ImportKind(CustomerRecord, upsert_customers),
    "accounts": ImportKind(AccountRecord, upsert_accounts),
    "holdings": ImportKind(HoldingRecord, upsert_holdings),
    "households": ImportKind(HouseholdRecord, upsert_households),
    "transactions": ImportKind(TransactionRecord, upsert_transactions),
    "interactions": ImportKind(InteractionRecord, upsert_interactions),
    "advisors": ImportKind(AdvisorRecord, upsert_advisors),
    "social-accounts": ImportKind(SocialAccountLink, link_accounts),
}


class ImportRefused(ValueError):
    """The file cannot be imported at all; nothing was written. One sentence, what to do next."""


class ImportInterrupted(GraphError):
    """The graph failed part way; ``committed`` records are in and a re-run resumes after them."""

    def __init__(self, message: str, committed: int) -> None:
        super().__init__(message)
        self.committed = committed


@dataclass(frozen=True)
class ImportSummary:
    read: int
    imported: int
    rejected: int
    dead_letter_path: Path | None
    resumed_after: int = 0  # records skipped because an earlier run had committed them


def default_checkpoint_path() -> Path:
    """``$C360_DATA_DIR/checkpoints/imports.json`` (the CLI passes its settings' data dir)."""
    return Path(os.environ.get("C360_DATA_DIR", ".c360")) / "checkpoints" / "imports.json"


def checkpoint_key(kind: str, path: Path) -> str:
    stat = path.stat()
    return f"{kind}:{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def check_importable(
    kind: str, path: Path, mapping: ColumnMapping, kinds: dict[str, ImportKind]
) -> ImportKind:
    """Raise ImportRefused unless ``path`` is a readable CSV/JSONL with the kind's key columns."""
    spec = kinds.get(kind)
    if spec is None:
        raise ImportRefused(f"unknown import kind {kind!r}; use one of {', '.join(kinds)}")
    if not path.is_file():
        raise ImportRefused(f"{path} does not exist or is not a file")
    try:
        header = read_header(path)
    except UnsupportedFile as exc:
        raise ImportRefused(str(exc)) from exc
    if header is not None:
        present = {mapping.target(c) for c in header} | set(mapping.defaults)
        seen = ", ".join(header[:8]) or "none"
    else:
        sample = [r.data for r in islice(read_records(path), _KEY_SCAN) if r.data is not None]
        if not sample:
            return spec  # empty or all-broken: every line goes to dead letters, nothing is lost
        mapped = [mapping.apply(d) for d in sample]
        best = max(mapped, key=lambda m: len(set(spec.keys) & set(m)))
        present = set(best)
        seen = ", ".join(list(sample[0])[:8])
    missing = [k for k in spec.keys if k not in present]
    if missing:
        raise ImportRefused(
            f"{path.name} has no {' / '.join(missing)} column for {kind} (found: {seen}); "
            "rename the column or map it with --mapping MAP.toml"
        )
    return spec


def _validate(
    spec: ImportKind, mapping: ColumnMapping, record: RawRecord
) -> tuple[Row | None, list[str]]:
    if record.error is not None or record.data is None:
        return None, [record.error or "empty record"]
    try:
        model = spec.model.model_validate(mapping.apply(record.data))
    except ValidationError as exc:
        return None, validation_reasons(exc)
    return model.to_graph_row(), []


def _progress(enabled: bool, path: Path) -> Progress:
    return Progress(
        TextColumn(f"importing {path.name}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
    )


def _batches(records: Iterator[RawRecord], size: int, boundary: int) -> Iterator[list[RawRecord]]:
    """Chunks of ``size``, cut at ``boundary`` too, so a resumed run with another batch size
    neither re-writes nor skips records around the checkpoint."""
    read = 0
    while True:
        step = min(size, boundary - read) if read < boundary else size
        chunk = list(islice(records, step))
        if not chunk:
            return
        read += len(chunk)
        yield chunk


async def import_file(
    store: GraphStore,
    kind: str,
    path: Path,
    mapping: ColumnMapping | None = None,
    batch_size: int = 1000,
    progress: bool = True,
    *,
    checkpoint_path: Path | None = None,
    kinds: dict[str, ImportKind] | None = None,
) -> ImportSummary:
    """Import one CRM export of ``kind`` (a key of KINDS) into the graph.

    Refuses (ImportRefused, nothing written) files that are not CSV/JSONL or lack the kind's key
    columns after mapping. Invalid records go to ``<stem>.dead.jsonl`` beside the file with their
    line and reasons; valid ones are upserted in batches of ``batch_size`` raw records. A graph
    failure raises ImportInterrupted; running the same unchanged file again resumes after the
    last committed batch (records before it are re-validated for the dead-letter file only)."""
    if batch_size < 1:
        raise ImportRefused("--batch-size must be at least 1")
    mapping = mapping or ColumnMapping.identity()
    spec = check_importable(kind, path, mapping, kinds or KINDS)
    checkpoint = Checkpoint(checkpoint_path or default_checkpoint_path())
    key = checkpoint_key(kind, path)
    done = int(checkpoint.get(key, {}).get("committed", 0))
    read = imported = 0
    with DeadLetters.beside(path) as dead, _progress(progress, path) as bar:
        task = bar.add_task("import", total=count_records(path) if progress else None)
        for chunk in _batches(read_records(path), batch_size, done):
            rows: list[Row] = []
            for record in chunk:
                row, reasons = _validate(spec, mapping, record)
                if row is None:
                    dead.add(record.line, record.data, reasons)
                else:
                    rows.append(row)
            first, read = read, read + len(chunk)
            if rows and first >= done:
                try:
                    await spec.upsert(store, rows)
                except GraphError as exc:
                    raise ImportInterrupted(
                        f"the graph failed while importing {path.name} after {first} records "
                        f"were committed ({exc}); fix the cause and run the same command again "
                        "to resume from there",
                        committed=first,
                    ) from exc
                checkpoint.set(key, {"committed": read})
            imported += len(rows)
            bar.update(task, advance=len(chunk))
        checkpoint.clear(key)
    return ImportSummary(
        read=read,
        imported=imported,
        rejected=dead.count,
        dead_letter_path=dead.path if dead.count else None,
        resumed_after=min(done, read),
    )


__all__ = [
    "KINDS",
    "ImportInterrupted",
    "ImportKind",
    "ImportRefused",
    "ImportSummary",
    "check_importable",
    "default_checkpoint_path",
    "import_file",
]
