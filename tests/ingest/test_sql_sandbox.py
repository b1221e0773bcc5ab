"""A SQL transform is one read-only query over FILE and the mapping's folder (QA, session 17):
stacked statements (``...; COPY ... TO``) wrote files even with --dry-run."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from ingest.readers import UnsupportedFile
from ingest.sql_sandbox import QueryRefused
from ingest.transform import QuerySource, run_query


@pytest.fixture
def workdir() -> Iterator[Path]:
    # Short: the data dir's unix socket lives under it.
    path = Path(tempfile.mkdtemp(prefix="c360q-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _rows(source: QuerySource) -> list[dict[str, object]]:
    try:
        return [r.data for r in source.records() if r.data is not None]
    finally:
        source.close()


def _advisors(folder: Path, name: str = "adv.csv") -> Path:
    path = folder / name
    path.write_text("id,name\nQADVY,Vendor\n", encoding="utf-8")
    return path


def test_a_mapping_that_stacks_a_copy_is_refused_and_writes_nothing(workdir: Path) -> None:
    """QA's first reproduction: a vendor mapping, --dry-run --json."""
    target = workdir / "out" / "pwn3.txt"
    target.parent.mkdir()
    vendor = workdir / "vendor"
    vendor.mkdir()
    mapping = vendor / "vendor.toml"
    mapping.write_text(
        '[sql]\nquery = """ SELECT id, name FROM read_csv(\'{file}\'); '
        f"COPY (SELECT 'written by a mapping' AS x) TO '{target}' (HEADER false) \"\"\"\n",
        encoding="utf-8",
    )
    adv = _advisors(workdir)
    env = {"C360_DATA_DIR": str(workdir / "d"), "COLUMNS": "200"}
    args = ["import", "advisors", str(adv), "-m", str(mapping), "--dry-run", "--json"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 2, result.output
    assert "vendor.toml: the SQL transform must be one query that only reads" in result.output
    assert "found: SELECT, COPY" in result.output
    assert not target.exists()


def test_sql_option_that_stacks_a_copy_is_refused_and_writes_nothing(workdir: Path) -> None:
    """QA's second reproduction: the same through --sql."""
    target = workdir / "pwn2.csv"
    adv = _advisors(workdir)
    sql = f"SELECT id, name FROM read_csv('{{file}}'); COPY (SELECT 1) TO '{target}'"
    env = {"C360_DATA_DIR": str(workdir / "d"), "COLUMNS": "200"}
    args = ["import", "advisors", str(adv), "--sql", sql, "--dry-run", "--json"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 2, result.output
    assert "--sql: the SQL transform must be one query that only reads" in result.output
    assert not target.exists()


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("COPY (SELECT 1 AS id) TO 'out.csv'", "COPY"),
        ("ATTACH 'other.db' AS o", "ATTACH"),
        ("INSTALL httpfs", "LOAD"),  # DuckDB parses INSTALL as a LOAD statement
        ("LOAD httpfs", "LOAD"),
        ("PRAGMA enable_profiling", "PRAGMA"),
        ("SET enable_external_access = true", "SET"),
        ("CALL pragma_version()", "CALL"),
        ("CREATE TABLE t AS SELECT 1 AS id", "CREATE"),
        ("SELECT 1 AS id; SELECT 2 AS id", "SELECT, SELECT"),
        ("-- nothing", "no statement"),
    ],
)
def test_anything_but_one_select_is_refused_before_it_runs(
    tmp_path: Path, query: str, kind: str
) -> None:
    with pytest.raises(QueryRefused, match=f"^m.toml: .*found: {kind}\\. Keep only the SELECT"):
        run_query(query, tmp_path / "m", tmp_path, None, origin="m.toml")
    assert list(tmp_path.iterdir()) == []


def test_with_select_and_a_trailing_semicolon_still_run(tmp_path: Path) -> None:
    adv = _advisors(tmp_path)
    query = "WITH a AS (SELECT * FROM read_csv({file})) SELECT id, name FROM a; -- done\n"
    assert _rows(run_query(query, adv, tmp_path, adv)) == [{"id": "QADVY", "name": "Vendor"}]


def test_files_outside_the_folder_and_file_are_not_read(tmp_path: Path) -> None:
    for query in (
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT content AS id FROM read_text('../outside.txt')",
        "SELECT * FROM glob('/etc/*')",
    ):
        with pytest.raises(QueryRefused, match=r"may read only FILE and the files in") as info:
            run_query(query, tmp_path / "m", tmp_path, None, origin="m.toml")
        assert "Cannot access file" in str(info.value)


