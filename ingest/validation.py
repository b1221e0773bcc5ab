"""Records to graph rows: duplicate keys found in a first pass, then each chunk validated (in a
worker thread, beside the graph write), and the outcome of a row judged from what the graph
holds. Pure functions and plain data; no I/O but the source's own reading."""

from __future__ import annotations

from collections.abc import Iterator, Set
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, NamedTuple

from pydantic import ValidationError

from graph.repositories.imports import Found
from graph.store import Row
from graph.text import CONTROL
from ingest.erasures import NO_ERASURES, Erasures
from ingest.kinds import ImportKind
from ingest.mapping import ColumnMapping
from ingest.readers import RawRecord
from ingest.sources import Source
from shared.records import validation_reasons
from shared.validators import case_twin_parent, id_reason


def _key_sources(spec: ImportKind, mapping: ColumnMapping) -> list[list[str]]:
    """Per unique field, the source columns that land in it."""
    return [[c for c, f in mapping.columns.items() if f == name] + [name] for name in spec.unique]


def _record_key(data: dict[str, Any], sources: list[list[str]]) -> str | None:
    """The record's key as text (its unique fields' values, stripped, joined by U+001F)."""
    parts = []
    for names in sources:
        value = None
        for name in names:
            found = data.get(name)
            if found is not None and found != "":
                value = found
                break
        parts.append("" if value is None else str(value).strip())
    if not parts[0]:
        return None  # no key: the record fails validation anyway
    return "\x1f".join(parts)


class Marked(NamedTuple):
    line: int
    shown: str
    key: tuple[Any, ...] | None


class KeyScan(NamedTuple):
    """What the first pass found: how many ``records``; ``superseded``, the indexes of records
    a later one with the same key replaces; ``twins``, (earlier, later) indexes of records
    whose keys differ only in case (``C001`` / ``c001``): both are imported, and reported;
    ``repeated``, the indexes of the last record of each key that superseded others (if it is
    rejected, nothing of its key is imported: the summary says so)."""

    records: int
    superseded: set[int]
    twins: list[tuple[int, int]]
    repeated: frozenset[int] = frozenset()


def scan(source: Source, spec: ImportKind, mapping: ColumnMapping) -> KeyScan:
    """First pass: the record count, the indexes of records a later one supersedes (the
    last row of a key wins, whatever the batch size), and keys that differ only in case."""
    sources = _key_sources(spec, mapping)
    # 64-bit hashes, not the keys: a million keys fit in tens of MB. ``spelled``: the hash of
    # a key's case-folded text -> the hash of the last spelling seen (keys with letters only).
    last: dict[int, int] = {}
    spelled: dict[int, int] = {}
    superseded: set[int] = set()
    repeated: set[int] = set()
    pairs: set[tuple[int, int]] = set()  # key hashes of two spellings, each pair once
    count = 0
    key_data = getattr(source, "key_data", None)
    # Only the key columns: a query result selects them, delimited text builds no records.
    rows = (
        key_data([n for names in sources for n in names])
        if key_data is not None
        else (record.data for record in source.records())
    )
    for index, data in enumerate(rows):
        count += 1
        if data is None:
            continue
        text = _record_key(data, sources)
        if text is None:
            continue
        key = hash(text)
        previous = last.get(key)
        if previous is not None:
            superseded.add(previous)
            repeated.discard(previous)
            repeated.add(index)
        folded = text.casefold()
        if folded != text or text.upper() != text:  # a key with letters: it has a case
            fold = hash(folded)
            other = spelled.get(fold)
            if other is not None and other != key:
                pairs.add((min(other, key), max(other, key)))
            spelled[fold] = key
        last[key] = index
    # Each spelling's last record: the one imported (the earlier ones are superseded).
    twins = sorted((min(last[a], last[b]), max(last[a], last[b])) for a, b in pairs)
    return KeyScan(count, superseded, twins, frozenset(repeated))


