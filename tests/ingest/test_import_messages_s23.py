"""Session 23 QA: the import's failures say what to do next. A graph failure met by a batch's
lookup (not the writer: the graph server was killed while the import read ahead) stops the
import as ImportInterrupted, with what was committed and how to resume."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import orjson
import pytest

from graph.embedded import EmbeddedFalkorDB
from graph.errors import GraphQueryError, GraphUnavailable
from graph.falkordb import FalkorDBStore
from graph.repositories.imports import Found, lookup_customers
from graph.store import GraphStore, Row
from ingest.checkpoint import Checkpoint
from ingest.crm import ImportInterrupted, ImportKind, checkpoint_key, import_file
from ingest.mapping import ColumnMapping
from ingest.readers import UnsupportedFile
from ingest.social.terms import read_terms
from ingest.sources import open_input, resume_key
from ingest.transform import run_query
from shared.records import PARENTHESIZED_AMOUNT, SPACED_AMOUNT
from tests.ingest.test_pipelined_writer import GatedRecord

# A query the graph rejects, whatever the moment: 100 / 0 makes FalkorDB refuse it.
FAILING_READ = "MATCH (g:Gate) RETURN 100 / g.open AS ratio"


class FailingImport:
    """Looks batches up and writes them for real; at the batch of ``fail_at`` (its first id),
    in ``stage`` ("lookup" or "write"), first waits until the batches before it are committed,
    then meets a graph failure: ``outage`` stops the graph server (as a server killed
    mid-import), else the graph rejects a query (FAILING_READ)."""

    def __init__(
        self, fail_at: str | None, checkpoint: Path, key: str, stage: str = "lookup",
        outage: EmbeddedFalkorDB | None = None,
    ) -> None:  # fmt: skip
        self.fail_at, self.checkpoint, self.key = fail_at, checkpoint, key
        self.stage, self.outage = stage, outage

    async def _fail(self, store: GraphStore, rows: list[Row], stage: str) -> None:
        if rows[0]["id"] != self.fail_at or stage != self.stage:
            return
        for _ in range(300):
            if (Checkpoint(self.checkpoint).get(self.key) or {}).get("committed") == 40:
                break
            await asyncio.sleep(0.05)
        if self.outage is not None:
            await asyncio.to_thread(self.outage.stop)  # SIGTERM to the graph server
        else:
            await store.read(FAILING_READ)

    async def lookup(self, store: GraphStore, rows: list[Row]) -> list[Found]:
        await self._fail(store, rows, "lookup")
        return await lookup_customers(store, rows)

    async def upsert(self, store: GraphStore, rows: list[Row]) -> int:
        await self._fail(store, rows, "write")
        result = await store.write(
            "UNWIND $rows AS r MERGE (c:Customer {id: r.id}) SET c += r.props RETURN count(c) AS n",
            {"rows": rows},
        )
        return int(result[0]["n"])

    def kinds(self) -> dict[str, ImportKind]:
        return {"gated": ImportKind(GatedRecord, self.upsert, lookup=self.lookup)}


def _gated(folder: Path) -> tuple[Path, Path, str]:
    path = folder / "gated.csv"
    path.write_text("id,tag\n" + "".join(f"G{i:03d},a\n" for i in range(60)), encoding="utf-8")
    return folder / "cp.json", path, checkpoint_key("gated", path)


@pytest.mark.parametrize("stage", ["lookup", "write"])
async def test_a_graph_outage_is_an_interrupted_import_that_resumes(
    short_dir: Path, stage: str
) -> None:
    cp, path, key = _gated(short_dir)
    embedded = EmbeddedFalkorDB(short_dir / "graph")
    store = await asyncio.to_thread(FalkorDBStore.embedded, embedded)
    try:
        failing = FailingImport("G040", cp, key, stage, outage=embedded)
        with pytest.raises(ImportInterrupted) as info:
            await import_file(store, "gated", path, batch_size=10, checkpoint_path=cp,
                              kinds=failing.kinds())  # fmt: skip
    finally:
        await store.close()
    message = str(info.value)
    # One wording whichever stage met it first (README: "importing big4.csv was interrupted").
    assert message.startswith("importing gated.csv was interrupted after 40 records were committed")
    assert message.endswith("run the same command again to resume from there")
    assert isinstance(info.value.__cause__, GraphUnavailable), info.value.__cause__
    assert info.value.committed == 40
    assert Checkpoint(cp).get(key).items() >= {"committed": 40, "line": 41}.items()

    # The server back (a new start on the same files): the same command resumes.
    store = await asyncio.to_thread(FalkorDBStore.embedded, EmbeddedFalkorDB(short_dir / "graph"))
    try:
        summary = await import_file(store, "gated", path, batch_size=10, checkpoint_path=cp,
                                    kinds=FailingImport(None, cp, key).kinds())  # fmt: skip
        assert (summary.resumed_after, summary.inserted) == (40, 20)
        assert await store.read("MATCH (c:Customer) RETURN count(c) AS n") == [{"n": 60}]
    finally:
        await store.close()


async def test_a_query_the_graph_rejects_in_a_lookup_is_said_as_it_is(
    store: GraphStore, tmp_path: Path
) -> None:
    # Not "interrupted ... run the same command again": a re-run meets the same rejection.
    cp, path, key = _gated(tmp_path)
    await store.write("CREATE (:Gate {open: 0})")
    with pytest.raises(GraphQueryError) as info:
        await import_file(store, "gated", path, batch_size=10, checkpoint_path=cp,
                          kinds=FailingImport("G040", cp, key).kinds())  # fmt: skip
    assert not isinstance(info.value, ImportInterrupted)
    assert "division by zero" in str(info.value).lower(), info.value
    # What was written stays.
    assert Checkpoint(cp).get(key).items() >= {"committed": 40, "line": 41}.items()


def _dead(path: Path) -> list[tuple[int, list[str]]]:
    if not path.exists():
        return []
    return [(d["line"], d["reasons"]) for d in map(orjson.loads, path.read_bytes().splitlines())]


async def test_spaced_and_parenthesized_amounts_say_what_to_do(
    store: GraphStore, tmp_path: Path
) -> None:
    await store.write("CREATE (:Customer {id: 'C1'})")
    path = tmp_path / "accounts.csv"
    path.write_text(
        "id,customerId,balance\n"
        'A1,C1,"1 234.50"\n'
        'A2,C1,"1 000"\n'
        'A3,C1,"¥1 234,50"\n'
        'A4,C1,"(12.00)"\n'
        "A5,C1,1\u00a0234.50\n"  # a no-break space, as spreadsheets write it
        "A6,C1,12.5\n",
        encoding="utf-8",
    )
    summary = await import_file(store, "accounts", path)
    assert (summary.inserted, summary.rejected) == (1, 5)
    spaced, parens = [f"balance: {SPACED_AMOUNT}"], [f"balance: {PARENTHESIZED_AMOUNT}"]
    assert _dead(tmp_path / "accounts.dead.jsonl") == [
        (2, spaced), (3, spaced), (4, spaced), (5, parens), (6, spaced)
    ]  # fmt: skip
    assert "--decimal" in SPACED_AMOUNT and "-12.00" in PARENTHESIZED_AMOUNT

    # Declared, the spaced ones are read; parentheses are not, whatever the mark.
    (tmp_path / "accounts.dead.jsonl").unlink()
    await store.clear()
    await store.write("CREATE (:Customer {id: 'C1'})")
    summary = await import_file(store, "accounts", path, ColumnMapping.identity().with_decimal("."))
    rows = await store.read("MATCH (a:Account) RETURN a.id AS id, a.balance AS b ORDER BY id")
    assert {r["id"]: r["b"] for r in rows} == {"A1": 1234.5, "A2": 1000, "A5": 1234.5, "A6": 12.5}
    assert _dead(tmp_path / "accounts.dead.jsonl") == [
        (4, ["balance: not an amount with the decimal mark '.' (e.g. 1,234.56)"]),
        (5, parens),
    ]


GBK_CUSTOMERS = "客户号,姓名\nG1,张三\nG2,李四\n"
SQL_MAPPING = (
    '[source]\nencoding = "gb18030"\n\n'
    '[sql]\nquery = """SELECT "客户号" AS id, "姓名" AS name FROM read_csv(\'{file}\')"""\n'
)


