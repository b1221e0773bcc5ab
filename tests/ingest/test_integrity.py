"""Nothing silent, errors before writes: imports against the real embedded FalkorDB."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from graph.store import GraphStore
from ingest.crm import ImportRefused, ImportSummary, import_file
from ingest.mapping import ColumnMapping
from ingest.readers import ReadOptions
from tests.dead_letters import dead_letters
from tests.opened import opened


async def _counts(store: GraphStore) -> tuple[int, int]:
    nodes = await store.read("MATCH (n) RETURN count(n) AS n")
    rels = await store.read("MATCH ()-[r]->() RETURN count(r) AS n")
    return nodes[0]["n"], rels[0]["n"]


async def _import(store: GraphStore, kind: str, path: Path | None, **kw: object) -> ImportSummary:
    kw.setdefault("checkpoint_path", (path or Path("/tmp")).parent / "cp.json")
    return await import_file(store, kind, path, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("batch_size", [1, 2, 1000])
async def test_duplicate_keys_last_row_wins_whatever_the_batch_size(
    store: GraphStore, tmp_path: Path, batch_size: int
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(
        "id,name,occupation\nC1,first,teacher\nC2,other,\nC1,second,\nC1,third,pilot\n",
        encoding="utf-8",
    )
    summary = await _import(store, "customers", path, batch_size=batch_size)
    assert (summary.read, summary.inserted, summary.duplicates) == (4, 2, 2)
    rows = await store.read(
        "MATCH (c:Customer {id: 'C1'}) RETURN c.id AS id, c.name AS name, c.occupation AS o"
    )
    assert opened(store, rows) == [{"id": "C1", "name": "third", "o": "pilot"}]


async def test_missing_parents_are_dead_letters_unless_create_missing(
    store: GraphStore, tmp_path: Path
) -> None:
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("id,type,balance\nA1,SAVINGS,100\n", encoding="utf-8")
    await _import(store, "accounts", accounts)
    tx = tmp_path / "tx.csv"
    tx.write_text(
        "id,accountId,amount,time,kind\n"
        "T1,A1,5,2025-01-01T08:00:00Z,DEPOSIT\nT2,A404,5,2025-01-01T08:00:00Z,DEPOSIT\n",
        encoding="utf-8",
    )
    summary = await _import(store, "transactions", tx)
    assert (summary.inserted, summary.missing_parents, summary.rejected) == (1, 1, 1)
    (dead,) = dead_letters(tmp_path / "tx.dead.jsonl")
    assert dead["line"] == 3
    assert dead["reasons"] == [
        "accountId A404 not found: import accounts first (or pass --create-missing)"
    ]
    assert (await store.read("MATCH (a:Account {id: 'A404'}) RETURN count(a) AS n"))[0]["n"] == 0

    holdings = tmp_path / "holdings.csv"
    holdings.write_text("customerId,accountId,role\nC9,A1,JOINT\n", encoding="utf-8")
    refused = await _import(store, "holdings", holdings)
    assert (refused.missing_parents, refused.inserted) == (1, 0)
    assert dead_letters(tmp_path / "holdings.dead.jsonl")[0]["reasons"] == [
        "customerId C9 not found: import customers first (or pass --create-missing)"
    ]
    members = tmp_path / "households.csv"
    members.write_text("id,customerId,role\nH1,C9,HEAD\nH2,,\n", encoding="utf-8")
    household = await _import(store, "households", members)
    assert (household.missing_parents, household.inserted) == (1, 1)

    created = await _import(store, "transactions", tx, create_missing=True)
    assert (created.inserted, created.unchanged, created.missing_parents) == (1, 1, 0)
    assert not (tmp_path / "tx.dead.jsonl").exists()


async def test_inserted_updated_unchanged_and_dry_run(store: GraphStore, tmp_path: Path) -> None:
    advisors = tmp_path / "advisors.csv"
    advisors.write_text("id,name\nADV1,x\nADV2,y\n", encoding="utf-8")
    await _import(store, "advisors", advisors)
    path = tmp_path / "customers.csv"
    path.write_text("id,name,advisorId\nC1,a,ADV1\nC2,b,ADV1\nC3,c,\n", encoding="utf-8")
    first = await _import(store, "customers", path)
    assert (first.inserted, first.updated, first.unchanged) == (3, 0, 0)
    path.write_text("id,name,advisorId\nC1,a,ADV1\nC2,B,ADV1\nC3,c,ADV2\nC4,d,\n", encoding="utf-8")
    before = await _counts(store)
    dry = await _import(store, "customers", path, dry_run=True)
    assert (dry.dry_run, dry.inserted, dry.updated, dry.unchanged) == (True, 1, 2, 1)
    assert await _counts(store) == before
    second = await _import(store, "customers", path)
    assert (second.inserted, second.updated, second.unchanged) == (1, 2, 1)
    third = await _import(store, "customers", path)
    assert (third.inserted, third.updated, third.unchanged) == (0, 0, 4)
    assert third.to_dict()["imported"] == 4


async def test_unreadable_inputs_are_refused_before_anything_is_written(
    store: GraphStore, tmp_path: Path
) -> None:
    binary = tmp_path / "customers.csv"
    binary.write_bytes(os.urandom(4096))
    with pytest.raises(ImportRefused, match=r"^customers\.csv is not text"):
        await _import(store, "customers", binary)
    semicolons = tmp_path / "semi.csv"
    semicolons.write_text("id;name\nC1;a\n", encoding="utf-8")
    with pytest.raises(ImportRefused, match="give --delimiter") as info:
        await _import(store, "customers", semicolons, read_options=ReadOptions(delimiter=","))
    assert "has no id column" in str(info.value)
    with pytest.raises(ImportRefused, match="the SQL transform failed"):
        await _import(store, "customers", None, sql="SELECT * FROM read_csv('nowhere.csv')")
    assert await _counts(store) == (0, 0)
    assert not list(tmp_path.glob("*.dead.jsonl"))


async def test_bad_lines_later_are_dead_letters_and_the_rest_imports(
    store: GraphStore, tmp_path: Path
) -> None:
    path = tmp_path / "gbk.csv"
    good = [f"C{i:04d},客户{i}\n".encode("gbk") for i in range(1600)]
    bad = b"C9999,\xff\xfe\x80\n"
    giant = ("C8888," + "长" * 200_000 + "\n").encode("gbk")
    path.write_bytes(b"id,name\n" + b"".join(good[:1500]) + bad + giant + b"".join(good[1500:]))
    for _ in range(2):  # a re-run gives the same result
        summary = await _import(store, "customers", path, batch_size=1000)
        assert (summary.read, summary.rejected) == (1602, 2)
        assert summary.inserted + summary.unchanged == 1600
        dead = dead_letters(tmp_path / "gbk.dead.jsonl")
        assert [d["line"] for d in dead] == [1502, 1503]
        assert dead[0]["reasons"] == [
            "name: bytes that are not valid gb18030: re-export the file in one encoding"
        ]
        assert dead[1]["reasons"] == ["name: 200000 characters (limit 100000)"]
    (n,) = await store.read("MATCH (c:Customer) RETURN count(c) AS n")
    assert n["n"] == 1600


async def test_spreadsheet_parquet_and_semicolon_text_with_a_mapping(
    store: GraphStore, tmp_path: Path
) -> None:
    xlsx = tmp_path / "customers.xlsx"
    book = Workbook()
    book.active.append(["客户号", "姓名", "手机"])
    book.active.append([1001, "张伟", 13812345678])
    book.save(xlsx)
    mapping = tmp_path / "cn.toml"
    mapping.write_text('[columns]\n"客户号" = "id"\n"姓名" = "name"\n"手机" = "phone"\n', "utf-8")
    sheet = await _import(store, "customers", xlsx, mapping=ColumnMapping.load(mapping))
    assert sheet.inserted == 1

    parquet = tmp_path / "accounts.parquet"
    pq.write_table(pa.table({"id": ["A1"], "customerId": ["1001"], "balance": [10.5]}), parquet)
    assert (await _import(store, "accounts", parquet)).inserted == 1

    txt = tmp_path / "clients.txt"
    txt.write_text('"cislo";"jmeno";"narozen";"okres"\r\n"1002";"Jana";"700213";"18"\r\n', "utf-8")
    czech = tmp_path / "cz.toml"
    czech.write_text(
        '[source]\ndate_format = "%y%m%d"\n'
        '[columns]\n"cislo" = "id"\n"jmeno" = "name"\n"narozen" = "birthDate"\n',
        encoding="utf-8",
    )
    text = await _import(store, "customers", txt, mapping=ColumnMapping.load(czech))
    assert (text.inserted, text.ignored_columns) == (1, ["okres"])
    rows = await store.read(
        "MATCH (c:Customer) OPTIONAL MATCH (c)-[:OWNS]->(a:Account) "
        "RETURN c.id AS id, c.name AS name, c.phone AS phone, c.birthDate AS birthDate, "
        "a.balance AS balance ORDER BY id"
    )
    assert opened(store, rows) == [
        {
            "id": "1001",
            "name": "张伟",
            "phone": "+8613812345678",
            "birthDate": None,
            "balance": 10.5,
        },
        {"id": "1002", "name": "Jana", "phone": None, "birthDate": "1970-02-13", "balance": None},
    ]


async def test_sql_transform_joins_two_files(store: GraphStore, tmp_path: Path) -> None:
    (tmp_path / "ucty.csv").write_text("ucet;vlastnik\n1;K1\n2;K2\n", encoding="utf-8")
    (tmp_path / "pohyby.csv").write_text(
        "ucet;datum;zustatek\n1;930101;100\n1;930105;250.5\n2;930102;7\n", encoding="utf-8"
    )
    customers = tmp_path / "k.csv"
    customers.write_text("id\nK1\nK2\n", encoding="utf-8")
    await _import(store, "customers", customers)
    query = (
        "SELECT 'U' || u.ucet AS id, u.vlastnik AS customerId, 'SAVINGS' AS type, "
        "arg_max(p.zustatek, p.datum) AS balance, "
        "min(strptime(CAST(p.datum AS VARCHAR), '%y%m%d'))::DATE AS openedAt "
        "FROM read_csv('ucty.csv', delim=';') u JOIN read_csv('{file}', delim=';') p "
        "USING (ucet) GROUP BY ALL ORDER BY id"
    )
    cwd = Path.cwd()
    os.chdir(tmp_path)  # relative paths in --sql resolve against the working directory
    try:
        summary = await _import(store, "accounts", tmp_path / "pohyby.csv", sql=query)
    finally:
        os.chdir(cwd)
    assert (summary.read, summary.inserted, summary.source) == (2, 2, "DuckDB query, 2 rows")
    rows = await store.read(
        "MATCH (c:Customer)-[:OWNS]->(a:Account) "
        "RETURN c.id AS c, a.id AS a, a.balance AS b, a.openedAt AS opened ORDER BY a"
    )
    assert rows == [
        {"c": "K1", "a": "U1", "b": 250.5, "opened": "1993-01-01"},
        {"c": "K2", "a": "U2", "b": 7, "opened": "1993-01-02"},
    ]


async def test_money_and_times_a_bank_would_refuse_are_dead_letters(
    store: GraphStore, tmp_path: Path
) -> None:
    accounts = tmp_path / "acc.csv"
    accounts.write_text(
        "id,currency,balance\nA1,CNY,0.005\nA2,rmb,1.00\nA3,ZZZ,1\nA4,JPY,1200\nA5,KWD,0.125\n"
        "A6,CNY,1.005\n",
        encoding="utf-8",
    )
    done = await _import(store, "accounts", accounts)
    assert (done.inserted, done.rejected) == (3, 3)
    stored = await store.read(
        "MATCH (a:Account) RETURN a.id AS id, a.currency AS c, a.balance AS b ORDER BY id"
    )
    assert stored == [
        {"id": "A2", "c": "CNY", "b": 1.0},
        {"id": "A4", "c": "JPY", "b": 1200.0},
        {"id": "A5", "c": "KWD", "b": 0.125},
    ]
    tx = tmp_path / "tx.csv"
    tx.write_text(
        "id,accountId,amount,time,kind\nTF2,A2,5,2099-01-01,FEE\nTF3,A2,5,2099-01-01T00:00:00Z,FEE\n"
        "T4,A2,0.004,2025-01-01,FEE\nT5,A2,1.005,2025-01-01,FEE\nT6,A2,0.0000001,2025-01-01,FEE\n"
        "T7,A2,1.50,2025-01-01,FEE\n",
        encoding="utf-8",
    )
    done = await _import(store, "transactions", tx)
    assert (done.inserted, done.rejected) == (1, 5)
    dead = dead_letters(tmp_path / "tx.dead.jsonl")
    assert [(d["line"], d["reasons"][0].split(":")[0]) for d in dead] == [
        (2, "time"), (3, "time"), (4, "amount"), (5, "amount"), (6, "amount"),
    ]  # fmt: skip
    assert dead[0]["reasons"] == ["time: date is more than a day in the future"]
    (t7,) = await store.read("MATCH (t:Transaction) RETURN t.id AS id, t.amount AS amount")
    assert t7 == {"id": "T7", "amount": 1.5}
