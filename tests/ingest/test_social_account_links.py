"""`c360 import social-accounts` takes linkSocialAccount's rules: a handle is linked to one
customer (held in the graph, or by an earlier row of the same file), and a handle has no
whitespace. Rows that break them are dead letters with their line and reason, the rest
imports, and a re-run adds nothing. Against the real embedded FalkorDB (session 22)."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.repositories.customers import upsert_customers
from graph.repositories.social import link_social_accounts
from graph.store import GraphStore
from ingest.crm import import_file
from ingest.social.accounts import HANDLE_LINKED
from tests.dead_letters import dead_letters

LINKS = (
    "customerId,platform,handle\n"
    "C2,weibo,wxm_2025\n"  # 2: held by C1 in the graph
    "C2,weibo,李四理财\n"  # 3: free
    "C1,x,jack_ma\n"  # 4: free: C1 takes it
    "C3,x,jack_ma\n"  # 5: line 4 gave it to C1
    "C3,weibo,wang li\n"  # 6: a space
    "C3,weibo,王\u3000丽\n"  # 7: an ideographic space
    "C3,weibo,@Wang_Li-88\n"  # 8: a handle as Weibo writes them
)


async def _owners(store: GraphStore) -> list[tuple[str, str, str]]:
    rows = await store.read(
        "MATCH (c:Customer)-[:HAS_SOCIAL]->(a:SocialAccount) "
        "RETURN c.id AS c, a.platform AS p, a.handle AS h ORDER BY p, h, c"
    )
    return [(r["c"], r["p"], r["h"]) for r in rows]


@pytest.mark.parametrize("batch_size", [1, 5000])
async def test_a_handle_is_imported_to_one_customer_and_without_spaces(
    store: GraphStore, tmp_path: Path, batch_size: int
) -> None:
    await upsert_customers(store, [{"id": c, "props": {}} for c in ("C1", "C2", "C3")])
    first = tmp_path / "first.csv"
    first.write_text("customerId,platform,handle\nC1,weibo,wxm_2025\n", encoding="utf-8")
    assert (await import_file(store, "social-accounts", first)).inserted == 1

    path = tmp_path / "links.csv"
    path.write_text(LINKS, encoding="utf-8")
    summary = await import_file(store, "social-accounts", path, batch_size=batch_size)
    assert (summary.read, summary.inserted, summary.rejected) == (7, 3, 4)
    letters = {d["line"]: d["reasons"] for d in dead_letters(tmp_path / "links.dead.jsonl")}
    assert sorted(letters) == [2, 5, 6, 7]
    assert letters[2] == [HANDLE_LINKED]
    # The file's own earlier row is named by its line (the customer is not).
    assert letters[5] == [HANDLE_LINKED + " (line 4 of this file links it)"]
    assert "C1" not in letters[5][0]
    assert letters[6][0].startswith("handle: contains a space or other whitespace")
    assert letters[7][0].startswith("handle: ")  # the key rule's (not NFKC) or the handle's
    assert await _owners(store) == [
        ("C3", "weibo", "Wang_Li-88"),
        ("C1", "weibo", "wxm_2025"),
        ("C2", "weibo", "李四理财"),
        ("C1", "x", "jack_ma"),
    ]

    # Run again: nothing new, the same rows refused.
    again = await import_file(store, "social-accounts", path, batch_size=batch_size)
    assert (again.inserted, again.unchanged, again.rejected) == (0, 3, 4)
    assert await _owners(store) == [
        ("C3", "weibo", "Wang_Li-88"),
        ("C1", "weibo", "wxm_2025"),
        ("C2", "weibo", "李四理财"),
        ("C1", "x", "jack_ma"),
    ]
    # One account node per handle.
    (count,) = await store.read("MATCH (a:SocialAccount) RETURN count(a) AS n")
    assert count["n"] == 4


async def test_the_link_write_itself_links_no_handle_another_customer_holds(
    store: GraphStore,
) -> None:
    # The guard for two writers at once (a lookup saw the handle free, another link landed
    # before this write): the write checks and links in one statement.
    await upsert_customers(store, [{"id": c, "props": {}} for c in ("C1", "C2")])
    row = {"platform": "weibo", "handle": "wxm_2025"}
    assert await link_social_accounts(store, [{"customerId": "C1", **row}]) == 1
    assert await link_social_accounts(store, [{"customerId": "C2", **row}]) == 0
    assert await link_social_accounts(store, [{"customerId": "C1", **row}]) == 1  # again: fine
    assert await _owners(store) == [("C1", "weibo", "wxm_2025")]
