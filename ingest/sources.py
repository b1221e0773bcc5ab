"""Where an import's records come from: a file or a DuckDB query, checked for the kind's key
columns before anything is written, and the checkpoint key a resumed run finds it by."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Protocol

from ingest.kinds import ImportKind
from ingest.mapping import ColumnMapping
from ingest.readers import RawRecord, ReadOptions, UnsupportedFile, open_source
from ingest.summary import ImportRefused
from ingest.transform import QuerySource, run_query
from shared.echo import echo

# How many JSONL records to look at for the key columns before refusing a file.
_KEY_SCAN = 100


class Source(Protocol):
    path: Path

    @property
    def header(self) -> list[str] | None: ...

    def records(self) -> Iterator[RawRecord]: ...

    def describe(self) -> str: ...


def open_input(
    path: Path | None,
    mapping: ColumnMapping,
    options: ReadOptions,
    sql: str | None,
    private: Sequence[Path] = (),
) -> Source:
    """The file (format, encoding and delimiter detected) or the SQL transform's result;
    ``private`` are folders a query may not read (the data dir)."""
    query = sql or mapping.sql
    try:
        if query:
            where = mapping.folder if mapping.sql and not sql else None
            # Names the summary and the dead letters (<stem>.dead.jsonl beside it).
            label = mapping.name if mapping.sql and not sql else "sql"
            name = path or (mapping.folder or Path.cwd()) / label
            origin = "--sql" if sql else mapping.name
            return run_query(query, name, where, path, origin=origin, private=private,
                             encoding=options.encoding)  # fmt: skip
        if path is None:
            raise ImportRefused("give a FILE to import, or a query with --sql")
        if not path.is_file():
            raise ImportRefused(f"{path} does not exist or is not a file")
        return open_source(path, options)
    except UnsupportedFile as exc:
        raise ImportRefused(str(exc)) from exc


def check_keys(kind: str, spec: ImportKind, source: Source, mapping: ColumnMapping) -> list[str]:
    """Raise ImportRefused unless the source has the kind's key columns; return its columns."""
    header = source.header
    if header == []:
        raise ImportRefused(
            f"{source.path.name} is empty (not even a header row): nothing to import; "
            "check that the export finished"
        )
    if header is not None:
        if (both := mapping.two_columns(header)) is not None:
            raise ImportRefused(f"{source.path.name}: {both}")
        columns = header
        present = {mapping.target(c) for c in header} | set(mapping.defaults)
    else:
        sample = [r.data for r in islice(source.records(), _KEY_SCAN) if r.data is not None]
        if not sample:
            return []  # empty or all-broken: every line goes to dead letters, nothing is lost
        columns = list(dict.fromkeys(k for d in sample for k in d))
        present = max(
            (set(map(mapping.target, d)) | set(mapping.defaults) for d in sample),
            key=lambda names: len(set(spec.keys) & names),
        )
    missing = [k for k in spec.keys if k not in present]
    if missing:
        # Capped: a column name is whatever the file's first line holds (a whole binary file).
        seen = ", ".join(echo(c) for c in columns[:8]) or "none"
        hint = "rename the column or map it with --mapping MAP.toml"
        if header is not None and len(header) == 1 and any(d in header[0] for d in ";\t|,"):
            hint = "the delimiter may be wrong: give --delimiter"
        raise ImportRefused(
            f"{source.path.name} has no {' / '.join(missing)} column for {kind} "
            f"(found: {seen}); {hint}"
        )
    return columns


def checkpoint_key(kind: str, path: Path) -> str:
    """A file's checkpoint key: its path, size and mtime (an edited file starts over)."""
    stat = path.stat()
    return f"{kind}:{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def resume_key(kind: str, source: Source) -> str:
    """The checkpoint key of a source: a query's is its text and the fingerprint of its result
    (rows in order), so the same query over the same data resumes, and changed data starts
    over; a file's is :func:`checkpoint_key`."""
    if isinstance(source, QuerySource):
        return f"{kind}:sql:{source.fingerprint}"
    return checkpoint_key(kind, source.path)


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def import_options(
    mapping: ColumnMapping,
    read_options: ReadOptions,
    sql: str | None,
    *,
    create_missing: bool,
    as_of: str | None,
) -> dict[str, object]:
    """Every option that changes how an input's rows are read or written, by the name a person
    gives it (a mapping and a query by the digest of their content). Kept in the checkpoint: a
    run whose options differ from the interrupted one's starts over, since the rows committed
    before were read or written another way (QA: a re-run with the right --encoding resumed,
    and the committed rows kept their mojibake)."""
    source = mapping.source
    content = {
        "columns": mapping.columns,
        "values": mapping.values,
        "defaults": mapping.defaults,
        "source": [
            source.encoding,
            source.delimiter,
            source.date_formats,
            source.time_formats,
            str(source.timezone),
        ],
        "sql": mapping.sql,
        "folder": str(mapping.folder) if mapping.folder else None,
    }
    return {
        "--mapping": _digest(content),
        "--encoding": read_options.encoding,
        "--delimiter": read_options.delimiter,
        "--decimal": source.decimal,
        "--sql": _digest(sql) if sql is not None else None,
        "--create-missing": create_missing,
        "--as-of": as_of,
    }


def changed_options(before: object, now: dict[str, object]) -> list[str]:
    """The names of the options ``now`` gives otherwise than ``before`` (a checkpoint's);
    every one when the checkpoint holds none (an older one: how it read is unknown)."""
    if not isinstance(before, dict):
        return list(now)
    return [name for name, value in now.items() if before.get(name) != value]


__all__ = [
    "Source",
    "changed_options",
    "check_keys",
    "checkpoint_key",
    "import_options",
    "open_input",
    "resume_key",
]
