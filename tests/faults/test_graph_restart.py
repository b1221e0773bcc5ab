"""A bulk import leaves a snapshot, not a long log: the next start is quick whatever the
history. 50,000 transactions through `c360 import`, then a cold start."""

from __future__ import annotations

import asyncio
import csv
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph.embedded import EmbeddedFalkorDB
from graph.falkordb import FalkorDBStore
from hub.cli import app

ACCOUNTS = 1_000
TRANSACTIONS = 50_000


def _write_csvs(folder: Path) -> tuple[Path, Path]:
    accounts, transactions = folder / "accounts.csv", folder / "transactions.csv"
    with accounts.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "type", "balance", "currency"])
        w.writerows([f"A{i}", "SAVINGS", "1000.00", "CNY"] for i in range(ACCOUNTS))
    with transactions.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "accountId", "amount", "currency", "time", "kind"])
        w.writerows(
            [
                f"T{i}",
                f"A{i % ACCOUNTS}",
                f"{i % 997 + 1}.50",
                "CNY",
                "2025-03-01T08:00:00Z",
                "PAYMENT",
            ]
            for i in range(TRANSACTIONS)
        )
    return accounts, transactions


async def test_import_50k_then_restart_within_the_start_limit(
    short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = short_dir / "data"
    monkeypatch.setenv("C360_DATA_DIR", str(data_dir))
    monkeypatch.delenv("C360_GRAPH_URL", raising=False)
    accounts, transactions = _write_csvs(short_dir)
    runner = CliRunner()
    for kind, path in (("accounts", accounts), ("transactions", transactions)):
        result = await asyncio.to_thread(
            runner.invoke, app, ["import", kind, str(path), "--no-progress"]
        )
        assert result.exit_code == 0, result.output
    embedded = EmbeddedFalkorDB(data_dir)
    # Compacted after the job: what the next start replays is a short log, not the import.
    assert embedded.log_bytes() < 1 << 20, embedded.log_bytes()

    began = time.monotonic()
    store = await asyncio.to_thread(FalkorDBStore.embedded, embedded)  # the normal start limit
    try:
        seconds = time.monotonic() - began
        rows = await store.read("MATCH (t:Transaction) RETURN count(t) AS n")
        assert rows == [{"n": TRANSACTIONS}]
    finally:
        await store.close()
    print(f"{TRANSACTIONS} transactions imported; restart ready in {seconds:.2f}s")
