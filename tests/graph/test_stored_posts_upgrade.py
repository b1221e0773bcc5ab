"""Posts a hub stored before ingest's current rules are brought to them when the graph opens:
a date alone as ``createdAt`` becomes 00:00 that day in Asia/Shanghai, a link that is no
http(s) link is dropped."""

from __future__ import annotations

from pathlib import Path

from graph.connect import open_store
from graph.repositories.social import upgrade_stored_posts
from graph.store import GraphStore

# As an older hub wrote them: the date kept as the date, any link kept as given.
OLD = [
    ("a", "2025-03-11", "javascript:alert(1)"),
    ("b", "2025-03-12", "https://weibo.com/1/AbCd"),
    ("c", "2025-03-01T08:00:00Z", "data:text/html,<b>x</b>"),
    ("d", "2025-03-01T09:00:00Z", "HTTPS://weibo.com/2/EfGh"),
    ("e", "2025-03-13", None),
    ("f", "2025-03-01T10:00:00Z", "file:///etc/passwd"),
    ("g", "2025-03-01T11:00:00Z", "http://"),  # no host: ingest refuses it (QA s22)
    ("h", "2025-03-01T12:00:00Z", "HTTP:///etc/passwd"),
]


async def _posts(store: GraphStore) -> dict[str, tuple[str, str | None]]:
    rows = await store.read(
        "MATCH (p:Post) RETURN p.postId AS id, p.createdAt AS t, p.url AS url ORDER BY id"
    )
    return {r["id"]: (r["t"], r["url"]) for r in rows}


async def test_opening_the_graph_brings_old_posts_to_the_current_rules(short_dir: Path) -> None:
    store = await open_store(short_dir)
    try:
        await store.write(
            "UNWIND $rows AS r CREATE (:Post {platform: 'weibo', postId: r[0], "
            "createdAt: r[1], url: r[2], text: 'x'})",
            {"rows": [list(r) for r in OLD]},
        )
    finally:
        await store.close()

    store = await open_store(short_dir)  # the upgrade runs as the graph opens
    try:
        expected = {
            "a": ("2025-03-10T16:00:00Z", None),
            "b": ("2025-03-11T16:00:00Z", "https://weibo.com/1/AbCd"),
            "c": ("2025-03-01T08:00:00Z", None),
            "d": ("2025-03-01T09:00:00Z", "HTTPS://weibo.com/2/EfGh"),
            "e": ("2025-03-12T16:00:00Z", None),
            "f": ("2025-03-01T10:00:00Z", None),
            "g": ("2025-03-01T11:00:00Z", None),
            "h": ("2025-03-01T12:00:00Z", None),
        }
        assert await _posts(store) == expected
        assert await upgrade_stored_posts(store) == 0  # idempotent: nothing left to bring over

        # In pages smaller than the posts to bring over (and an unchanged one among them).
        await store.write(
            "UNWIND $rows AS r MATCH (p:Post {postId: r[0]}) SET p.createdAt = r[1], p.url = r[2]",
            {"rows": [list(r) for r in OLD]},
        )
        assert await upgrade_stored_posts(store, batch=2) == 7
        assert await _posts(store) == expected
    finally:
        await store.close()
