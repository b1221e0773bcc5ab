from __future__ import annotations

import shutil
from pathlib import Path

from graph.repositories import social as repo
from graph.store import GraphStore
from ingest.social.accounts import link_candidates, rank_candidates
from tests.social.conftest import invoke

EXAMPLES = Path(__file__).parents[2] / "examples" / "social"


async def test_linked_handle_shows_in_customer_view(store: GraphStore, cli_env, tmp_path) -> None:
    await store.write("CREATE (:Customer {id: 'C0001', name: '王小明'})")
    await store.write("CREATE (:Customer {id: 'C0002', name: '李雷'})")
    posts = tmp_path / "posts.jsonl"
    shutil.copy(EXAMPLES / "posts.jsonl", posts)
    assert (await invoke(["ingest", "posts", str(posts)], cli_env)).exit_code == 0
    links = tmp_path / "links.csv"
    shutil.copy(EXAMPLES / "social-accounts.csv", links)
    result = await invoke(["import", "social-accounts", str(links)], cli_env)
    assert result.exit_code == 0, result.output

    views = await repo.customer_posts(store, ["C0001", "C0002"], 10)
    assert views["C0001"][0] == 1 and views["C0001"][1][0]["postId"] == "w1"
    assert views["C0002"] == (0, [])
    summary = await repo.customer_sentiment(store, ["C0001"])
    assert summary["C0001"]["count"] == 1 and summary["C0001"]["positive"] == 1

    # Unknown authors are never merged: no new customers, no other HAS_SOCIAL.
    customers = await store.read("MATCH (c:Customer) RETURN count(c) AS n")
    assert customers[0]["n"] == 2
    links_n = await store.read("MATCH (:Customer)-[h:HAS_SOCIAL]->() RETURN count(h) AS n")
    assert links_n[0]["n"] == 1


async def test_candidates_by_name_similarity(store: GraphStore) -> None:
    await store.write("CREATE (:Customer {id: 'C9', name: '王小明'})")
    await store.write(
        "CREATE (:SocialAccount {platform: 'weibo', handle: 'wxm88', name: '王小明'}), "
        "(:SocialAccount {platform: 'weibo', handle: 'other', name: '赵六'})"
    )
    found = await link_candidates(store, "C9")
    assert [(c.handle, c.score) for c in found] == [("wxm88", 100.0)]
    assert await link_candidates(store, "missing") == []
    # Suggesting writes nothing.
    assert (await store.read("MATCH ()-[h:HAS_SOCIAL]->() RETURN count(h) AS n"))[0]["n"] == 0


def test_rank_candidates_pure() -> None:
    accounts = [
        {"platform": "x", "handle": "zhang_wei", "name": "Zhang Wei"},
        {"platform": "x", "handle": "random", "name": "Someone Else"},
    ]
    assert [c.handle for c in rank_candidates("zhang wei", accounts)] == ["zhang_wei"]
