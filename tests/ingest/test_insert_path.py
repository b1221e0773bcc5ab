"""The import's insert path for transactions (graph/repositories/accounts.insert_transactions:
a guarded CREATE for rows the lookup found absent) against the real embedded FalkorDB: a batch
written twice, or by two writers at once, leaves one node and one edge per id with the values
given; rows it cannot create are upserted; a re-run of an import is unchanged."""

from __future__ import annotations

import asyncio
from pathlib import Path

from graph.repositories.accounts import insert_transactions, upsert_accounts
from graph.repositories.imports import KNOWN_PARENTS, lookup_transactions
from graph.store import GraphStore, Row
from ingest.crm import import_file


def _rows(n: int, amount: float = 10.0, account: str = "IA1") -> list[Row]:
    return [
        {
            "id": f"IT{i:04d}",
            "accountId": account,
            "props": {"amount": amount + i, "currency": "CNY", "time": "2024-03-01T08:00:00Z",
                      "kind": "DEPOSIT"},
        }
        for i in range(n)
    ]  # fmt: skip


async def _stored(store: GraphStore) -> tuple[int, int, int, list[float]]:
    (row,) = await store.read(
        "MATCH (t:Transaction) RETURN count(t) AS n, count(DISTINCT t.id) AS ids, "
        "collect(t.amount) AS amounts"
    )
    (rels,) = await store.read("MATCH (:Account)-[r:HAS_TRANSACTION]->() RETURN count(r) AS n")
    return row["n"], row["ids"], rels["n"], sorted(row["amounts"])


async def test_a_batch_written_twice_or_at_once_leaves_one_node_per_id(store: GraphStore) -> None:
    await upsert_accounts(store, [{"id": "IA1", "props": {"type": "SAVINGS"}}])
    assert await insert_transactions(store, _rows(50)) == 50
    stored = await _stored(store)
    assert stored[:3] == (50, 50, 50)
    (props,) = await store.read("MATCH (t:Transaction {id: 'IT0003'}) RETURN properties(t) AS p")
    # Not given (channel, description): not set, as with the MERGE upsert.
    assert props["p"] == {"id": "IT0003", "accountId": "IA1", "amount": 13.0, "currency": "CNY",
                          "time": "2024-03-01T08:00:00Z", "kind": "DEPOSIT"}  # fmt: skip

    # Written again (a retried write that had landed) with other values: they land, no copies.
    await insert_transactions(store, _rows(50, amount=500.0))
    assert await _stored(store) == (50, 50, 50, [500.0 + i for i in range(50)])

    # Two writers with the same new ids at once: FalkorDB runs the writes one after the other,
    # and the second finds the first's nodes.
    await asyncio.gather(
        insert_transactions(store, _rows(80)), insert_transactions(store, _rows(80))
    )
    assert (await _stored(store))[:3] == (80, 80, 80)


async def test_rows_it_cannot_create_are_upserted(store: GraphStore) -> None:
    # No account yet (an import with --create-missing): the MERGE creates it and the edge.
    await insert_transactions(store, _rows(3, account="IA9"))
    (row,) = await store.read(
        "MATCH (a:Account {id: 'IA9'})-[:HAS_TRANSACTION]->(t:Transaction) RETURN count(t) AS n"
    )
    assert row["n"] == 3
    # A property the CREATE does not name still lands (the batch goes to the MERGE).
    rows = _rows(2, account="IA9")
    rows[1]["props"]["note"] = "kept"
    await insert_transactions(store, rows)
    (note,) = await store.read("MATCH (t:Transaction {id: 'IT0001'}) RETURN t.note AS note")
    assert note["note"] == "kept"
    assert (await _stored(store))[:3] == (3, 3, 3)


