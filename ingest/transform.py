"""SQL transforms with DuckDB: derive what a column rename cannot say, then import the result.

Why DuckDB: an in-process, well-kept SQL engine (no server, one wheel) that reads CSV (any
delimiter, quoting), Parquet and JSON directly, has strptime/CASE/arithmetic/window functions
and joins across files, and runs vectorised: a million rows transform in well under a second, so
the transform never limits an import. A home-made expression language would need all of that
written, documented and tested again. The query is foreign input (a mapping comes with a
vendor's export): it must be one read-only SELECT and runs locked down (ingest/sql_sandbox.py).

The query's column names are c360 field names (``SELECT client_id AS id, ...``). Relative file
paths inside it resolve against the mapping's folder (or the working directory for ``--sql``);
``{file}`` stands for the FILE argument, bound as a SQL string; DuckDB reads UTF-8 only, so with
another encoding given (the mapping's ``[source] encoding``, ``--encoding``) a text FILE is
read through a UTF-8 copy in a temp folder, removed once the result is in DuckDB. The result
is materialised once in DuckDB, then read twice like a file (once for duplicate keys, once to
import); records are numbered by row (DuckDB keeps insertion order), so a run that stopped
resumes after its checkpoint like a file does: the checkpoint key is the query's text plus the
count and hash of its rows.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.readers import RawRecord, UnsupportedFile, _check_encoding, checked, format_of
from ingest.sql_sandbox import (
    CONNECT_CONFIG,
    QueryRefused,
    anchor_paths,
    bind_file,
    lock_down,
    one_select,
    refusal,
)
from shared.scratch import scratch_dir

_BATCH_ROWS = 10_000
_TABLE = "c360_import_rows"


@dataclass
class QuerySource:
    """A DuckDB query result that reads like a file (``header``, ``records()``)."""

    path: Path  # names the dead-letter file and the summary: <path stem>.dead.jsonl
    header: list[str]
    connection: Any = field(repr=False)
    format: str = "sql"
    rows: int = 0
    # The query text's and the result's digest (rows in order): a resumed run's checkpoint key.
    fingerprint: str = ""

    def records(self) -> Iterator[RawRecord]:
        from pyarrow.types import is_floating  # loaded with DuckDB's arrow reader anyway

        cursor = self.connection.cursor()
        relation = cursor.sql(f"SELECT * FROM {_TABLE}")
        # DuckDB 2.x: to_arrow_reader; 1.x: record_batch.
        fetch = getattr(relation, "to_arrow_reader", None) or relation.record_batch
        reader = fetch(_BATCH_ROWS)
        number = 0
        for batch in reader:
            # Only float columns need _value; the others are taken as DuckDB gives them.
            floats = [f.name for f in batch.schema if is_floating(f.type)]
            for row in batch.to_pylist():
                number += 1
                for name in floats:
                    row[name] = _value(row[name])
                # The same value check as every reader's (a 150 000-character text is a dead
                # letter here too).
                yield checked(number, row)

    def key_data(self, columns: list[str]) -> Iterator[dict[str, Any]]:
        """Each row's ``columns`` only (those the result has), valued as ``records()`` values
        them: what the first pass needs for duplicate keys, without reading the whole row."""
        from pyarrow.types import is_floating

        names = [c for c in dict.fromkeys(columns) if c in self.header]
        if not names:
            yield from ({} for _ in range(self.rows))
            return
        cursor = self.connection.cursor()
        quoted = ", ".join('"' + n.replace('"', '""') + '"' for n in names)
        relation = cursor.sql(f"SELECT {quoted} FROM {_TABLE}")
        fetch = getattr(relation, "to_arrow_reader", None) or relation.record_batch
        for batch in fetch(_BATCH_ROWS):
            floats = [f.name for f in batch.schema if is_floating(f.type)]
            for row in batch.to_pylist():
                for name in floats:
                    row[name] = _value(row[name])
                yield row

    def describe(self) -> str:
        return f"DuckDB query, {self.rows} rows"

    def close(self) -> None:
        self.connection.close()


def _value(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


# The folders of UTF-8 copies (shared/scratch.py: named with the pid, swept when it is gone).
COPY_PREFIX = "c360-sql-"

# What DuckDB says of bytes that are not UTF-8 (its CSV and JSON readers). "utf-8" alone is no
# proof: every CSV sniffing error lists "Encoding: utf-8"; the file named is decoded to be sure.
_NOT_UTF8 = ("invalid unicode", "utf-8", "utf8")
# Where DuckDB names the file it failed on: "  file = x.csv" (CSV errors), 'file "x.csv"'.
_NAMED = re.compile(r'^\s*file = (.+)$|\bfile "([^"]+)"', re.MULTILINE)


def _is_utf8(path: Path) -> bool:
    """Whether the file at ``path`` decodes as UTF-8 from start to end (streamed; read only
    when a query failed). True when it cannot be read: then it is not shown to be otherwise."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    except OSError:
        return True
    return True


