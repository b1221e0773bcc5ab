"""Session 26 (QA): a balance-only refresh (``id,balance``) turned every USD and JPY account
into CNY, and a transaction without a currency was stored as CNY on an EUR account; the
decimals were checked against CNY. A row without a currency keeps the stored one, a new
transaction takes its account's, and the decimals are checked against the currency used.
Real embedded FalkorDB, the real import."""

from __future__ import annotations

from pathlib import Path

from graph.store import GraphStore
from ingest.crm import import_file
from tests.dead_letters import dead_letters
from tests.inputs import import_steps, input_file


async def _accounts(store: GraphStore) -> dict[str, tuple[float, str | None]]:
    rows = await store.read("MATCH (a:Account) RETURN a.id AS id, a.balance AS b, a.currency AS c")
    return {r["id"]: (r["b"], r["c"]) for r in rows}


async def _transactions(store: GraphStore) -> dict[str, tuple[float, str | None]]:
    rows = await store.read(
        "MATCH (t:Transaction) RETURN t.id AS id, t.amount AS a, t.currency AS c"
    )
    return {r["id"]: (r["a"], r["c"]) for r in rows}


async def test_a_balance_without_a_currency_keeps_the_stored_currency(
    store: GraphStore, tmp_path: Path
) -> None:
    accounts = (
        "id,customerId,type,balance,currency\nA5,Q3,SAVINGS,-0.75,USD\n"
        "A6,Q3,SAVINGS,150000,JPY\nA7,Q3,SAVINGS,1.5,KWD\n"
    )
    summary = await import_steps(
        store, tmp_path, ("customers", "id,name\nQ3,王五\n"), ("accounts", accounts)
    )
    assert summary.inserted == 3
    refresh = "id,balance\nA5,100.00\nA6,200\nA8,5.5\n"
    summary = await import_file(store, "accounts", input_file(tmp_path, "b.csv", refresh))
    assert (summary.updated, summary.inserted, summary.rejected) == (2, 1, 0)
    # Before the fix: A5 and A6 were CNY. A new account without a currency is CNY (documented).
    assert await _accounts(store) == {
        "A5": (100.0, "USD"), "A6": (200.0, "JPY"), "A7": (1.5, "KWD"), "A8": (5.5, "CNY"),
    }  # fmt: skip
    # Decimals are judged in the stored currency: 200.50 passed as CNY before.
    bad = "id,balance\nA6,200.50\nA7,1.005\nA5,1.005\n"
    summary = await import_file(store, "accounts", input_file(tmp_path, "bad.csv", bad))
    reasons = {d["line"]: d["reasons"] for d in dead_letters(tmp_path / "bad.dead.jsonl")}
    assert reasons[2] == [
        "balance: more decimals than JPY has (its ISO 4217 minor unit is 1); amounts are never "
        "rounded (its currency: the stored JPY); give a currency column if the amount is not "
        "in JPY"
    ]
    # 1.005 in KWD (three decimals): 1.005 or a thousands dot's 1005, told as with a currency.
    assert reasons[3][0].startswith("balance: ambiguous amount: a dot before three digits")
    assert reasons[3][0].endswith("(its currency: the stored KWD)")
    assert reasons[4][0].startswith("balance: more decimals than USD has")
    assert await _accounts(store) == {
        "A5": (100.0, "USD"), "A6": (200.0, "JPY"), "A7": (1.5, "KWD"), "A8": (5.5, "CNY"),
    }  # fmt: skip


async def test_a_transaction_without_a_currency_takes_the_stored_or_its_accounts(
    store: GraphStore, tmp_path: Path
) -> None:
    accounts = (
        "id,customerId,type,currency\nAZ1,Q3,SAVINGS,EUR\nAJ1,Q3,SAVINGS,JPY\nAC1,Q3,SAVINGS,\n"
    )
    first = (
        "id,accountId,amount,currency,time,kind\nPZ3,AZ1,2.00,EUR,2025-07-01T10:00:00Z,DEPOSIT\n"
    )
    rows = (
        "id,accountId,amount,time,kind\nPZ3,AZ1,2.50,2025-07-01T10:00:00Z,DEPOSIT\n"
        "PZ4,AZ1,3.25,2025-07-02T10:00:00Z,DEPOSIT\nPJ1,AJ1,300,2025-07-02T10:00:00Z,DEPOSIT\n"
        "PJ2,AJ1,300.5,2025-07-02T10:00:00Z,DEPOSIT\nPC1,AC1,1.5,2025-07-02T10:00:00Z,DEPOSIT\n"
    )
    summary = await import_steps(
        store, tmp_path, ("customers", "id,name\nQ3,王五\n"), ("accounts", accounts),
        ("transactions", first), ("transactions", rows),
    )  # fmt: skip
    assert (summary.updated, summary.inserted, summary.rejected) == (1, 3, 1)
    # Before the fix: PZ3 and PZ4 were CNY, PJ1 too, and PJ2 was accepted as 300.50 CNY.
    assert await _transactions(store) == {
        "PZ3": (2.5, "EUR"), "PZ4": (3.25, "EUR"), "PJ1": (300.0, "JPY"), "PC1": (1.5, "CNY"),
    }  # fmt: skip
    [dead] = dead_letters(tmp_path / "transactions3.dead.jsonl")
    assert dead["line"] == 5
    assert dead["reasons"] == [
        "amount: more decimals than JPY has (its ISO 4217 minor unit is 1); amounts are never "
        "rounded (its currency: its account's JPY); give a currency column if the amount is "
        "not in JPY"
    ]