async def test_an_import_rerun_and_an_edited_file(store: GraphStore, tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("id,type\n" + "".join(f"IA{i},SAVINGS\n" for i in range(7)))
    await import_file(store, "accounts", accounts)
    tx = tmp_path / "tx.csv"
    lines = [f"IT{i:04d},IA{i % 7},{i + 1}.5,2024-03-01T08:00:00Z,FEE" for i in range(300)]
    tx.write_text("id,accountId,amount,time,kind\n" + "\n".join(lines) + "\n")

    first = await import_file(store, "transactions", tx, batch_size=64)
    assert (first.inserted, first.updated, first.unchanged) == (300, 0, 0)
    again = await import_file(store, "transactions", tx, batch_size=64)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 300)
    assert (await _stored(store))[:3] == (300, 300, 300)

    # Ten rows edited, ten new: the new ones are created, the edited ones updated.
    lines[:10] = [line.replace(",FEE", ",DEPOSIT") for line in lines[:10]]
    lines += [f"IT{i:04d},IA1,2.5,2024-03-01T08:00:00Z,FEE" for i in range(300, 310)]
    tx.write_text("id,accountId,amount,time,kind\n" + "\n".join(lines) + "\n")
    edited = await import_file(store, "transactions", tx, batch_size=64)
    assert (edited.inserted, edited.updated, edited.unchanged) == (10, 10, 290)
    assert (await _stored(store))[:3] == (310, 310, 310)
    (kinds,) = await store.read(
        "MATCH (t:Transaction) WHERE t.kind = 'DEPOSIT' RETURN count(t) AS n"
    )
    assert kinds["n"] == 10


async def test_a_query_result_finds_duplicate_keys_from_its_key_columns(
    store: GraphStore, tmp_path: Path
) -> None:
    # The first pass over a query reads only the key columns: the last row of a key still wins,
    # also where the key comes out of DuckDB as a number (2.0 is the id "2", as records read).
    await upsert_accounts(store, [{"id": "IA1", "props": {"type": "SAVINGS"}}])
    src = tmp_path / "src.csv"
    src.write_text("n,amount\n1,5\n2,6\n1,7\n2.0,8\n3,9\n", encoding="utf-8")
    sql = (
        "SELECT CAST(n AS DOUBLE) AS id, 'IA1' AS accountId, amount, 'FEE' AS kind, "
        "TIMESTAMP '2024-01-01 08:00:00' AS time FROM read_csv('{file}', header = true, "
        "types = {'n': 'VARCHAR'})"
    )
    for size in (1, 2, 1000):
        await store.clear()
        await upsert_accounts(store, [{"id": "IA1", "props": {"type": "SAVINGS"}}])
        summary = await import_file(store, "transactions", src, sql=sql, batch_size=size)
        assert (summary.read, summary.inserted, summary.duplicates) == (5, 3, 2), size
        rows = await store.read("MATCH (t:Transaction) RETURN t.id AS id, t.amount AS a")
        assert sorted((r["id"], r["a"]) for r in rows) == [("1", 7.0), ("2", 8.0), ("3", 9.0)]


async def test_parents_found_once_are_not_read_again_in_the_same_import(
    store: GraphStore,
) -> None:
    await upsert_accounts(store, [{"id": "IA1", "props": {"type": "SAVINGS"}}])
    rows = _rows(5) + _rows(1, account="IA404")
    stats = store.stats  # type: ignore[attr-defined]

    async def trips() -> tuple[int, list[list[str]]]:
        before = stats.round_trips
        found = await lookup_transactions(store, rows)
        return stats.round_trips - before, [f["missing"] for f in found]

    missing = [[]] * 5 + [["accountId"]]
    assert await trips() == (2, missing)  # no import running: rows and accounts, each batch
    token = KNOWN_PARENTS.set({})
    try:
        assert await trips() == (2, missing)
        # IA1 is known now; IA404 was not found, so it is asked again (and is still missing).
        assert await trips() == (2, missing)
        assert await trips() == (2, missing)
        rows.pop()
        assert await trips() == (1, missing[:5])  # only the rows' own lookup
    finally:
        KNOWN_PARENTS.reset(token)
