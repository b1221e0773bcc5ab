"""No phantom parents: a row naming a customer, account or advisor the graph does not hold is a
dead letter (unless --create-missing), for every kind that names one. Real embedded FalkorDB."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from graph.store import GraphStore
from ingest.crm import KINDS, import_file


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# kind, a file whose first row names the missing GHOST1 and whose second an existing parent.
CASES = {
    "interactions": "id,customerId,channel,kind,time\n"
    "IG1,GHOST1,PHONE,INQUIRY,2025-03-01\nIG2,C1,PHONE,INQUIRY,2025-03-01\n",
    "accounts": "id,customerId,balance\nAG1,GHOST1,10\nAG2,C1,10\n",
    "customers": "id,name,advisorId\nCG1,x,GHOST1\nCG2,y,ADV1\n",
    "holdings": "customerId,accountId\nGHOST1,A1\nC1,A1\n",
    "households": "id,customerId\nHG1,GHOST1\nHG2,C1\n",
    "transactions": "id,accountId,amount,time,kind\nTG1,GHOST1,5,2025-03-01,FEE\n"
    "TG2,A1,5,2025-03-01,FEE\n",
    "social-accounts": "customerId,platform,handle\nGHOST1,weibo,g1\nC1,weibo,c1\n",
}


async def _parents(store: GraphStore) -> None:
    await store.write(
        "CREATE (:Customer {id: 'C1'})-[:OWNS {role: 'OWNER'}]->(:Account {id: 'A1'}), "
        "(:Advisor {id: 'ADV1'})"
    )


async def _ghosts(store: GraphStore) -> int:
    rows = await store.read("MATCH (n) WHERE n.id = 'GHOST1' RETURN count(n) AS n")
    return int(rows[0]["n"])


def test_every_kind_that_names_a_parent_is_covered() -> None:
    assert {kind for kind, spec in KINDS.items() if spec.parents} == set(CASES)


@pytest.mark.parametrize("kind", list(CASES))
async def test_a_missing_parent_is_a_dead_letter_never_a_phantom(
    store: GraphStore, tmp_path: Path, kind: str
) -> None:
    await _parents(store)
    path = _csv(tmp_path / f"{kind}.csv", CASES[kind])
    summary = await import_file(store, kind, path)
    assert (summary.imported, summary.missing_parents, summary.rejected) == (1, 1, 1)
    (letter,) = [
        orjson.loads(x) for x in (tmp_path / f"{kind}.dead.jsonl").read_bytes().splitlines()
    ]
    assert letter["line"] == 2
    (reason,) = letter["reasons"]
    field = next(iter(KINDS[kind].parents)) if kind != "holdings" else "customerId"
    assert reason.startswith(f"{field} GHOST1 not found: import {KINDS[kind].parents[field]} first")
    assert await _ghosts(store) == 0


@pytest.mark.parametrize("kind", ["interactions", "accounts", "customers"])
async def test_create_missing_creates_the_bare_parent(
    store: GraphStore, tmp_path: Path, kind: str
) -> None:
    await _parents(store)
    path = _csv(tmp_path / f"{kind}.csv", CASES[kind])
    summary = await import_file(store, kind, path, create_missing=True)
    assert (summary.inserted, summary.missing_parents, summary.rejected) == (2, 0, 0)
    assert await _ghosts(store) == 1


async def test_a_handle_never_creates_its_customer(store: GraphStore, tmp_path: Path) -> None:
    # link_social_accounts links existing customers only: the row used to count as imported.
    await _parents(store)
    path = _csv(tmp_path / "links.csv", CASES["social-accounts"])
    summary = await import_file(store, "social-accounts", path, create_missing=True)
    assert (summary.inserted, summary.missing_parents, summary.rejected) == (1, 1, 1)
    (letter,) = [orjson.loads(x) for x in (tmp_path / "links.dead.jsonl").read_bytes().splitlines()]
    assert letter["reasons"] == ["customerId GHOST1 not found: import customers first"]
    again = await import_file(store, "social-accounts", path)
    assert (again.inserted, again.unchanged) == (0, 1)
    assert await _ghosts(store) == 0
