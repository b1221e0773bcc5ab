"""Dedupe does not depend on arrival order, and the ingest summary matches the store."""

from __future__ import annotations

from pathlib import Path

from graph.store import GraphStore
from ingest.social.synthetic import generate, shuffled
from sentiment.batch import BatchScorer
from tests.social.brand_stream import ingest_lines, store_counts, summary


async def test_time_ordered_and_shuffled_input_give_the_same_counts_and_store(
    store: GraphStore, tmp_path: Path
) -> None:
    stream = generate(days=30, scale=0.3, spike_day=20, spike_posts=60)
    results = []
    with BatchScorer(max_workers=1) as scorer:
        for n, lines in enumerate((stream.lines, shuffled(stream))):
            await store.clear()
            tmp = tmp_path / str(n)
            tmp.mkdir()
            result = summary(await ingest_lines(store, scorer, lines, tmp))
            counts = await store_counts(store)
            originals = await store.read(
                "MATCH (p:Post) WHERE p.duplicateOf IS NOT NULL "
                "RETURN p.postId AS id, p.duplicateOf AS of ORDER BY id"
            )
            results.append((result, counts, originals))
    (ordered, ordered_store, ordered_links), (mixed, mixed_store, mixed_links) = results
    assert ordered == mixed
    assert ordered_store == mixed_store
    assert ordered_links == mixed_links  # the same original for every copy
    assert ordered["new"] == ordered_store["posts"] == stream.posts
    assert ordered["sameIdDuplicates"] == stream.redelivered
    assert ordered["deadLetters"] == stream.malformed
    assert ordered["received"] == stream.posts + stream.redelivered
    assert ordered["updated"] == ordered["unchanged"] == 0
    assert ordered["textDuplicates"] == ordered_store["textDuplicates"] >= stream.copies
    assert ordered["reposts"] == ordered_store["reposts"] >= stream.reposts
    assert ordered["unsupported"] == ordered_store["unsupported"] >= stream.english


async def test_an_earlier_post_arriving_later_becomes_the_original(
    store: GraphStore, tmp_path: Path
) -> None:
    late = {"id": "late", "text": "招商银行的APP真好用", "created_at": "2025-03-02T10:00:00Z"}
    early = {**late, "id": "early", "created_at": "2025-03-01T10:00:00Z"}
    with BatchScorer(max_workers=1) as scorer:
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        first = summary(await ingest_lines(store, scorer, [late], tmp_path / "a"))
        second = summary(await ingest_lines(store, scorer, [early, late], tmp_path / "b"))
    rows = await store.read("MATCH (p:Post) RETURN p.postId AS id, p.duplicateOf AS of ORDER BY id")
    assert rows == [{"id": "early", "of": None}, {"id": "late", "of": "weibo:early"}]
    assert (first["new"], first["textDuplicates"]) == (1, 0)
    # "late" was stored before with the same text: a repeat, not an update.
    assert (second["new"], second["updated"], second["unchanged"]) == (1, 0, 1)
    assert second["textDuplicates"] == 1