async def test_a_sql_transform_reads_its_file_in_the_mapping_encoding(
    store: GraphStore, tmp_path: Path
) -> None:
    data = tmp_path / "gbk.csv"
    data.write_bytes(GBK_CUSTOMERS.encode("gb18030"))
    (tmp_path / "map.toml").write_text(SQL_MAPPING, encoding="utf-8")
    before = set(Path(tempfile.gettempdir()).glob("c360-sql-*"))
    cp = tmp_path / "cp.json"
    mapping = ColumnMapping.load(tmp_path / "map.toml")
    summary = await import_file(store, "customers", data, mapping, checkpoint_path=cp)
    assert (summary.inserted, summary.rejected) == (2, 0)
    rows = await store.read("MATCH (c:Customer) RETURN c.id AS id, c.name AS name ORDER BY id")
    assert rows == [{"id": "G1", "name": "张三"}, {"id": "G2", "name": "李四"}]
    assert set(Path(tempfile.gettempdir()).glob("c360-sql-*")) == before  # the copy is gone
    # The same file again is the same input (the checkpoint key names it, not its copy).
    source = open_input(data, mapping, mapping.read_options(), None)
    again = open_input(data, mapping, mapping.read_options(), None)
    try:
        assert resume_key("customers", source) == resume_key("customers", again)
    finally:
        source.close()
        again.close()


