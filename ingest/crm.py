"""CRM file import: read, map, validate, look up, batched upsert, checkpoint; nothing silent.

Two passes over the input. The first counts records and finds duplicate keys (the last row of a
key wins, whatever the batch size; the earlier ones are counted as duplicates, never written).
The second validates the next batch in a worker thread while this one is looked up in the graph
(inserted / updated / unchanged, missing parents) and a writer task writes the ones before.
Bad records go to ``<stem>.dead.jsonl`` (beside the input, or where ``dead_letters`` says) with
their line and reasons, and so do rows naming a customer erased on request (ingest.erasures).

Re-running an input is safe (every upsert MERGEs on natural keys, unchanged rows are not written
at all); a run that stopped half way resumes after the last committed batch, because the
checkpoint is keyed by the input (a file's path, size and mtime; a query's text and result
digest) and cleared only when all of it went in. It also holds the options the rows were read
and written with (encoding, delimiter, decimal mark, mapping and query by digest,
--create-missing, --as-of): a run with other options starts over, and says why. One run of
an input at a time: a second run of the same checkpoint key while one runs is refused at once
(ingest.runlock). A dry run writes nothing at all: no graph write, no checkpoint, no
dead-letter file, and takes no lock.

The pieces, one job each: ``kinds`` (the table of kinds), ``sources`` (file or query, key
columns, checkpoint key), ``validation`` (duplicates, records to rows, outcomes), ``writing``
(classify, write, checkpoint), ``summary`` (what the run reports).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from graph.errors import GraphUnavailable
from graph.repositories.imports import KNOWN_PARENTS
from graph.store import GraphStore
from ingest.checkpoint import Checkpoint
from ingest.deadletter import DeadLetters, DeadLettersUnwritable
from ingest.defaults_check import check_defaults
from ingest.disk_full import disk_full, no_space_folder
from ingest.erasures import NO_ERASURES, Erasures
from ingest.kinds import KINDS, ImportKind, check_mapping, kind_spec
from ingest.mapping import ColumnMapping
from ingest.readers import ReadOptions
from ingest.runlock import import_lock
from ingest.sources import (
    Source,
    changed_options,
    check_keys,
    checkpoint_key,
    import_options,
    open_input,
    resume_key,
)
from ingest.summary import ImportInterrupted, ImportRefused, ImportSummary
from ingest.validation import Batch, Chunks, Marked, outcome, prepare, scan, validate
from ingest.validators import to_utc_iso
from ingest.writing import BatchWriter
from shared.echo import echo

# Called with (records done, records in all) after each batch: the CLI draws its bar from it.
OnProgress = Callable[[int, int], None]

# Allocations between young-generation collections while an import runs (CPython: 700). Each
# record allocates a few dicts, so the default collected every ~100 records, walking the
# batches in flight each time: ~4 µs of a transaction row's ~20 µs of reading and validating.
IMPORT_GEN0_THRESHOLD = 50_000


# Called with the records committed when an import is stopped (Ctrl-C, SIGTERM): the CLI
# says how far it got and that running it again resumes.
OnStop = Callable[[int], None]
# How an import is stopped rather than failed: cancelled (asyncio.run's Ctrl-C), or the
# exceptions Ctrl-C and the CLI's SIGTERM/SIGHUP handler raise where the code runs.
STOPPED = (asyncio.CancelledError, KeyboardInterrupt, SystemExit)


def _stopped(on_stop: OnStop | None, checkpoint: Checkpoint | None, committed: int) -> None:
    if on_stop is not None and checkpoint is not None:
        on_stop(committed)


@contextlib.contextmanager
def _known_parents() -> Iterator[None]:
    """Parents found once are taken as present for the rest of this import (one read each)."""
    token = KNOWN_PARENTS.set({})
    try:
        yield
    finally:
        KNOWN_PARENTS.reset(token)


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Raise the young generation's threshold for the import, then put it back."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], IMPORT_GEN0_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


async def import_file(
    store: GraphStore,
    kind: str,
    path: Path | None,
    mapping: ColumnMapping | None = None,
    batch_size: int = 5000,
    progress: OnProgress | None = None,
    *,
    checkpoint_path: Path | None = None,
    kinds: dict[str, ImportKind] | None = None,
    read_options: ReadOptions | None = None,
    sql: str | None = None,
    dry_run: bool = False,
    create_missing: bool = False,
    erasures: Erasures = NO_ERASURES,
    dead_letters: Path | None = None,
    private: Sequence[Path] = (),
    as_of: str | None = None,
    on_stop: OnStop | None = None,
) -> ImportSummary:
    """Import one CRM export of ``kind`` (a key of KINDS) into the graph.

    ``path`` is the file (any delimited text, JSON Lines, spreadsheet or Parquet); with ``sql``
    (or a mapping with [sql]) the rows come from that DuckDB query instead. Refuses
    (ImportRefused / MappingError, nothing written) input that cannot be read, lacks the
    kind's key columns after mapping, or a mapping naming unknown fields. Invalid records,
    records whose parent is missing (unless ``create_missing``), and records naming a customer
    (or household) in ``erasures`` (the erasure ledger's ids: the caller reads the ledger),
    go to ``<stem>.dead.jsonl`` beside the input, or in ``dead_letters`` (a folder, or the
    file itself), with their line and reasons; DeadLettersUnwritable (nothing written) when
    that file cannot be created. A graph failure raises
    ImportInterrupted; with ``checkpoint_path``, running the same unchanged input again
    resumes after the last committed batch; while a run holds the input's lock (the lock
    file beside ``checkpoint_path``, by the digest of its checkpoint key), another of the
    same input raises ImportRunning (an ImportRefused) at once, nothing written. ``dry_run``
    validates and looks up, and writes nothing (graph, checkpoint, dead letters; no lock).
    A SQL transform may not read under ``private``
    (the data dir: keys, policies), even when it lies inside the mapping's folder.
    ``as_of``: when the input was exported (a time or date; offset-less is Asia/Shanghai):
    the evidence time of a customer row's consents when it has no consentUpdatedAt
    (ingest.kinds.stale_consent); None: unknown, so such a row changes no stored consent.
    ``on_stop``: called with the records committed (the checkpoint holds them) when the import
    is stopped, not failed: cancelled, Ctrl-C or a signal (KeyboardInterrupt, SystemExit);
    not for a dry run, which commits nothing. The exception then goes on as it was."""
    if batch_size < 1:
        raise ImportRefused("--batch-size must be at least 1")
    as_of = _as_of(as_of)
    mapping = mapping or ColumnMapping.identity()
    spec = kind_spec(kind, kinds)
    mapping.check(spec.fields, kind)
    check_defaults(spec, mapping)  # once, not as every row's dead letter
    read_options = read_options or mapping.read_options()
    options = import_options(mapping, read_options, sql, create_missing=create_missing,
                             as_of=as_of)  # fmt: skip
    source = open_input(path, mapping, read_options, sql, private)
    try:
        columns = check_keys(kind, spec, source, mapping)
        key = resume_key(kind, source)
        # One run of an input at a time (ImportRunning, nothing written); a dry run writes
        # nothing, so takes no lock. Taken before the checkpoint is read.
        locked = (
            contextlib.nullcontext()
            if dry_run or checkpoint_path is None
            else import_lock(checkpoint_path.parent, key, source.path.name)
        )
        with locked:
            # Not fsynced: a lost checkpoint only means re-reading (every upsert is idempotent).
            checkpoint = (
                None
                if dry_run or checkpoint_path is None
                else Checkpoint(checkpoint_path, durable=False)
            )
            summary = ImportSummary(
                ignored_columns=mapping.ignored(columns, spec.fields),
                dry_run=dry_run,
                source=source.describe(),
            )
            dead = DeadLetters.beside(source.path, keep=not dry_run, where=dead_letters)
            with _fewer_collections(), _known_parents():
                return await _import(store, spec, source, mapping, summary, batch_size,
                                     progress, checkpoint, key, dead,
                                     create_missing=create_missing, erasures=erasures,
                                     as_of=as_of, options=options,
                                     on_stop=on_stop)  # fmt: skip
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()


async def _import(
    store: GraphStore,
    spec: ImportKind,
    source: Source,
    mapping: ColumnMapping,
    summary: ImportSummary,
    batch_size: int,
    progress: OnProgress | None,
    checkpoint: Checkpoint | None,
    key: str,
    letters: DeadLetters,
    *,
    create_missing: bool,
    erasures: Erasures,
    as_of: str | None = None,
    options: dict[str, object] | None = None,
    on_stop: OnStop | None = None,
) -> ImportSummary:
    state = checkpoint.get(key, {}) if checkpoint is not None else {}
    done = int(state.get("committed", 0))
    why = None
    if done and options is not None and (changed := changed_options(state.get("options"), options)):
        # The committed rows were read or written another way (another encoding, mapping,
        # ...): resuming would keep them so. Started over; the first commit replaces it.
        why = (
            f"options changed since that run ({', '.join(changed)})"
            if isinstance(state.get("options"), dict)
            else "that run's checkpoint does not say which options it ran with"
        )
    elif done:  # its dead letters must be where a resumed run keeps them, or be judged again
        why = letters.lost(state.get("dead"), int(state.get("line", 0)))
    if why is not None:
        summary.not_resumed = (
            f"started over: an earlier run of this input committed {done} records, but {why}, "
            "so every record is read and written again"
        )
        state, done = {}, 0
    # The dead-letter file opens first: an unwritable one stops the import before the scan. A
    # resumed run keeps the dead letters of the batches it skips (missing parents too, which
    # it does not look up again); a checkpoint without a line (older) re-judges them all.
    with letters.resuming(int(state.get("line", 0)) if done else 0) as dead:
        try:
            keys = await asyncio.to_thread(scan, source, spec, mapping)
        except STOPPED:
            _stopped(on_stop, checkpoint, done)
            raise
        marked = {i for pair in keys.twins for i in pair}
        seen: dict[int, Marked] = {}
        line = 0  # the last input line read so far
        chunks = Chunks(source.records(), batch_size, done)
        writer = BatchWriter(store, spec, summary, dead, create_missing, summary.dry_run,
                             checkpoint, key, source.path.name, committed=done,
                             as_of=as_of, options=options,
                             defaulted=mapping.defaulted if mapping.defaults else None)  # fmt: skip

        def next_batch() -> asyncio.Future[Batch | None]:
            return asyncio.ensure_future(
                asyncio.to_thread(
                    prepare,
                    chunks,
                    spec,
                    mapping,
                    keys.superseded,
                    erasures,
                    marked,
                    keys.repeated,
                )
            )

        ahead: asyncio.Future[Batch | None] | None = None
        writer.start()
        try:
            # Stages in flight: the next batch is read and validated in a worker thread while
            # this one is looked up and classified, and the writer task writes the ones before
            # (ingest/writing.py: the server always has the next request queued).
            ahead = next_batch()
            while (batch := await ahead) is not None:
                ahead = next_batch()
                summary.read = batch.end
                seen.update(batch.marked)
                line = max(line, batch.line)
                if batch.end <= done:
                    writer.skip(batch)
                else:
                    await writer.write(await writer.classify(batch), batch.end, line)
                if progress is not None:
                    progress(batch.end, keys.records)
            await writer.settle()
        except BaseException as exc:
            await writer.abandon()
            if ahead is not None:
                await asyncio.gather(ahead, return_exceptions=True)  # let the thread finish
            if isinstance(exc, GraphUnavailable) and not summary.dry_run:
                # A lookup met the outage before the writer did (the graph server was killed,
                # is restarting or loading): interrupted all the same, what is committed
                # stays. A query the graph rejects is no outage: running again would meet it
                # again, so it is said as it is (the CLI: "the graph rejected a query").
                raise writer.interrupted(exc) from exc
            if isinstance(exc, STOPPED):
                _stopped(on_stop, checkpoint, writer.committed)  # the write in flight is in
            if (full := no_space_folder(exc)) is not None:  # dead letters, checkpoint
                raise disk_full(full, writer.committed) from exc
            raise
        if checkpoint is not None:
            checkpoint.clear(key)
    _case_twins(summary, keys.twins, seen, writer.refused)
    summary.rejected = dead.count
    summary.rejected_total = dead.total
    summary.dead_letter_path = dead.path if dead.total and dead.keep else None
    summary.rejected_first = dead.first
    summary.resumed_after = min(done, summary.read)
    return summary


def _as_of(value: str | None, now: datetime | None = None) -> str | None:
    """``--as-of`` as stored times are (UTC ISO, a date stays a date), or ImportRefused: not
    a time, or later than ``now`` (default the clock; a file is not exported in the future).
    A date is compared as the instant it starts, 00:00 that day in Asia/Shanghai (the
    date-only rule of every offset-less time): today's local date is never later than now."""
    if value is None:
        return None
    try:
        # No word of a mapping's time_formats: they do not apply to --as-of (QA, session 26).
        moment = to_utc_iso(value, advice="")
        start = to_utc_iso(value, dates_at_midnight=True)
    except ValueError as exc:
        raise ImportRefused(f"--as-of: {exc}") from None
    if start > f"{now or datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}":
        raise ImportRefused("--as-of: later than now; give when the file was exported")
    return moment