def validate(
    spec: ImportKind, mapping: ColumnMapping, record: RawRecord
) -> tuple[Row | None, list[str]]:
    """One record to a graph row, or the reasons it is rejected (never an exception)."""
    # Every field's problem at once: a value the reader refused (too long, not the file's
    # encoding, a number a float cannot hold) or the mapping's formats cannot read is left out
    # of the model's judgement of the rest, not the end of the record's.
    failed: dict[str, str] = {}
    source = record.data
    if source is None or record.error is not None:
        if record.others is None:
            return None, [_read_error(mapping, record.error, record.column)]
        source = record.others
        fields = spec.model.model_fields
        for column, reason in record.problems.items():
            if (name := mapping.target(column)) not in fields:
                continue  # an ignored column (reported as such): nothing of it is imported
            failed[name] = _read_error(mapping, reason, column)
    try:
        data = mapping.apply(source, failed)
        if reasons := control_reasons(spec, data):
            return None, [*failed.values(), *reasons]
        model = spec.model.model_validate(data)
    except ValidationError as exc:
        return None, [*failed.values(), *validation_reasons(exc, skip=failed)]
    except ValueError as exc:
        return None, [*failed.values(), str(exc)]
    except Exception as exc:  # a value of a type no validator expected: a dead letter too
        return None, [*failed.values(), f"unreadable value ({type(exc).__name__})"]
    if failed:
        return None, list(failed.values())
    return model.to_graph_row(), []


def _read_error(mapping: ColumnMapping, error: str | None, column: str | None) -> str:
    """The reader's reason, naming the field its column lands in too when the mapping renames
    it (``idNumber (column 证件号码): stored as a number ...``): the field is what the
    documentation and the other reasons name, the column what to fix in the file."""
    error = error or "empty record"
    if column is None or (name := mapping.target(column)) == column:
        return error
    return f"{name} (column {column}){error.removeprefix(column)}"


def control_reasons(spec: ImportKind, data: dict[str, Any]) -> list[str]:
    """``field: contains a control character`` per field of the kind that holds one: the API's
    rule (graph/text.py), so no import stores an id or a name the API then refuses to take
    back (a customer it cannot reach, a list cursor it rejects). Tab, line feed and carriage
    return are ordinary text there and here (a quoted note has lines). Rejected, not stripped:
    the bank's record is not changed silently; the dead letter says which field to fix."""
    texts = [v for v in data.values() if isinstance(v, str)]
    # One search over the joined values: almost every row has none (the per-field names only
    # when one does).
    controls: list[str] = []
    if CONTROL.search("".join(texts)) is not None:
        fields = spec.model.model_fields
        controls = [
            name
            for name, value in data.items()
            if name in fields and isinstance(value, str) and CONTROL.search(value)
        ]
    # A key id's own rule besides (shared.validators.id_reason, the API's too): no invisible
    # or full-width characters, so no twin that looks like a stored id (QA, session 21).
    keys = [
        reason
        for name in spec.keys
        if name not in controls
        and isinstance(value := data.get(name), str)
        and (reason := id_reason(name, value)) is not None
    ]
    return [f"{name}: contains a control character" for name in controls] + keys


def outcome(spec: ImportKind, row: Row, found: Found) -> str:
    """inserted / updated / unchanged, from the row and what the lookup found."""
    if not found.get("exists"):
        return "inserted"
    stored = found.get("props") or {}
    given = row.get("props") or {}
    if any(stored.get(k) != v for k, v in given.items()):
        return "updated"
    if spec.home is not None and stored.get(spec.home) != row.get(spec.home):
        return "updated"  # moved to another parent
    link = row.get(spec.link) if spec.link else None
    if link is not None and link not in (found.get("links") or []):
        return "updated"
    return "unchanged"


def keep_on_move(spec: ImportKind, row: Row, found: Found) -> tuple[Row, list[str]]:
    """A row that moves its stored record to another home (an interaction to another
    customer) without giving one of the kind's ``kept`` fields: the row with the stored value
    added, so the write seals it under the new owner's key instead of leaving it sealed under
    the old one's (where it would read as null). Also the fields that could not come along:
    stored but not opened (the old owner's key is gone: erased). Those are not written, so
    they stay as stored, unreadable; nothing is sealed from nothing."""
    if not spec.kept or spec.home is None or not found.get("exists"):
        return row, []
    stored = found.get("props") or {}
    if stored.get(spec.home) in (None, row.get(spec.home)):
        return row, []  # not moving
    given = row.get("props") or {}
    unreadable = found.get("unreadable") or []
    wanted = [f for f in spec.kept if f not in given]
    carried = {f: stored[f] for f in wanted if stored.get(f) is not None}
    lost = [f for f in wanted if f in unreadable]
    if not carried:
        return row, lost
    return {**row, "props": {**given, **carried}}, lost


