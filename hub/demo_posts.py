"""``serve --demo``: the console's demo social stream (console/demo_posts.py) ingested through
the social ingest pipeline, the code path file imports and the webhook use (validation,
sentiment, term tagging, dedupe, batched upserts). Only posts not stored yet are ingested, so
a restart costs one lookup and a hub restarted days later tops its stream up."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from console.demo_posts import demo_posts
from graph.repositories.social import existing_post_keys
from graph.store import GraphStore
from ingest.social.model import parse_post
from ingest.social.pipeline import PostPipeline
from ingest.social.terms import TermMatcher
from sentiment.batch import BatchScorer
from sentiment.scorer import ScorerConfig

log = logging.getLogger("c360.demo")

BATCH = 200


async def seed_demo_posts(
    store: GraphStore,
    *,
    now: datetime | None = None,
    scorer_config: ScorerConfig | None = None,
    matcher: TermMatcher | None = None,
) -> int:
    """Ingest the demo posts up to ``now`` that the graph does not hold; how many."""
    posts = [parse_post(raw, "weibo") for raw in demo_posts(now or datetime.now(UTC))]
    keys = [{"platform": p.platform, "postId": p.post_id} for p in posts]
    stored = await existing_post_keys(store, keys)
    missing = [p for p in posts if (p.platform, p.post_id) not in stored]
    if not missing:
        return 0
    # In-process scoring: a few hundred short posts, no worker pool to start.
    with BatchScorer(scorer_config or ScorerConfig(), max_workers=1) as scorer:
        pipeline = PostPipeline(store, scorer, matcher or TermMatcher.default())
        for start in range(0, len(missing), BATCH):
            await pipeline.ingest(missing[start : start + BATCH])
    log.info("demo: ingested %d social posts (%d already stored)", len(missing), len(stored))
    return len(missing)


__all__ = ["seed_demo_posts"]
