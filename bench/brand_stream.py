"""Brand analytics on a generated 60-day stream with a two-day outage (issue 14's figures).

    .venv/bin/python bench/brand_stream.py [--days 60] [--scale 1.0]

Ingests the stream (ingest/social/synthetic.py) through the real file pipeline into a fresh
embedded FalkorDB, time-ordered and then shuffled into an emptied graph, and prints: both ingest
summaries beside what the store holds, the brand alerts over the whole period (Asia/Shanghai
days), a Boolean query's count and share of voice for the three banks.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graph.connect import store_session
from graph.repositories import social as repo
from graph.store import GraphStore
from hub.settings import Settings
from ingest.social.stream_check import ingest_lines, store_counts, summary
from ingest.social.synthetic import BANKS, MAIN, generate, shuffled
from resolvers import social
from sentiment.batch import BatchScorer


async def alerts(store: GraphStore, start, days: int) -> None:  # type: ignore[no-untyped-def]
    settings = Settings()
    tz = social.check_zone(settings.timezone)
    since = start - timedelta(hours=8)  # local midnight of the first day, as UTC
    report = await social.brand_alerts(
        store,
        {"brand": MAIN, "includeReposts": True},
        since,
        since + timedelta(days=days),
        "DAY",
        tz,
        social.alert_config("DAY", settings),
        top_posts=3,
        top_terms=8,
    )
    print(
        f"brand alerts ({settings.timezone} days): judged {report.judged}, "
        f"not judged (history < {report.config.min_baseline} days) {len(report.insufficient)}"
    )
    for a in report.alerts:
        f = a.finding
        share = f"{f.share:.2f}" if f.share is not None else "-"
        base = f"{f.baseline_share:.2f}" if f.baseline_share is not None else "-"
        print(
            f"  {f.bucket.start} {'+'.join(f.kinds)} count {f.bucket.count} "
            f"(expected {f.expected:.1f}, z {f.volume_z:.1f}) negative share {share} "
            f"(baseline {base}, z {f.share_z:.1f})"
        )
        print("    terms: " + ", ".join(f"{t.term} x{t.count}" for t in a.terms))
        print(f"    emotions: {f.bucket.emotion_counts()}")


QUERY = "(招行 OR 招商银行) AND (APP OR 手机银行) AND NOT 招聘 AND label:NEGATIVE"


async def voices(store: GraphStore, start, days: int) -> None:  # type: ignore[no-untyped-def]
    tz = social.check_zone("Asia/Shanghai")
    since = start - timedelta(hours=8)
    until = since + timedelta(days=days)
    query = social.query_filters(QUERY)
    lo, hi = social.check_window(since, until)
    total, _ = await repo.search_mentions(store, query | {"from": lo, "to": hi}, 0, 1)
    print(f"query {QUERY!r}: {total} posts")
    whole, weeks = await social.share_of_voice(
        store, list(BANKS), {"includeReposts": True}, since, until, "WEEK", tz
    )
    print("share of voice over the window:")
    for v in whole:
        b = v.bucket
        judged = b.count - b.unsupported
        print(
            f"  {v.brand}: {b.count} posts, share {v.share:.3f}, "
            f"net sentiment {(b.positive - b.negative) / judged:+.3f}"
        )
    outage = max(weeks, key=lambda vs: vs[0].bucket.count)
    print(
        f"  busiest week for {MAIN} ({outage[0].bucket.start}): "
        + ", ".join(f"{v.brand} {v.share:.3f}" for v in outage)
    )


async def main(days: int, scale: float) -> None:
    stream = generate(days=days, scale=scale)
    print(
        f"stream: {stream.posts} posts, {stream.redelivered} delivered twice, "
        f"{stream.copies} copies ({stream.reposts} reposts), {stream.english} English, "
        f"{stream.malformed} malformed lines; outage on {', '.join(stream.spike_days)}"
    )
    with tempfile.TemporaryDirectory(prefix="brand-", dir="/tmp") as d:
        async with store_session(Path(d) / "data", "") as store:
            with BatchScorer() as scorer:
                for name, lines in (("time-ordered", stream.lines), ("shuffled", shuffled(stream))):
                    await store.clear()
                    tmp = Path(d) / name
                    tmp.mkdir()
                    result = summary(await ingest_lines(store, scorer, lines, tmp))
                    print(f"{name:>12}: summary {result}")
                    print(f"{'':>12}  store   {await store_counts(store)}")
            await alerts(store, stream.start, days)
            await voices(store, stream.start, days)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--scale", type=float, default=0.6)
    args = parser.parse_args()
    asyncio.run(main(args.days, args.scale))
