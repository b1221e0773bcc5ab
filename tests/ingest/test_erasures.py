"""An erased customer stays erased: rows naming them (or a household erased with them) are dead
letters whatever the kind, the rest of the file imports. Against the real embedded FalkorDB,
with the erasure itself run by privacy.erasure and the ids read back from its ledger."""

from __future__ import annotations

from pathlib import Path

from graph.store import GraphStore
from ingest.crm import Erasures, import_file
from privacy.erasure import erase_customer
from privacy.erasure_ledger import ErasureLedger
from tests.dead_letters import dead_letters

ERASED_REASON = "was erased under a data-subject request (erasure ledger)"


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


async def _erase(store: GraphStore, data_dir: Path, customer: str) -> Erasures:
    """Erase ``customer`` as an approved request does, and read the ledger back."""
    ledger = ErasureLedger(data_dir)
    assert await erase_customer(store, customer, ledger, "er-test") is not None
    entries = ledger.entries()
    return Erasures.of((e.customer_id for e in entries), (h for e in entries for h in e.households))


async def test_rows_naming_an_erased_customer_are_refused_in_every_kind(
    store: GraphStore, tmp_path: Path, data_dir: Path
) -> None:
    customers = _csv(tmp_path / "customers.csv", "id,name,phone\nC5,张三,13800009999\nC6,李四,\n")
    await import_file(store, "customers", customers)
    household = _csv(tmp_path / "hh.csv", "id,name,address,customerId\nH5,张家,北京,C5\n")
    await import_file(store, "households", household)
    accounts = _csv(tmp_path / "acc.csv", "id,customerId,balance\nA5,C5,10\nA6,C6,20\n")
    await import_file(store, "accounts", accounts)
    erased = await _erase(store, data_dir, "C5")
    assert erased.customers == {"c5"}  # case-folded

    again = _csv(tmp_path / "again.csv", "id,name,phone\nC5,复活,13800009999\nC7,王五,\n")
    summary = await import_file(store, "customers", again, erasures=erased)
    assert (summary.read, summary.inserted, summary.rejected, summary.erased) == (2, 1, 1, 1)
    (letter,) = dead_letters(tmp_path / "again.dead.jsonl")
    assert letter["line"] == 2
    assert letter["raw"] == {"id": "C5"}  # keys only: no copy of the erased customer's data
    (reason,) = letter["reasons"]  # type: ignore[misc]
    assert reason.startswith(f"id C5: this customer {ERASED_REASON}")
    assert "delete the row from the export" in reason
    ids = await store.read("MATCH (c:Customer) RETURN c.id AS id ORDER BY id")
    assert [r["id"] for r in ids] == ["C6", "C7"]

    files = {
        "accounts": "id,customerId,balance\nA5,C5,11\nA8,C6,5\n",
        "holdings": "customerId,accountId,role\nC5,A6,JOINT\nC7,A6,JOINT\n",
        "households": "id,name,customerId\nH6,王家,C5\nH7,李家,C6\n",
        "interactions": "id,customerId,kind\nI5,C5,INQUIRY\nI6,C6,INQUIRY\n",
        "social-accounts": "customerId,platform,handle\nC5,weibo,zs\nC6,weibo,ls\n",
    }
    for kind, text in files.items():
        path = _csv(tmp_path / f"{kind}.csv", text)
        done = await import_file(store, kind, path, erasures=erased)
        assert (done.erased, done.rejected) == (1, 1), kind
        assert done.imported == 1, kind
        for letter in dead_letters(tmp_path / f"{kind}.dead.jsonl"):
            assert ERASED_REASON in letter["reasons"][0], kind  # type: ignore[index]
    # Nothing brought C5 back, nor linked anything to them.
    assert await store.read("MATCH (c:Customer {id: 'C5'}) RETURN c.id AS id") == []

    # Accounts outlive an erasure (financial records): their transactions still import.
    tx = _csv(tmp_path / "tx.csv", "id,accountId,amount,time,kind\nT5,A5,12.50,2025-03-01,FEE\n")
    kept = await import_file(store, "transactions", tx, erasures=erased)
    assert (kept.inserted, kept.rejected, kept.erased) == (1, 0, 0)


async def test_a_household_erased_with_its_last_member_is_refused_too(
    store: GraphStore, tmp_path: Path
) -> None:
    await import_file(store, "customers", _csv(tmp_path / "c.csv", "id,name\nC6,李四\n"))
    path = _csv(tmp_path / "hh.csv", "id,name,address,customerId\nH5,张家,北京,C6\nH7,李家,,C6\n")
    summary = await import_file(store, "households", path, erasures=Erasures.of(["C5"], ["H5"]))
    assert (summary.inserted, summary.erased) == (1, 1)
    (letter,) = dead_letters(tmp_path / "hh.dead.jsonl")
    assert letter["raw"] == {"id": "H5", "customerId": "C6"}
    assert letter["reasons"][0].startswith(f"id H5: this household {ERASED_REASON}")  # type: ignore[index]


async def test_without_erasures_the_same_row_imports(store: GraphStore, tmp_path: Path) -> None:
    # The refusal comes from the ledger's ids, not from anything else about the row.
    path = _csv(tmp_path / "c.csv", "id,name\nC5,张三\n")
    summary = await import_file(store, "customers", path, erasures=Erasures.of(["C9"]))
    assert (summary.inserted, summary.erased) == (1, 0)


async def test_an_erased_customer_is_refused_under_another_case(
    store: GraphStore, tmp_path: Path, data_dir: Path
) -> None:
    """QA, session 21: after erasing C900002, an import of ``c900002`` inserted it (the
    erasure check compared ids exactly)."""
    await import_file(store, "customers", _csv(tmp_path / "c.csv", "id,name\nC900002,张三\n"))
    erased = await _erase(store, data_dir, "C900002")
    again = _csv(tmp_path / "again.csv", "id,name\nc900002,复活\nC900003,王五\n")
    summary = await import_file(store, "customers", again, erasures=erased)
    assert (summary.inserted, summary.rejected, summary.erased) == (1, 1, 1)
    (letter,) = dead_letters(tmp_path / "again.dead.jsonl")
    assert letter["line"] == 2
    assert ERASED_REASON in letter["reasons"][0]  # type: ignore[index]
    accounts = _csv(tmp_path / "acc.csv", "id,customerId,balance\nA9,c900002,1\n")
    done = await import_file(store, "accounts", accounts, erasures=erased)
    assert (done.erased, done.imported) == (1, 0)
    ids = await store.read("MATCH (c:Customer) RETURN c.id AS id ORDER BY id")
    assert [r["id"] for r in ids] == ["C900003"]