def test_a_sql_transform_over_a_file_that_is_not_utf8_says_what_to_do(tmp_path: Path) -> None:
    data = tmp_path / "gbk.csv"
    data.write_bytes(GBK_CUSTOMERS.encode("gb18030"))
    query = "SELECT \"客户号\" AS id FROM read_csv('{file}')"
    with pytest.raises(UnsupportedFile) as info:
        run_query(query, data, tmp_path, data)
    message = str(info.value)
    assert "(gbk.csv is not UTF-8, the only encoding DuckDB reads)" in message, message
    assert "--encoding" in message and "iconv -f GB18030 -t UTF-8 gbk.csv" in message, message
    # A file the query names itself is named: only converting it helps.
    other = tmp_path / "other.csv"
    other.write_bytes(GBK_CUSTOMERS.encode("gb18030"))
    with pytest.raises(UnsupportedFile) as info:
        run_query("SELECT * FROM read_csv('other.csv')", data, tmp_path, None)
    assert "(other.csv is not UTF-8" in str(info.value), info.value
    assert "iconv -f GB18030 -t UTF-8 other.csv" in str(info.value), info.value
    with pytest.raises(UnsupportedFile, match=r"gbk\.csv is not utf-16 text"):
        run_query(query, data, tmp_path, data, encoding="utf-16")


def test_a_ragged_ascii_file_gets_duckdbs_own_error_not_the_encoding_advice(
    tmp_path: Path,
) -> None:
    # Every CSV sniffing error says "Encoding: utf-8": that is no sign the file is not UTF-8.
    data = tmp_path / "bad.csv"
    data.write_text('a,b\n1,2\n3,4,5,6\n"x\n', encoding="ascii")
    query = "SELECT * FROM read_csv('{file}', columns={'a':'INT','b':'INT'}, header=true)"
    with pytest.raises(UnsupportedFile) as info:
        run_query(query, data, tmp_path, data)
    message = str(info.value)
    assert message.startswith("the SQL transform failed: Invalid Input Error: Error when sniff")
    assert "not UTF-8" not in message and "iconv" not in message, message
    # Named by the query itself, the same.
    with pytest.raises(UnsupportedFile) as info:
        run_query(query.replace("{file}", "bad.csv"), data, tmp_path, None)
    assert "not UTF-8" not in str(info.value) and "iconv" not in str(info.value), info.value


def test_a_mapping_saved_with_a_bom_loads(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + '[columns]\n"客户号" = "id"\n'.encode())
    assert ColumnMapping.load(path).target("客户号") == "id"


def test_a_terms_file_saved_with_a_bom_loads(tmp_path: Path) -> None:
    path = tmp_path / "terms.toml"
    path.write_bytes(b"\xef\xbb\xbf" + '[brands]\n"招商银行" = ["招行"]\n'.encode())
    assert read_terms(path)["brands"] == {"招商银行": ["招行"]}
