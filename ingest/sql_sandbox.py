"""What a SQL transform may do: one read-only query, over FILE and the files beside the mapping.

A mapping often comes with a vendor's export, so its query is foreign input, not the user's
own: before this it ran as the importing user with all of DuckDB (``COPY ... TO`` wrote any
file, even with ``--dry-run``; ``ATTACH``/``INSTALL``/``LOAD`` reached further). Here:

- the text is parsed by DuckDB itself (not matched with patterns) and must be exactly one
  statement of type SELECT (``WITH ... SELECT``, ``FROM ...`` and ``VALUES`` parse as SELECT
  too; a bare ``PIVOT`` does not: it is several statements); ``COPY``, ``ATTACH``,
  ``INSTALL``, ``LOAD``, ``PRAGMA``, ``SET``, ``CALL``, DDL and DML are refused before DuckDB
  runs anything;
- ``{file}`` is bound as a quoted SQL string (quotes doubled), placed by DuckDB's tokenizer, so
  a file name holding a quote is read, never run;
- the connection is locked down before the query: ``enable_external_access = false`` with only
  FILE and the mapping's folder (the working directory for ``--sql``) in ``allowed_paths`` /
  ``allowed_directories``, minus the data dir when it lies inside that folder (keys, policies,
  the audit log); no extension installs or loads, no persistent secrets, no spill files
  (``temp_directory`` is empty), and ``lock_configuration`` so the query cannot undo any of it;
- relative file paths in the query are made absolute under the mapping's folder before it runs
  (:func:`anchor_paths`), so the process's working directory is never changed: it is
  process-wide, and a chdir around the query moved it under every other thread (a server's).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ingest.readers import UnsupportedFile

_PLACEHOLDER = "{file}"
_GLOB = "*?["
# Table functions whose first argument is a file path, a glob or a list of them. DuckDB checks
# a relative path against the process's working directory (file_search_path is consulted only
# later, to open it), so such paths are made absolute under the mapping's folder instead.
_READER_PREFIXES = ("read_", "parquet_")
_READERS = frozenset({"sniff_csv", "glob"})


class QueryRefused(UnsupportedFile):
    """The transform is not one read-only query, or reaches past what it may read."""


def bind_file(query: str, file: Path | None, origin: str) -> str:
    """``query`` with each ``{file}`` replaced by FILE as a SQL string.

    ``read_csv({file})`` gets a quoted literal, ``read_csv('{file}')`` (or ``'{file}'`` inside a
    longer string) gets the path with its quotes doubled: either way the name stays one string.
    A ``{file}`` in a comment is left alone; anywhere else (a "quoted identifier", a $$ or E''
    string) it is refused, since its escaping differs there."""
    import duckdb

    if _PLACEHOLDER not in query:
        return query
    try:
        tokens = duckdb.tokenize(query)
    except duckdb.Error as exc:
        raise QueryRefused(f"the SQL transform failed: {_first_line(exc)}") from exc
    # The tokens' positions are byte offsets: Chinese text before {file} moved them.
    raw = query.encode("utf-8")
    placeholder = _PLACEHOLDER.encode()
    ends = [pos for pos, _ in tokens[1:]] + [len(raw)]
    path = (str(file).replace("'", "''") if file is not None else "").encode("utf-8")
    out: list[bytes] = []
    done = 0
    for (pos, kind), end in zip(tokens, ends, strict=True):
        piece = raw[pos:end]
        if placeholder not in piece and not raw.startswith(placeholder, pos):
            continue
        if kind == duckdb.token_type.comment:
            continue
        if file is None:
            raise QueryRefused(f"{origin}: the query uses {{file}}: give the FILE argument")
        if kind == duckdb.token_type.string_const and piece.startswith(b"'"):
            out += [raw[done:pos], piece.replace(placeholder, path)]
            done = end
        elif kind == duckdb.token_type.operator and raw.startswith(placeholder, pos):
            out += [raw[done:pos], b"'" + path + b"'"]
            done = pos + len(placeholder)
        else:
            raise QueryRefused(
                f"{origin}: {{file}} may only stand alone or inside a '...' string "
                "(read_csv({file}) or read_csv('{file}'))"
            )
    return (b"".join(out) + raw[done:]).decode("utf-8")


def one_select(connection: Any, text: str, origin: str) -> str:
    """The text of ``text``'s one statement; QueryRefused unless it is exactly one SELECT."""
    import duckdb

    try:
        statements = connection.extract_statements(text)
    except duckdb.Error as exc:
        raise QueryRefused(f"the SQL transform failed: {_first_line(exc)}") from exc
    kinds = [s.type.name for s in statements]
    if kinds != ["SELECT"]:
        raise QueryRefused(
            f"{origin}: the SQL transform must be one query that only reads (SELECT or "
            f"WITH ... SELECT); found: {', '.join(kinds) or 'no statement'}. Keep only the "
            "SELECT; nothing was run"
        )
    return str(statements[0].query)


def lock_down(connection: Any, base: Path, file: Path | None, private: Sequence[Path]) -> None:
    """Let ``connection`` read only FILE and the files under ``base`` (not under ``private``),
    and lock its configuration (the query cannot SET any of it back)."""
    directories: list[Path] = []
    paths: list[Path] = []
    roots = _glob_root(file)
    for folder in [base, *roots]:
        allowed, files = _outside(folder, private)
        directories += allowed
        paths += files
    if file is not None and not roots:
        paths.append(file)
    connection.execute("SET allowed_directories = $d", {"d": [str(d) for d in directories]})
    connection.execute("SET allowed_paths = $p", {"p": [str(p) for p in paths]})
    connection.execute("SET enable_external_access = false")
    connection.execute("SET lock_configuration = true")