def test_the_data_dir_inside_the_mapping_folder_is_not_read(tmp_path: Path) -> None:
    """DuckDB allows by folder prefix: the folders and files beside the data dir are allowed one
    by one, and the data dir (keys, policies) is not."""
    data = tmp_path / "data"
    (data / "keys").mkdir(parents=True)
    (data / "keys" / "name-tokens.key").write_text("secret\n", encoding="utf-8")
    (tmp_path / "exports").mkdir()
    _advisors(tmp_path / "exports", "more.csv")
    _advisors(tmp_path, "side.csv")
    (tmp_path / "link").symlink_to(data)  # links resolve: neither allows what it points to
    (tmp_path / "root").symlink_to("/")
    for query in (
        "SELECT content AS id FROM read_text('data/keys/name-tokens.key')",
        f"SELECT content AS id FROM read_text('{data}/keys/*')",
        "SELECT file AS id FROM glob('data/**')",
        "SELECT content AS id FROM read_text('link/keys/name-tokens.key')",
        "SELECT content AS id FROM read_text('root/etc/hostname')",
    ):
        with pytest.raises(QueryRefused, match="not the data dir"):
            run_query(query, tmp_path / "m", tmp_path, None, origin="m.toml", private=[data])
    beside = "SELECT * FROM read_csv('side.csv') UNION ALL SELECT * FROM 'exports/more.csv'"
    source = run_query(beside, tmp_path / "m", tmp_path, None, private=[data])
    assert [r["id"] for r in _rows(source)] == ["QADVY", "QADVY"]


