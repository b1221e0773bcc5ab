"""The open-time upgrades (graph.connect.run_upgrades) run once per version, recorded on the
graph's marker node: a graph they brought up to date is not walked again at every open (every
CLI command, every worker start); one whose marker is older runs the upgrade that changed; a
dry run writes nothing. Real embedded FalkorDB."""

from __future__ import annotations

from pathlib import Path

from graph.connect import UPGRADES, open_store, run_upgrades
from graph.labels import label_counts
from graph.store import GraphStore
from shared.post_text import SEARCH_TEXT_VERSION

CURRENT = {name: version for name, version, _ in UPGRADES}


async def _marks(store: GraphStore) -> dict[str, object]:
    rows = await store.read("MATCH (s:C360Schema) RETURN properties(s) AS p")
    return rows[0]["p"] if rows else {}


async def _old_posts(store: GraphStore) -> None:
    # As an older hub stored them: no searchText, a date alone, a customer without idKey.
    await store.write(
        "CREATE (:Post {platform: 'weibo', postId: 'p1', text: '招商银行 很好', "
        "createdAt: '2025-03-11'}), (:Customer {id: 'Ab-1'})"
    )


async def test_upgrades_run_once_and_are_recorded(store: GraphStore) -> None:
    assert await run_upgrades(store) == []  # an empty graph: nothing to do, nothing written
    assert await store.read("MATCH (n) RETURN count(n) AS n") == [{"n": 0}]

    await _old_posts(store)
    assert await run_upgrades(store) == ["searchTextVersion", "postsUpgrade", "idKeys"]
    (post,) = await store.read(
        "MATCH (p:Post) RETURN p.searchTextVersion AS v, p.createdAt AS t, "
        "p.searchText IS NOT NULL AS searchable"
    )
    assert post == {"v": SEARCH_TEXT_VERSION, "t": "2025-03-10T16:00:00Z", "searchable": True}
    assert await store.read("MATCH (c:Customer) RETURN c.idKey AS k") == [{"k": "ab-1"}]
    assert {k: v for k, v in (await _marks(store)).items() if k != "key"} == CURRENT
    assert "C360Schema" not in await label_counts(store)

    # Current: none runs again. A post written without searchText now (as no current writer
    # does) shows it: the backfill did not walk the posts.
    await store.write("CREATE (:Post {platform: 'weibo', postId: 'p2', text: 'x'})")
    assert await run_upgrades(store) == []
    assert await store.read("MATCH (p:Post {postId: 'p2'}) RETURN p.searchText AS s") == [
        {"s": None}
    ]

    # A version bump (the marker older than this c360): that upgrade alone runs again.
    await store.write(
        "MATCH (s:C360Schema) SET s.searchTextVersion = $v", {"v": SEARCH_TEXT_VERSION - 1}
    )
    assert await run_upgrades(store) == ["searchTextVersion"]
    assert await store.read("MATCH (p:Post {postId: 'p2'}) RETURN p.searchText AS s") == [
        {"s": "x"}
    ]
    assert (await _marks(store))["searchTextVersion"] == SEARCH_TEXT_VERSION


async def test_a_dry_run_open_writes_nothing(short_dir: Path) -> None:
    store = await open_store(short_dir)
    try:
        await _old_posts(store)
    finally:
        await store.close()
    store = await open_store(short_dir, upgrade=False)  # `c360 import --dry-run`
    try:
        assert await _marks(store) == {}
        (post,) = await store.read("MATCH (p:Post) RETURN p.searchText AS s, p.createdAt AS t")
        assert post == {"s": None, "t": "2025-03-11"}
    finally:
        await store.close()
    store = await open_store(short_dir)
    try:
        assert {k: v for k, v in (await _marks(store)).items() if k != "key"} == CURRENT
    finally:
        await store.close()


async def test_an_open_after_the_upgrades_does_not_walk_the_graph_again(short_dir: Path) -> None:
    store = await open_store(short_dir)
    try:
        await _old_posts(store)
    finally:
        await store.close()
    store = await open_store(short_dir)  # an older graph: the upgrades run, once
    try:
        await store.write("CREATE (:Post {platform: 'weibo', postId: 'p2', text: 'x'})")
    finally:
        await store.close()
    store = await open_store(short_dir)  # recorded as current: no post is walked
    try:
        rows = await store.read(
            "MATCH (p:Post) RETURN p.postId AS id, p.searchText AS s ORDER BY id"
        )
        assert rows == [{"id": "p1", "s": "招商银行 很好"}, {"id": "p2", "s": None}]
    finally:
        await store.close()
