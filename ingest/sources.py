"""Where an import's records come from: a file or a DuckDB query, checked for the kind's key
columns before anything is written, and the checkpoint key a resumed run finds it by."""

from __future__ import annotations

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


__all__ = ["Source", "check_keys", "checkpoint_key", "open_input", "resume_key"]