@contextmanager
def _as_utf8(file: Path | None, encoding: str | None) -> Iterator[Path | None]:
    """FILE as the query reads it: itself, or, when ``encoding`` is given and is not UTF-8
    and FILE is a text file (not a glob, a spreadsheet or Parquet), a UTF-8 copy in a temp
    folder that is removed on exit."""
    name = _check_encoding(encoding) if encoding else "utf-8"
    if file is None or name == "utf-8" or format_of(file) in ("sheet", "parquet"):
        yield file
        return
    if not file.is_file():
        yield file  # a glob, or missing: DuckDB says so
        return
    with scratch_dir(COPY_PREFIX) as folder:
        copy = Path(folder) / file.name
        try:
            with (
                file.open(encoding=name, newline="") as source,
                copy.open("w", encoding="utf-8", newline="") as target,
            ):
                shutil.copyfileobj(source, target, 1 << 20)
        except UnicodeError as exc:
            raise UnsupportedFile(
                f"{file.name} is not {encoding} text ({exc}): give its encoding in the "
                "mapping's [source] encoding (or --encoding)"
            ) from None
        yield copy


def _transform_failed(exc: Exception, file: Path | None, base: Path) -> UnsupportedFile:
    """DuckDB's first message line; for a file that is not UTF-8 (decoded to be sure: the
    one DuckDB names, else FILE), what to do."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if not any(mark in text.lower() for mark in _NOT_UTF8):
        return UnsupportedFile(f"the SQL transform failed: {first}")
    named = _NAMED.search(text)
    path = Path((named[1] or named[2]).strip()) if named else file
    if path is None or _is_utf8(path if path.is_absolute() else base / path):
        return UnsupportedFile(f"the SQL transform failed: {first}")
    bad = path.name
    if file is None or bad != file.name:
        # A file the query names itself: only converting it helps.
        return UnsupportedFile(
            f"the SQL transform failed: {first} ({bad} is not UTF-8, the only encoding DuckDB "
            f"reads): convert it (iconv -f GB18030 -t UTF-8 {bad} > utf8.csv)"
        )
    return UnsupportedFile(
        f"the SQL transform failed: {first} ({file.name} is not UTF-8, the only encoding "
        "DuckDB reads): give its encoding in the mapping's [source] (encoding = "
        '"gb18030") or with --encoding, or convert it (iconv -f GB18030 -t UTF-8 '
        f"{file.name} > utf8.csv)"
    )


def run_query(
    query: str,
    name: Path,
    folder: Path | None,
    file: Path | None,
    *,
    origin: str = "--sql",
    private: Sequence[Path] = (),
    encoding: str | None = None,
) -> QuerySource:
    """Run ``query`` in a fresh, locked-down in-memory DuckDB and return its result as a source.

    ``origin`` names the query in refusals (the mapping file, or ``--sql``); ``private`` are
    folders the query may not read even inside the mapping's folder (the data dir). Raises
    QueryRefused (an UnsupportedFile) when the text is not one read-only SELECT, or reaches a
    file it may not read; UnsupportedFile with DuckDB's first message line (a missing file, a
    typo in a column name, a strptime pattern that does not fit) before anything is imported.
    ``encoding``: FILE's, when not UTF-8 (read through a UTF-8 copy, :func:`_as_utf8`).
    See ingest/sql_sandbox.py for what the query may do."""
    # Absolute: FILE is relative to where the command was typed, the query's own paths to the
    # mapping's folder (anchor_paths below).
    absolute = file.absolute() if file is not None else None
    # The checkpoint's key names FILE, never its copy (a new temp name each run).
    text = bind_file(query, absolute, origin)
    with _as_utf8(absolute, encoding) as readable:
        connection, header, count, digest = _materialise(
            bind_file(query, readable, origin), folder, readable, origin, private
        )
    fingerprint = f"{hashlib.sha256(text.encode()).hexdigest()[:16]}:{count}:{digest or 0}"
    return QuerySource(
        path=name, header=header, connection=connection, rows=int(count), fingerprint=fingerprint
    )


def _materialise(
    text: str, folder: Path | None, file: Path | None, origin: str, private: Sequence[Path]
) -> tuple[Any, list[str], int, int]:
    """Run ``text`` (FILE bound, or its UTF-8 copy) into a table of a new connection; return
    the connection, the result's columns, its row count and the hash of its rows."""
    import duckdb

    base = (folder or Path.cwd()).resolve()
    connection = duckdb.connect(":memory:", config=dict(CONNECT_CONFIG))
    try:
        select = anchor_paths(connection, one_select(connection, text, origin), base)
        lock_down(connection, base, file, [p.resolve() for p in private])
        create = f"CREATE TABLE {_TABLE} AS {select}"
        # The SELECT's text came from DuckDB's own split; checked again with the prefix.
        if [s.type.name for s in connection.extract_statements(create)] != ["CREATE"]:
            raise QueryRefused(f"{origin}: the SQL transform must be one SELECT query")
        connection.execute(create)
        header = [d[0] for d in connection.execute(f"SELECT * FROM {_TABLE} LIMIT 0").description]
        # One vectorised pass: the count and an order-sensitive hash of every row.
        count, digest = connection.execute(
            f"SELECT count(*), bit_xor(hash(rowid, t)) FROM {_TABLE} t"
        ).fetchone() or (0, 0)
    except QueryRefused:
        connection.close()
        raise
    except duckdb.PermissionException as exc:
        connection.close()
        raise refusal(exc, origin, base) from exc
    except duckdb.Error as exc:
        connection.close()
        raise _transform_failed(exc, file, base) from exc
    return connection, header, int(count), int(digest or 0)


__all__ = ["COPY_PREFIX", "QuerySource", "run_query"]
