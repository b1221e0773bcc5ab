"""Demo social posts for the console's brand pages: four weeks of mentions of three banks up to
now, with a burst of complaints about one of them three days ago (so the alert page has one).

    python -m console.demo_posts > posts.jsonl      # then: c360 ingest posts posts.jsonl
    C360_WEBHOOK_SECRET=... python -m console.demo_posts --push http://127.0.0.1:8000

``--push`` sends them through a running hub's signed webhook, the same door a real feed uses.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from datetime import UTC, datetime, timedelta

import httpx

from ingest.social.webhook import signed_headers

BRANDS = ["招行", "工行", "建行"]
# Worded so that snownlp's stock model labels them as meant (it calls plain statements negative).
POSITIVE = [
    "{b}的理财经理很专业，服务周到，非常满意",
    "{b}手机银行新版本很好用，转账很快，点赞",
    "{b}的信用卡额度提升了，很开心",
]
NEUTRAL = [
    "{b}发布公告",
    "{b}app更新到新版本了",
    "{b}的营业时间是几点",
]
NEGATIVE = [
    "{b}手机银行又闪退了，转账失败，太差劲了，投诉！",
    "{b}排队两个小时，柜台只开一个窗口，太失望了",
    "{b}信用卡年费乱收，客服推来推去，非常生气，要维权",
]


def demo_posts(now: datetime, seed: int = 7, days: int = 28) -> list[dict[str, object]]:
    rng = random.Random(seed)
    platforms = ["weibo", "weibo", "wechat", "forum"]
    authors = [
        (f"user{n:02d}", rng.choice([12, 150, 900, 4200, 25000]), rng.choice(platforms))
        for n in range(30)
    ]
    posts: list[dict[str, object]] = []

    def post(day: int, template: str, brand: str) -> None:
        author, followers, platform = rng.choice(authors)
        at = now - timedelta(days=day, minutes=rng.randrange(24 * 60))
        posts.append(
            {
                "id": f"demo{len(posts):04d}",
                # A serial number keeps texts apart: the pipeline marks repeated text as duplicates.
                "text": f"{template.format(b=brand)}（{len(posts)}）",
                "author": author,
                "author_followers": followers,
                "created_at": at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "platform": platform,
                "likes": rng.randrange(60),
                "reposts": rng.randrange(12),
            }
        )

    for day in range(days):
        for brand, volume in zip(BRANDS, (6, 3, 2), strict=True):
            for _ in range(volume + rng.randrange(3)):
                kind = rng.random()
                pool = POSITIVE if kind < 0.45 else NEUTRAL if kind < 0.8 else NEGATIVE
                post(day, rng.choice(pool), brand)
    for _ in range(18):  # the complaint burst
        post(3, rng.choice(NEGATIVE), "招行")
    return posts


def push_posts(base_url: str, secret: str, posts: list[dict[str, object]]) -> int:
    """POST the posts to /ingest/posts in signed batches; the number accepted."""
    accepted = 0
    for start in range(0, len(posts), 50):
        body = json.dumps(posts[start : start + 50], ensure_ascii=False).encode()
        response = httpx.post(
            base_url + "/ingest/posts",
            content=body,
            headers={"content-type": "application/json", **signed_headers(secret, body)},
            timeout=120,
        )
        response.raise_for_status()
        accepted += int(response.json()["accepted"])
    return accepted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console.demo_posts", description=__doc__)
    parser.add_argument("--push", metavar="HUB_URL", help="POST to HUB_URL/ingest/posts")
    args = parser.parse_args(argv)
    posts = demo_posts(datetime.now(UTC))
    if not args.push:
        for post in posts:
            print(json.dumps(post, ensure_ascii=False))
        return 0
    secret = os.environ.get("C360_WEBHOOK_SECRET", "")
    if not secret:
        print("set C360_WEBHOOK_SECRET to the hub's webhook secret", file=sys.stderr)
        return 2
    print(f"accepted {push_posts(args.push.rstrip('/'), secret, posts)} posts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
