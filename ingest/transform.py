"""SQL transforms with DuckDB: derive what a column rename cannot say, then import the result.

Why DuckDB: an in-process, well-kept SQL engine (no server, one wheel) that reads CSV (any
delimiter, quoting), Parquet and JSON directly, has strptime/CASE/arithmetic/window functions
and joins across files, and runs vectorised: a million rows transform in well under a second, so
the transform never limits an import. A home-made expression language would need all of that
written, documented and tested again. Extensions are never installed or loaded at run time.

The query's column names are c360 field names (``SELECT client_id AS id, ...``). Relative file
paths inside it resolve against the mapping's folder (or the working directory for ``--sql``);
``{file}`` stands for the FILE argument. The result is materialised once in DuckDB, then read
twice like a file (once for duplicate keys, once to import); records are numbered by row
(DuckDB keeps insertion order), so a run that stopped resumes after its checkpoint like a file
does: the checkpoint key is the query's text plus the count and hash of its rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.readers import RawRecord, UnsupportedFile

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
                yield RawRecord(number, row)

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


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def run_query(query: str, name: Path, folder: Path | None, file: Path | None) -> QuerySource:
    """Run ``query`` in a fresh in-memory DuckDB and return its result as a source.

    Raises UnsupportedFile with DuckDB's first message line (a missing file, a typo in a column
    name, a strptime pattern that does not fit) before anything is imported."""
    import duckdb

    text = query.replace("{file}", str(file) if file else "{file}")
    if "{file}" in text:
        raise UnsupportedFile("the query uses {file}: give the FILE argument")
    connection = duckdb.connect(
        ":memory:",
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
    try:
        base = (folder or Path.cwd()).resolve()
        connection.execute(f"SET file_search_path = {_literal(base)}")
        connection.execute(f"CREATE TABLE {_TABLE} AS {text}")
        header = [d[0] for d in connection.execute(f"SELECT * FROM {_TABLE} LIMIT 0").description]
        # One vectorised pass: the count and an order-sensitive hash of every row.
        count, digest = connection.execute(
            f"SELECT count(*), bit_xor(hash(rowid, t)) FROM {_TABLE} t"
        ).fetchone() or (0, 0)
    except duckdb.Error as exc:
        connection.close()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnsupportedFile(f"the SQL transform failed: {first}") from exc
    fingerprint = f"{hashlib.sha256(text.encode()).hexdigest()[:16]}:{count}:{digest or 0}"
    return QuerySource(
        path=name, header=header, connection=connection, rows=int(count), fingerprint=fingerprint
    )


__all__ = ["QuerySource", "run_query"]
