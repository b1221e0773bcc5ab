"""Session 22 (QA): `c360 import accounts --create-missing` with a row naming `c000017` made a
bare customer `c000017` beside the stored `C000017` (a case twin), and without the flag the
dead letter said "not found: import customers first". A missing customer parent that a stored
customer differs from only by case is a dead letter naming that customer, with or without
--create-missing. Real embedded FalkorDB, the real import."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.store import GraphStore
from ingest.crm import import_file
from tests.dead_letters import dead_letters

CASES = {
    "accounts": ("id,customerId,type,balance,currency\nAZ1,c000017,SAVINGS,100,CNY\n"
                 "AZ2,C000099,SAVINGS,5,CNY\n"),
    "interactions": ("id,customerId,channel,kind,time\nIZ1,c000017,PHONE,INQUIRY,2025-02-01\n"
                     "IZ2,C000099,PHONE,INQUIRY,2025-02-01\n"),
    "social-accounts": "customerId,platform,handle\nc000017,weibo,wz17\nC000099,weibo,wz99\n",
}  # fmt: skip
TWIN = (
    "customerId: no customer c000017; C000017 differs only by case (customer ids are "
    "compared without case, so none is created): write C000017"
)


async def _ids(store: GraphStore) -> list[str]:
    rows = await store.read("MATCH (c:Customer) RETURN c.id AS id ORDER BY id")
    return [r["id"] for r in rows]


@pytest.mark.parametrize("kind", sorted(CASES))
@pytest.mark.parametrize("create", [True, False])
async def test_a_case_twin_of_a_stored_customer_is_never_created_and_is_named(
    store: GraphStore, tmp_path: Path, kind: str, create: bool
) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text("id,name\nC000017,王五\n", encoding="utf-8")
    assert (await import_file(store, "customers", customers)).inserted == 1
    path = tmp_path / f"{kind}.csv"
    path.write_text(CASES[kind], encoding="utf-8")
    summary = await import_file(store, kind, path, create_missing=create)
    dead = dead_letters(tmp_path / f"{kind}.dead.jsonl")
    reasons = {d["line"]: d["reasons"] for d in dead}
    # Before the fix: c000017 created beside C000017, or "c000017 not found: import ...".
    assert reasons[2] == [TWIN]
    if create and kind != "social-accounts":  # never creates a customer for a handle
        # A customer id no stored one resembles is still created bare, as the flag says.
        assert (summary.rejected, await _ids(store)) == (1, ["C000017", "C000099"])
    else:
        create_hint = "" if kind == "social-accounts" else " (or pass --create-missing)"
        assert reasons[3] == [f"customerId C000099 not found: import customers first{create_hint}"]
        assert await _ids(store) == ["C000017"]
