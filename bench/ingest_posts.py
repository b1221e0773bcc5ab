"""Social ingest throughput: end to end (score + tag + link + store) beside scoring alone.

    python bench/ingest_posts.py [--n 20000] [--quick]

End to end runs the real pipeline into a fresh embedded FalkorDB in a temp dir, scoring in a
process pool while the previous batch is written; "scoring alone" is snownlp in this one
process. ratio = end-to-end posts/s / single-process scoring posts/s (aim: >= cores).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from graph.connect import store_session
from ingest.social.model import SocialPost
from ingest.social.pipeline import PostPipeline, run_batches
from ingest.social.terms import TermMatcher
from sentiment.batch import BatchScorer, workers
from sentiment.scorer import Scorer

OPENINGS = ["招行", "工行", "建行", "平安银行", "中行", "这家银行"]
TOPICS = ["信用卡", "手机银行", "理财产品", "房贷", "客服", "网点", "定期存款", "转账"]
VERDICTS = [
    "服务很好，非常满意",
    "太差了，排队两个小时",
    "到账很快，点赞",
    "又闪退了，气死了",
    "利率还可以，考虑一下",
    "手续费太高，准备投诉",
    "经理很专业，讲解耐心",
    "电话打不通，很失望",
]


def make_posts(n: int, seed: int = 7) -> list[SocialPost]:
    rng = random.Random(seed)
    posts = []
    for i in range(n):
        text = f"{rng.choice(OPENINGS)}的{rng.choice(TOPICS)}{rng.choice(VERDICTS)}，第{i}条"
        day, hour = 1 + i % 28, i % 24
        posts.append(
            SocialPost(
                platform="weibo",
                post_id=f"b{i}",
                text=text,
                created_at=f"2025-03-{day:02d}T{hour:02d}:00:00Z",
                author_handle=f"user{rng.randrange(n // 10 + 1)}",
                likes=rng.randrange(100),
            )
        )
    return posts


def scoring_alone(posts: list[SocialPost]) -> float:
    scorer = Scorer()
    start = time.perf_counter()
    for post in posts:
        scorer.raw(post.text)
    return len(posts) / (time.perf_counter() - start)


async def end_to_end(posts: list[SocialPost], batch: int) -> float:
    async def batches() -> AsyncIterator[tuple[list[SocialPost], int]]:
        for i in range(0, len(posts), batch):
            yield posts[i : i + batch], i

    with tempfile.TemporaryDirectory(prefix="c360b-", dir="/tmp") as d:
        async with store_session(Path(d)) as store:
            with BatchScorer() as scorer:
                scorer.raw(["预热进程池"] * 400)  # start the pool before the clock
                pipeline = PostPipeline(store, scorer, TermMatcher.default())
                start = time.perf_counter()
                totals = await run_batches(pipeline, batches())
                elapsed = time.perf_counter() - start
            stored = (await store.read("MATCH (p:Post) RETURN count(p) AS n"))[0]["n"]
    assert totals.stored == len(posts) == stored, (totals, stored)
    return len(posts) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="2 000 posts")
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    n = 2_000 if args.quick else args.n
    posts = make_posts(n)
    single = scoring_alone(posts[: min(n, 2_000)])
    e2e = asyncio.run(end_to_end(posts, args.batch))
    print(f"posts={n} cores={workers()}")
    print(f"scoring_single_process={single:.0f} posts/s")
    print(f"end_to_end={e2e:.0f} posts/s (score in pool + tag + link + store)")
    print(f"ratio={e2e / single:.2f}")


if __name__ == "__main__":
    main()