def _case_twins(
    summary: ImportSummary,
    twins: list[tuple[int, int]],
    seen: dict[int, Marked],
    refused: set[int],
) -> None:
    """Warn of each pair of imported keys that differ only in case. Both were imported: ids
    are case-sensitive, and which spelling the core system means only the bank knows. Not a
    pair where one side is a dead letter (an invalid row, or one the writer ``refused``: a
    missing parent, a case twin of a stored customer), or where the kind's validation made
    the two one key (a platform's name is lower-cased); a resumed run's skipped batches are
    not read again, so their pairs are not told twice."""
    for earlier, later in twins:
        a, b = seen.get(earlier), seen.get(later)
        if a is None or b is None or a.key is None or b.key is None or a.key == b.key:
            continue
        if a.line in refused or b.line in refused:
            continue
        (line_a, key_a), (line_b, key_b) = (a.line, a.shown), (b.line, b.shown)
        summary.case_twins += 1
        summary.warn(
            f"lines {line_a} and {line_b}: keys {echo(key_a)} and {echo(key_b)} differ only "
            "in case; imported as two records (keys are case-sensitive). If they are one, "
            "correct the key in the source and import again"
        )


__all__ = [
    "KINDS",
    "DeadLettersUnwritable",
    "Erasures",
    "ImportInterrupted",
    "ImportKind",
    "ImportRefused",
    "ImportSummary",
    "OnProgress",
    "OnStop",
    "check_mapping",
    "checkpoint_key",
    "import_file",
    "kind_spec",
    "open_input",
    "outcome",
    "scan",
    "validate",
]