def test_the_data_dir_is_not_read_through_the_cli(workdir: Path) -> None:
    """The import command names its data dir as private: a mapping beside it cannot read keys."""
    adv = _advisors(workdir)
    mapping = workdir / "m.toml"
    mapping.write_text(
        "[sql]\nquery = \"SELECT 'x' AS id, content AS name FROM read_text('d/keys/*')\"\n",
        encoding="utf-8",
    )
    env = {"C360_DATA_DIR": str(workdir / "d"), "COLUMNS": "200"}
    # A data dir in use: a first import made its keys (a dry run on a fresh one makes none).
    first = CliRunner().invoke(app, ["import", "advisors", str(adv), "--json"], env=env)
    assert first.exit_code == 0, first.output
    assert (workdir / "d" / "keys").is_dir()  # the keys are there to be read
    args = ["import", "advisors", str(adv), "-m", str(mapping), "--dry-run", "--json"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 2, result.output
    assert "m.toml: the SQL transform may read only FILE" in result.output


def test_a_file_name_with_a_quote_is_read_not_run(tmp_path: Path) -> None:
    """{file} is a quoted string: a name that would close the quote stays part of the name."""
    name = "x'; COPY (SELECT 1) TO 'pwn.csv' (HEADER false); SELECT '.csv"
    adv = _advisors(tmp_path, name)
    for query in ("SELECT * FROM read_csv('{file}')", "SELECT * FROM read_csv({file})"):
        source = run_query(query, adv, tmp_path, adv)
        assert _rows(source) == [{"id": "QADVY", "name": "Vendor"}]
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_a_file_name_with_a_quote_imports_through_the_cli(workdir: Path) -> None:
    adv = _advisors(workdir, "it's.csv")
    env = {"C360_DATA_DIR": str(workdir / "d"), "COLUMNS": "200"}
    sql = "SELECT id, name FROM read_csv('{file}')"
    args = ["import", "advisors", str(adv), "--sql", sql, "--json"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert (summary["read"], summary["inserted"], summary["rejected"]) == (1, 1, 0)


def test_file_placeholder_rules(tmp_path: Path) -> None:
    adv = _advisors(tmp_path)
    # In a comment it is left alone; in a longer string the path's quotes are doubled too.
    query = "-- reads {file}\nSELECT id, 'from {file}' AS name FROM read_csv('{file}')"
    assert _rows(run_query(query, adv, tmp_path, adv)) == [{"id": "QADVY", "name": f"from {adv}"}]
    with pytest.raises(QueryRefused, match="give the FILE argument"):
        run_query("SELECT * FROM read_csv('{file}')", tmp_path / "m", tmp_path, None)
    with pytest.raises(QueryRefused, match=r"may only stand alone or inside a '\.\.\.' string"):
        run_query('SELECT * FROM "{file}"', adv, tmp_path, adv)


def test_a_missing_file_is_still_a_plain_failure(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedFile, match="the SQL transform failed"):
        run_query("SELECT * FROM read_csv('nowhere.csv')", tmp_path / "m", tmp_path, None)


def test_the_lock_down_holds_for_a_statement_past_the_check(tmp_path: Path) -> None:
    """Behind the one-SELECT check: the connection itself cannot write outside the folder, load
    an extension, or be SET back."""
    import duckdb

    from ingest.sql_sandbox import CONNECT_CONFIG, lock_down

    outside = tmp_path / "outside"
    outside.mkdir()
    inside = tmp_path / "inside"
    inside.mkdir()
    connection = duckdb.connect(":memory:", config=dict(CONNECT_CONFIG))
    try:
        lock_down(connection, inside, None, [])
        with pytest.raises(duckdb.Error, match="configuration has been locked"):
            connection.execute("SET enable_external_access = true")
        with pytest.raises(duckdb.PermissionException):
            connection.execute(f"COPY (SELECT 1) TO '{outside / 'x.csv'}'")
        with pytest.raises(duckdb.PermissionException):
            connection.execute("LOAD httpfs")
    finally:
        connection.close()
    assert list(outside.iterdir()) == []


def test_a_transform_never_changes_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review, session 17: the transform ran with the mapping's folder as the process's working
    directory (os.chdir, process-wide: every other thread of a server moved with it). Seen from
    inside: the query reads a FIFO in the mapping's folder by a relative path, and the writer
    at its other end, let in only once DuckDB has opened it, notes the working directory then."""
    folder = tmp_path / "vendor"
    folder.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    feed = folder / "feed.csv"
    os.mkfifo(feed)
    monkeypatch.chdir(elsewhere)
    seen: list[str] = []

    def write() -> None:
        with feed.open("w", encoding="utf-8") as out:  # returns once DuckDB reads the FIFO
            seen.append(os.getcwd())
            out.write("id,name\nQADVY,Vendor\n")

    writer = threading.Thread(target=write)
    writer.start()
    try:
        source = run_query("SELECT id, name FROM read_csv('feed.csv')", folder / "m", folder, None)
        assert _rows(source) == [{"id": "QADVY", "name": "Vendor"}]
    finally:
        if writer.is_alive():  # the query never opened the FIFO: let the writer go
            reader = os.open(feed, os.O_RDONLY | os.O_NONBLOCK)
            writer.join()
            os.close(reader)
        writer.join()
    assert seen == [str(elsewhere.resolve())]
    assert os.getcwd() == str(elsewhere.resolve())


@pytest.mark.parametrize(
    "query",
    [
        "SELECT id, name FROM read_csv('adv.csv')",
        "SELECT id, name FROM 'adv.csv'",
        "FROM read_csv(['adv.csv', 'sub/more.csv'], union_by_name = true) SELECT id, name",
        "SELECT id, name FROM read_csv('sub/*.csv') UNION ALL SELECT id, name FROM 'adv.csv'",
        "SELECT '客户' AS n, id, name FROM read_csv_auto('./adv.csv')",
    ],
)
def test_relative_paths_mean_the_mapping_folder_wherever_the_process_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    folder = tmp_path / "vendor"
    (folder / "sub").mkdir(parents=True)
    _advisors(folder)
    _advisors(folder / "sub", "more.csv")
    # The same names where the process runs, holding other rows: never read.
    decoy = tmp_path / "elsewhere"
    (decoy / "sub").mkdir(parents=True)
    for name in ("adv.csv", "sub/more.csv"):
        (decoy / name).write_text("id,name\nDECOY,Decoy\n", encoding="utf-8")
    monkeypatch.chdir(decoy)
    rows = _rows(run_query(query, folder / "m", folder, None))
    assert rows and {(r["id"], r["name"]) for r in rows} == {("QADVY", "Vendor")}


@pytest.mark.parametrize("placeholder", ["{file}", "'{file}'"])
def test_file_is_bound_after_chinese_text(tmp_path: Path, placeholder: str) -> None:
    """DuckDB's tokenizer counts bytes: with Chinese text before it (a vendor's CASE over 男/女),
    {file} was looked for at the wrong place and left in the query unbound."""
    adv = _advisors(tmp_path)
    query = f"SELECT id, CASE WHEN id <> '男' THEN '客户' END AS name FROM read_csv({placeholder})"
    assert _rows(run_query(query, adv, tmp_path, adv)) == [{"id": "QADVY", "name": "客户"}]
