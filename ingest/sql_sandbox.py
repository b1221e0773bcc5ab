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
  (``temp_directory`` is empty), and ``lock_configuration`` so the query cannot undo any of it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ingest.readers import UnsupportedFile

_PLACEHOLDER = "{file}"
_GLOB = "*?["
# DuckDB resolves a relative path against the process's working directory when it checks the
# allowed directories (file_search_path is consulted only later, to open it): the query runs
# with the mapping's folder as working directory, one query at a time.
_CWD_LOCK = threading.Lock()


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
    ends = [pos for pos, _ in tokens[1:]] + [len(query)]
    path = str(file).replace("'", "''") if file is not None else ""
    out: list[str] = []
    done = 0
    for (pos, kind), end in zip(tokens, ends, strict=True):
        piece = query[pos:end]
        if _PLACEHOLDER not in piece and not query.startswith(_PLACEHOLDER, pos):
            continue
        if kind == duckdb.token_type.comment:
            continue
        if file is None:
            raise QueryRefused(f"{origin}: the query uses {{file}}: give the FILE argument")
        if kind == duckdb.token_type.string_const and piece.startswith("'"):
            out += [query[done:pos], piece.replace(_PLACEHOLDER, path)]
            done = end
        elif kind == duckdb.token_type.operator and query.startswith(_PLACEHOLDER, pos):
            out += [query[done:pos], f"'{path}'"]
            done = pos + len(_PLACEHOLDER)
        else:
            raise QueryRefused(
                f"{origin}: {{file}} may only stand alone or inside a '...' string "
                "(read_csv({file}) or read_csv('{file}'))"
            )
    return "".join(out) + query[done:]


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


@contextmanager
def working_directory(folder: Path) -> Iterator[None]:
    """Run with ``folder`` as working directory (relative paths in the query mean the
    mapping's folder, which is also what the lock-down checks them against)."""
    with _CWD_LOCK:
        before = os.getcwd()
        os.chdir(folder)
        try:
            yield
        finally:
            os.chdir(before)


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
    "bind_file",
    "lock_down",
    "one_select",
    "refusal",
    "working_directory",
]
