"""A customers file naming ``c000031`` while ``C000031`` is stored would make a second customer
(QA session 21, found through upsertCustomer): the import dead-letters the row with the reason,
the rest of the file imports, and the stored id itself still updates. Real embedded FalkorDB."""

from __future__ import annotations

import json
from pathlib import Path

from graph.repositories.customers import existing_customer_ids
from graph.store import GraphStore
from ingest.crm import import_file
from ingest.kinds import case_conflict


async def test_a_row_whose_id_differs_from_a_stored_one_only_by_case_is_a_dead_letter(
    sealed_store: GraphStore, tmp_path: Path
) -> None:
    store = sealed_store
    first = tmp_path / "first.csv"
    first.write_text("id,name\nC000031,张三\n")
    assert (await import_file(store, "customers", first)).inserted == 1
    second = tmp_path / "second.csv"
    second.write_text(
        "id,name\n"
        "c000031,张三\n"  # the stored id in lower case: a second customer
        "C000031,张三丰\n"  # the stored id: updated
        "C000032,李四\n"  # a new customer: inserted
    )
    summary = await import_file(store, "customers", second)
    assert (summary.rejected, summary.updated, summary.inserted) == (1, 1, 1)
    letters = [
        json.loads(line) for line in (tmp_path / "second.dead.jsonl").read_text().splitlines()
    ]
    assert [(d["line"], d["reasons"]) for d in letters] == [(2, [case_conflict("C000031")])]
    assert await existing_customer_ids(store, ["c000031", "C000031", "C000032"]) == {
        "C000031",
        "C000032",
    }
