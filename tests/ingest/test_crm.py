"""CRM import against the real embedded FalkorDB: dead letters, idempotence, mapping, resume."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

from graph.store import GraphStore, Row
from ingest.checkpoint import Checkpoint
from ingest.crm import (
    KINDS,
    ImportInterrupted,
    ImportKind,
    ImportRefused,
    checkpoint_key,
    import_file,
)
from ingest.mapping import ColumnMapping
from ingest.records import ImportRecord
from tests.opened import opened

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "crm"


async def _counts(store: GraphStore) -> tuple[int, int]:
    nodes = await store.read("MATCH (n) RETURN count(n) AS n")
    rels = await store.read("MATCH ()-[r]->() RETURN count(r) AS n")
    return nodes[0]["n"], rels[0]["n"]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    shutil.copytree(EXAMPLES, tmp_path / "crm")
    return tmp_path / "crm"


async def test_valid_rows_land_bad_rows_dead_lettered_rerun_adds_nothing(
    store: GraphStore, files: Path, tmp_path: Path
) -> None:
    cp = tmp_path / "cp.json"
    path = files / "customers.csv"
    await import_file(store, "advisors", files / "advisors.csv")  # the customers' advisors
    summary = await import_file(store, "customers", path, checkpoint_path=cp)
    assert (summary.read, summary.imported, summary.rejected) == (5, 3, 2)
    assert summary.dead_letter_path == files / "customers.dead.jsonl"

    rows = opened(
        store,
        await store.read(
            "MATCH (c:Customer) OPTIONAL MATCH (c)-[:MANAGED_BY]->(a:Advisor) "
            "RETURN c.id AS id, c.phone AS phone, c.gender AS gender, c.birthDate AS birthDate, "
            "c.consentMarketing AS mkt, c.createdAt AS created, a.id AS advisor ORDER BY id"
        ),
    )
    assert [r["id"] for r in rows] == ["C900001", "C900002", "C900003"]
    assert rows[0] == {
        "id": "C900001",
        "phone": "+8613812345678",
        "gender": "M",
        "birthDate": "1985-03-12",
        "mkt": True,
        "created": "2019-06-01T01:30:00Z",
        "advisor": "ADV-EX1",
    }
    assert rows[2]["birthDate"] == "1978-11-20"  # taken from the ID when the column is empty

    dead = [orjson.loads(x) for x in summary.dead_letter_path.read_bytes().splitlines()]
    assert [(d["line"], d["raw"]["id"]) for d in dead] == [(5, "C900004"), (6, "C900005")]
    assert dead[0]["reasons"] == ["phone: not a valid CN mobile or landline number"]
    assert dead[1]["reasons"] == ["idNumber: ID number check digit does not match (GB 11643)"]
    assert "330106198802285670" not in str(dead[1]["reasons"])

    before = await _counts(store)
    again = await import_file(store, "customers", path, checkpoint_path=cp)
    assert (again.imported, again.rejected) == (3, 2)
    assert await _counts(store) == before
    assert not cp.exists() or Checkpoint(cp).get(checkpoint_key("customers", path)) is None


async def test_every_example_kind_imports(store: GraphStore, files: Path, tmp_path: Path) -> None:
    cp = tmp_path / "cp.json"
    order = [
        ("advisors", "advisors.csv"),
        ("customers", "customers.csv"),
        ("accounts", "accounts.csv"),
        ("holdings", "holdings.csv"),
        ("households", "households.csv"),
        ("transactions", "transactions.jsonl"),
        ("interactions", "interactions.jsonl"),
    ]
    for kind, name in order:
        summary = await import_file(store, kind, files / name, checkpoint_path=cp)
        assert summary.imported > 0, kind
    (joint,) = await store.read(
        "MATCH (c:Customer)-[o:OWNS]->(a:Account {id: 'A900001'}) WHERE o.role = 'JOINT' "
        "RETURN c.id AS id"
    )
    assert joint["id"] == "C900002"
    members = await store.read(
        "MATCH (c:Customer)-[m:MEMBER_OF]->(:Household {id: 'H900001'}) "
        "RETURN c.id AS id, m.role AS role ORDER BY id"
    )
    assert members == [{"id": "C900001", "role": "HEAD"}, {"id": "C900002", "role": "SPOUSE"}]
    (tx,) = await store.read(
        "MATCH (:Account {id: 'A900001'})-[:HAS_TRANSACTION]->(t:Transaction {id: 'T900002'}) "
        "RETURN t.time AS time, t.currency AS currency"
    )
    assert tx == {"time": "2025-01-12T12:15:00Z", "currency": "CNY"}
    (branch,) = await store.read(
        "MATCH (:Advisor {id: 'ADV-EX2'})-[:WORKS_AT]->(b:Branch) RETURN b.city AS city"
    )
    assert branch["city"] == "深圳"
    (about,) = await store.read(
        "MATCH (:Customer {id: 'C900001'})-[:HAD]->(i:Interaction)-[:ABOUT]->(p:Product) "
        "RETURN i.satisfaction AS s, i.resolved AS resolved, p.code AS code"
    )
    assert about == {"s": 2, "resolved": False, "code": "CC-PLAT"}


async def test_omitted_columns_do_not_erase_stored_values(
    store: GraphStore, files: Path, tmp_path: Path
) -> None:
    cp = tmp_path / "cp.json"
    await import_file(store, "advisors", files / "advisors.csv")
    await import_file(store, "customers", files / "customers.csv", checkpoint_path=cp)
    partial = files / "phones.csv"
    partial.write_text("id,phone\nC900001,13900000000\n", encoding="utf-8")
    await import_file(store, "customers", partial, checkpoint_path=cp)
    (row,) = opened(
        store,
        await store.read(
            "MATCH (c:Customer {id: 'C900001'}) RETURN c.id AS id, c.phone AS phone, "
            "c.name AS name, c.idNumber AS idNumber"
        ),
    )
    assert row == {
        "id": "C900001",
        "phone": "+8613900000000",
        "name": "张伟",
        "idNumber": "110105198503121234",
    }


async def test_mapping_imports_foreign_export(
    store: GraphStore, files: Path, tmp_path: Path
) -> None:
    mapping = ColumnMapping.load(files / "legacy_customers.toml")
    summary = await import_file(
        store,
        "customers",
        files / "legacy_customers.csv",
        mapping,
        checkpoint_path=tmp_path / "cp.json",
    )
    assert (summary.imported, summary.rejected) == (2, 0)
    rows = opened(
        store,
        await store.read(
            "MATCH (c:Customer) RETURN c.id AS id, c.name AS name, c.gender AS g, "
            "c.phone AS phone, c.riskProfile AS risk, c.consentMarketing AS mkt, "
            "c.consentDataSharing AS share ORDER BY id"
        ),
    )
    assert rows == [
        {"id": "L0001", "name": "孙丽", "g": "F", "phone": "+8613812345678", "risk": "稳健",
         "mkt": True, "share": False},
        {"id": "L0002", "name": "周杰", "g": "M", "phone": "+8613912345678", "risk": "激进",
         "mkt": False, "share": False},
    ]  # fmt: skip


async def test_unsupported_and_keyless_files_are_refused_before_writing(
    store: GraphStore, tmp_path: Path
) -> None:
    cp = tmp_path / "cp.json"
    xlsx = tmp_path / "customers.xlsx"
    xlsx.write_bytes(b"PK\x03\x04")
    with pytest.raises(ImportRefused, match=r"customers\.xlsx is not a readable spreadsheet"):
        await import_file(store, "customers", xlsx, checkpoint_path=cp)

    keyless = tmp_path / "people.csv"
    keyless.write_text("客户号,name\nC1,张三\n", encoding="utf-8")
    with pytest.raises(ImportRefused, match=r"people\.csv has no id column for customers"):
        await import_file(store, "customers", keyless, checkpoint_path=cp)

    jsonl = tmp_path / "tx.jsonl"
    jsonl.write_text('{"id": "T1", "amount": 3}\n', encoding="utf-8")
    with pytest.raises(ImportRefused, match="no accountId column for transactions"):
        await import_file(store, "transactions", jsonl, checkpoint_path=cp)

    with pytest.raises(ImportRefused, match="unknown import kind"):
        await import_file(store, "planets", keyless, checkpoint_path=cp)
    assert await _counts(store) == (0, 0)
    assert not (tmp_path / "people.dead.jsonl").exists()


async def test_malformed_jsonl_lines_are_dead_lettered(store: GraphStore, tmp_path: Path) -> None:
    path = tmp_path / "accounts.jsonl"
    path.write_text(
        '{"id": "A1", "type": "savings", "balance": "100"}\n{oops\n{"id": "A2", "type": "GOLD"}\n',
        encoding="utf-8",
    )
    summary = await import_file(store, "accounts", path, checkpoint_path=tmp_path / "cp.json")
    assert (summary.read, summary.imported, summary.rejected) == (3, 1, 2)
    dead = [orjson.loads(x) for x in (tmp_path / "accounts.dead.jsonl").read_bytes().splitlines()]
    assert [d["line"] for d in dead] == [2, 3]
    assert dead[0]["reasons"][0].startswith("not valid JSON")
    assert dead[1]["reasons"][0].startswith("type: Input should be 'SAVINGS'")


# A real graph failure: the graph rejects "100 / gate.open" while the Gate node's open is 0
# (FalkorDB: "Division by zero", the whole batch rolled back). Opening the gate is the "fix".
class GatedRecord(ImportRecord):
    id: str
    gated: bool = False

    def to_graph_row(self) -> Row:
        return {"id": self.id, "gated": self.gated}


async def upsert_gated(store: GraphStore, rows: list[Row]) -> int:
    result = await store.write(
        """
        UNWIND $rows AS r
        MERGE (c:Customer {id: r.id})
        SET c.writes = coalesce(c.writes, 0) + 1
        WITH c, r
        CALL {
            WITH c, r
            WITH c, r WHERE r.gated
            MATCH (g:Gate)
            SET c.ratio = 100 / g.open
            RETURN count(*) AS gated
        }
        RETURN count(c) AS n
        """,
        {"rows": rows},
    )
    return int(result[0]["n"])


async def test_crash_mid_import_resumes_from_checkpoint(store: GraphStore, tmp_path: Path) -> None:
    kinds = {**KINDS, "gated": ImportKind(GatedRecord, upsert_gated)}
    cp = tmp_path / "cp.json"
    path = tmp_path / "gated.csv"
    lines = ["id,gated"] + [f"G{i:03d},{'true' if i == 25 else 'false'}" for i in range(40)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    await store.write("CREATE (:Gate {open: 0})")

    with pytest.raises(ImportInterrupted, match="after 20 records") as info:
        await import_file(store, "gated", path, batch_size=10,
                          checkpoint_path=cp, kinds=kinds)  # fmt: skip
    assert info.value.committed == 20
    # The line too: a resumed run keeps the dead letters up to it (ingest.deadletter).
    # And the options the rows were read with: a re-run with others does not resume.
    state = Checkpoint(cp).get(checkpoint_key("gated", path))
    assert (state["committed"], state["line"], state["options"]["--encoding"]) == (20, 21, None)
    (n,) = await store.read("MATCH (c:Customer) RETURN count(c) AS n")
    assert n["n"] == 20

    await store.write("MATCH (g:Gate) SET g.open = 4")
    # Another batch size on the resume: the checkpoint boundary still holds.
    summary = await import_file(store, "gated", path, batch_size=7,
                                checkpoint_path=cp, kinds=kinds)  # fmt: skip
    assert (summary.read, summary.imported, summary.resumed_after) == (40, 40, 20)
    writes = await store.read("MATCH (c:Customer) RETURN c.writes AS w, count(c) AS n")
    assert writes == [{"w": 1, "n": 40}]  # every record written exactly once across both runs
    assert Checkpoint(cp).get(checkpoint_key("gated", path)) is None
