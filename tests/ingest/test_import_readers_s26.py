"""QA session 26 on `c360 import` readers: typed numbers bypass the text spelling rules,
uncached formulas, Latin code pages, cut raw text, repeated headers. Real embedded FalkorDB."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from graph.store import GraphStore
from ingest.crm import import_file
from ingest.mapping import ColumnMapping
from tests.dead_letters import dead_letters


async def _eur_customer(store: GraphStore, tmp_path: Path) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text("id,name\nZ001,Zed\n", encoding="utf-8")
    await import_file(store, "customers", customers)
    accounts = tmp_path / "az.csv"
    accounts.write_text("id,customerId,type,balance,currency\nAZ1,Z001,SAVINGS,1,EUR\n")
    await import_file(store, "accounts", accounts)


async def test_a_parquet_decimal_is_a_number_whatever_the_decimal_mark(
    store: GraphStore, tmp_path: Path
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    await _eur_customer(store, tmp_path)
    d = Decimal
    path = tmp_path / "acc.parquet"
    pq.write_table(
        pa.table(
            {
                "id": ["PD1", "PD2", "PD3"],
                "customerId": ["Z001"] * 3,
                "type": ["SAVINGS"] * 3,
                "balance": pa.array([d("12.340"), d("1.5"), d("1000.000")], pa.decimal128(12, 3)),
                "currency": ["EUR"] * 3,
            }
        ),
        path,
    )
    # With "," (the bank's text exports' mark) the DECIMAL 12.340 was read as 12340.
    summary = await import_file(store, "accounts", path, ColumnMapping().with_decimal(","))
    assert (summary.inserted, summary.rejected) == (3, 0)
    rows = await store.read(
        "MATCH (a:Account) WHERE a.id STARTS WITH 'PD' "
        "RETURN a.id AS id, a.balance AS b ORDER BY id"
    )
    assert [(r["id"], r["b"]) for r in rows] == [("PD1", 12.34), ("PD2", 1.5), ("PD3", 1000.0)]

    tx = tmp_path / "tx.parquet"
    pq.write_table(
        pa.table(
            {
                "id": ["PQ1", "PQ2"],
                "accountId": ["AZ1"] * 2,
                "amount": pa.array([d("1.230"), d("99999.99")], pa.decimal128(12, 3)),
                "currency": ["EUR"] * 2,
                "time": ["2025-05-01T08:00:00Z"] * 2,
                "kind": ["DEPOSIT"] * 2,
            }
        ),
        tx,
    )
    # Without a decimal mark, 1.230 was refused as "ambiguous amount".
    summary = await import_file(store, "transactions", tx)
    assert (summary.inserted, summary.rejected) == (2, 0), dead_letters(tmp_path / "tx.dead.jsonl")