def anchor_paths(connection: Any, text: str, folder: Path) -> str:
    """``text`` (one SELECT) with each relative file path it reads made absolute under
    ``folder``: the first argument of a reading table function (``read_csv('x.csv')``,
    ``read_parquet(['a.parquet', 'sub/*.parquet'])``, ``glob``, ``sniff_csv``) and a file named
    in FROM (``FROM 'x.csv'``), when written as a plain '...' string. Found in DuckDB's own
    parse tree (json_serialize_sql), replaced at the places it gives. A path written any other
    way stays relative and is checked, and read, against the working directory: reachable only
    if the lock-down allows it there too."""
    row = connection.execute("SELECT json_serialize_sql($q)", {"q": text}).fetchone()
    tree = json.loads(row[0]) if row else {"error": True}
    if tree.get("error"):
        return text  # DuckDB says what is wrong when the query runs
    raw = text.encode("utf-8")  # the tree's locations are byte offsets
    spots: dict[int, str] = {}
    for at, path in _path_spots(tree):
        if not os.path.isabs(path) and "://" not in path and not path.startswith("~"):
            spots[at] = path
    out: list[bytes] = []
    done = 0
    for at in sorted(spots):
        end = _string_end(raw, at)
        if end is None or at < done:
            continue  # not a plain '...' string there: left as written
        absolute = os.path.join(folder, spots[at]).replace("'", "''")
        out += [raw[done:at], f"'{absolute}'".encode()]
        done = end
    return (b"".join(out) + raw[done:]).decode("utf-8")


def _path_spots(node: Any) -> Iterator[tuple[int, str]]:
    """(byte offset, path) of each file path a reading table function or FROM names."""
    if isinstance(node, list):
        for item in node:
            yield from _path_spots(item)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind == "BASE_TABLE" and not node.get("schema_name") and not node.get("catalog_name"):
        yield node.get("query_location", -1), str(node.get("table_name", ""))
    elif kind == "TABLE_FUNCTION" and isinstance(node.get("function"), dict):
        function = node["function"]
        name = str(function.get("function_name", "")).lower()
        positional = [a for a in function.get("arguments") or [] if not a.get("name")]
        if (name in _READERS or name.startswith(_READER_PREFIXES)) and positional:
            yield from _constants(positional[0].get("expression"))
    for value in node.values():
        yield from _path_spots(value)


def _constants(expression: Any) -> Iterator[tuple[int, str]]:
    """The string constants of a path argument: one, or a list of them (list_value)."""
    if not isinstance(expression, dict):
        return
    literal = expression.get("literal")
    if expression.get("class") == "CONSTANT" and isinstance(literal, dict):
        if literal.get("kind") == "STRING":
            yield expression.get("query_location", -1), str(literal.get("text", ""))
    elif expression.get("function_name") == "list_value":
        for argument in expression.get("arguments") or []:
            yield from _constants(argument.get("expression"))


def _string_end(raw: bytes, at: int) -> int | None:
    """The end of the '...' string literal starting at byte ``at`` ('' is a quote), or None."""
    if not 0 <= at < len(raw) or raw[at : at + 1] != b"'":
        return None
    i = at + 1
    while (i := raw.find(b"'", i)) != -1:
        if raw[i + 1 : i + 2] != b"'":
            return i + 1
        i += 2
    return None


def refusal(exc: Exception, origin: str, base: Path) -> QueryRefused:
    """A PermissionException of the locked-down query as one sentence saying what may be read."""
    return QueryRefused(
        f"{origin}: the SQL transform may read only FILE and the files in {base} (not the data "
        f"dir), and not write, attach or load anything: {_first_line(exc)}"
    )


# Settings given at connect time: extensions are neither fetched nor loaded, secrets are not
# read from ~/.duckdb, and nothing spills to a temp folder (".tmp" in the working directory).
CONNECT_CONFIG: dict[str, str | bool] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_persistent_secrets": False,
    "temp_directory": "",
}


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _glob_root(file: Path | None) -> list[Path]:
    """The folder a FILE glob (``exports/*.csv``) lists, or nothing for a plain file."""
    if file is None:
        return []
    parts = file.parts
    for i, part in enumerate(parts):
        if any(c in part for c in _GLOB):
            return [Path(*parts[:i])]
    return []


def _outside(folder: Path, private: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """``folder`` as (allowed directories, allowed files), leaving out each ``private`` folder
    inside it: DuckDB only allows by prefix, so the folders and files beside the way down to a
    private folder are listed one by one instead."""
    inside = [p for p in private if p == folder or folder in p.parents]
    if not inside:
        return [folder], []
    directories: list[Path] = []
    files: list[Path] = []
    for entry in _entries(folder):
        if entry.is_symlink():
            # DuckDB checks a path with its links resolved: a link beside the data dir that
            # points into it (or to /) would allow its target. What a link here points to inside
            # the folder is listed anyway, and outside it was never allowed.
            continue
        blocked = [p for p in inside if p == entry or entry in p.parents]
        if not blocked:
            (directories if entry.is_dir() else files).append(entry)
        elif entry.is_dir() and entry not in blocked:
            d, f = _outside(entry, blocked)
            directories += d
            files += f
    return directories, files


def _entries(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError:
        return []


__all__ = [
    "CONNECT_CONFIG",
    "QueryRefused",
    "anchor_paths",
    "bind_file",
    "lock_down",
    "one_select",
    "refusal",
]
