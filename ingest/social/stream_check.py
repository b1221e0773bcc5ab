"""A stream of post lines through the real file pipeline, and its summary beside what the store
holds: the check issue 14 asks for (dedupe counts equal for time-ordered and shuffled input,
summary numbers equal to the store), shared by bench/brand_stream.py and the brand tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from graph.store import GraphStore
from ingest.checkpoint import Checkpoint
from ingest.social.files import FileResult, ingest_file
from ingest.social.pipeline import PostPipeline
from ingest.social.terms import TermMatcher
from sentiment.batch import BatchScorer


def write_lines(path: Path, lines: list[dict[str, Any] | str]) -> Path:
    text = "\n".join(x if isinstance(x, str) else orjson.dumps(x).decode() for x in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


async def ingest_lines(
    store: GraphStore, scorer: BatchScorer, lines: list[dict[str, Any] | str], tmp: Path
) -> FileResult:
    """``lines`` (objects, or raw text for malformed ones) as a Weibo export in ``tmp``."""
    path = write_lines(tmp / "stream.jsonl", lines)
    pipeline = PostPipeline(store, scorer, TermMatcher.load(None))
    return await ingest_file(
        pipeline, path, Checkpoint(tmp / "cp.json"), platform="weibo", batch_size=200
    )


async def store_counts(store: GraphStore) -> dict[str, int]:
    """What the store holds: posts, text duplicates, reposts, unsupported."""
    rows = await store.read(
        """
        MATCH (p:Post)
        RETURN count(p) AS posts,
               sum(CASE WHEN p.duplicateOf IS NULL THEN 0 ELSE 1 END) AS textDuplicates,
               sum(CASE WHEN coalesce(p.isRepost, false) THEN 1 ELSE 0 END) AS reposts,
               sum(CASE WHEN p.sentimentLabel = 'UNSUPPORTED' THEN 1 ELSE 0 END) AS unsupported
        """
    )
    return {k: int(v or 0) for k, v in rows[0].items()}


def summary(result: FileResult) -> dict[str, int]:
    """The ingest summary's numbers, named like :func:`store_counts`."""
    t = result.totals
    return {
        "received": t.received,
        "new": t.new,
        "updated": t.updated,
        "unchanged": t.unchanged,
        "sameIdDuplicates": t.same_id_duplicates,
        "textDuplicates": t.text_duplicates,
        "reposts": t.reposts,
        "unsupported": t.by_label.get("UNSUPPORTED", 0),
        "deadLetters": result.rejected,
    }


__all__ = ["ingest_lines", "store_counts", "summary", "write_lines"]