def missing_reasons(
    spec: ImportKind, row: Row, missing: list[str], twins: dict[str, str] | None = None
) -> list[str]:
    """Why a row's parents are missing. ``twins``: stored customer ids that a missing
    customer id differs from only by case (graph.repositories.customers.case_twins): named,
    as that is the customer meant, and --create-missing never makes the twin."""
    create = " (or pass --create-missing)" if spec.creates_parents else ""
    reasons = []
    for name in missing:
        value = row.get(name)
        twin = (twins or {}).get(str(value)) if spec.parents.get(name) == "customers" else None
        if twin is not None:
            reasons.append(case_twin_parent(name, str(value), twin))
        else:
            reasons.append(
                f"{name} {value} not found: import {spec.parents.get(name, 'it')} first{create}"
            )
    return reasons


@dataclass
class Batch:
    first: int  # index of its first record
    end: int  # index after its last record
    rows: list[Row] = field(default_factory=list)
    raws: list[RawRecord] = field(default_factory=list)
    dead: list[tuple[RawRecord, list[str]]] = field(default_factory=list)
    duplicates: int = 0
    erased: int = 0  # of ``dead``: rows naming an erased customer or household
    # The last input line of its rows and dead letters (0: none): where the checkpoint says a
    # resumed run's dead letters end. Kept as they are sorted out, not found again later.
    line: int = 0
    # Records the first pass flagged (a case-only twin): index -> (line, key as shown, the
    # key as validated: None for a dead letter, and equal for two spellings the kind
    # normalises alike, such as a platform's name).
    marked: dict[int, Marked] = field(default_factory=dict)
    # Lines of its records that are the last of a repeated key (KeyScan.repeated).
    repeated: set[int] = field(default_factory=set)


class Chunks:
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


def prepare(
    chunks: Chunks,
    spec: ImportKind,
    mapping: ColumnMapping,
    superseded: set[int],
    erasures: Erasures = NO_ERASURES,
    marked: Set[int] = frozenset(),
    repeated: Set[int] = frozenset(),
) -> Batch | None:
    """Read and validate the next chunk (runs in a worker thread, beside the graph write);
    valid rows naming an erased customer or household are dead letters too. The line and
    key of each record in ``marked`` go into the batch's ``marked``."""
    first, chunk = chunks.next()
    if not chunk:
        return None
    batch = Batch(first, first + len(chunk))
    sources = _key_sources(spec, mapping) if marked else []
    for offset, record in enumerate(chunk):
        if first + offset in superseded:
            batch.duplicates += 1
            continue
        row, reasons = validate(spec, mapping, record)
        if first + offset in repeated:
            batch.repeated.add(record.line)
        if first + offset in marked:
            shown = (_record_key(record.data or {}, sources) or "").replace("\x1f", " / ")
            key = None if row is None else tuple(row.get(k) for k in spec.keys)
            batch.marked[first + offset] = Marked(record.line, shown, key)
        if row is not None and erasures and (reasons := erasures.reasons(spec.erased, row)):
            # The dead letter keeps the keys only: no copy of an erased customer's data.
            keys = dict.fromkeys((*spec.keys, *spec.erased))
            record = RawRecord(record.line, {k: row[k] for k in keys if row.get(k) is not None})
            row = None
            batch.erased += 1
        if row is None:
            batch.dead.append((record, reasons))
        else:
            batch.rows.append(row)
            batch.raws.append(record)
        if record.line > batch.line:
            batch.line = record.line
    return batch


__all__ = [
    "Batch",
    "Chunks",
    "KeyScan",
    "Marked",
    "control_reasons",
    "keep_on_move",
    "missing_reasons",
    "outcome",
    "prepare",
    "scan",
    "validate",
]
