"""Demo social posts for the console's brand pages: a stream of mentions of three banks over
the last 30 days up to now (Beijing days), a weekly rhythm (weekends quiet), daytime hours,
one set of recurring authors, reposts, and now and then an incident at 招商银行 (a burst of
app complaints) so the alert page has something to explain.

Every day's posts come from that day alone (seeded by its date, ids ``demo-YYYYMMDD-NNN``),
so generating again tomorrow gives the same posts for the days both windows hold: ``serve
--demo`` (hub/demo_posts.py) ingests only the ids not stored yet, and a hub restarted next
week tops its stream up instead of duplicating it.

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
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx

from ingest.social.synthetic import OUTAGE, ROUTINE, TAILS, WEEKLY
from ingest.social.webhook import signed_headers

TZ = ZoneInfo("Asia/Shanghai")
DAYS = 30
# (the name as people write it, its share of the main brand's volume); the term matcher
# (ingest/social/terms.py) maps 招行 -> 招商银行, 工行 -> 工商银行, 建行 -> 建设银行.
BRANDS = (("招行", 1.0), ("工行", 0.6), ("建行", 0.45))
SCALE = 0.2  # of synthetic.WEEKLY (about 17 posts a day over the three brands)
INCIDENT_EVERY = 13  # days whose ordinal divides by this: an incident at the main brand
# Worded so that snownlp's stock model labels them as meant (it calls plain statements negative).
POSITIVE = (
    "{b}的理财经理很专业，服务周到，非常满意",
    "{b}手机银行新版本很好用，转账很快，点赞",
    "{b}的信用卡额度提升了，很开心",
)
NEUTRAL = ("{b}发布公告", "{b}app更新到新版本了", "{b}的营业时间是几点")
NEGATIVE = (
    "{b}手机银行又闪退了，转账失败，太差劲了，投诉！",
    "{b}排队两个小时，柜台只开一个窗口，太失望了",
    "{b}信用卡年费乱收，客服推来推去，非常生气，要维权",
)
_authors = random.Random(7)
# (handle, followers, platform): the same people post about banks day after day.
AUTHORS = tuple(
    (
        f"user{n:02d}",
        _authors.choice((12, 150, 900, 4200, 25000)),
        _authors.choice(("weibo", "weibo", "wechat", "forum")),
    )
    for n in range(40)
)


def _at(day: date, rng: random.Random) -> datetime:
    """A daytime moment (07:00-23:30 Beijing) on ``day``, in UTC."""
    seconds = rng.randrange(7 * 3600, 23 * 3600 + 1800)
    return (datetime.combine(day, time(), TZ) + timedelta(seconds=seconds)).astimezone(UTC)


def _text(rng: random.Random, brand: str) -> str:
    kind = rng.random()
    if kind < 0.35:
        return rng.choice(ROUTINE).format(b=brand, x=rng.choice(TAILS))
    pool = POSITIVE if kind < 0.6 else NEUTRAL if kind < 0.82 else NEGATIVE
    return rng.choice(pool).format(b=brand)


def day_posts(day: date) -> list[dict[str, object]]:
    """The posts of one Beijing day, the same whenever they are generated."""
    rng = random.Random(day.toordinal())
    posts: list[dict[str, object]] = []

    def add(text: str, *, likes: int, at: datetime | None = None) -> dict[str, object]:
        handle, followers, platform = rng.choice(AUTHORS)
        post: dict[str, object] = {
            "id": f"demo-{day:%Y%m%d}-{len(posts):03d}",
            # A serial number keeps texts apart: the pipeline marks repeated text as duplicates.
            "text": f"{text}（{day:%m%d}{len(posts):03d}）",
            "author": handle,
            "author_followers": followers,
            "created_at": (at or _at(day, rng)).isoformat().replace("+00:00", "Z"),
            "platform": platform,
            "likes": likes,
            "reposts": rng.randrange(12),
            "replies": rng.randrange(8),
        }
        posts.append(post)
        return post

    base = WEEKLY[day.weekday()] * SCALE
    for brand, share in BRANDS:
        for _ in range(max(0, round(rng.gauss(base * share, (base * share) ** 0.5)))):
            add(_text(rng, brand), likes=rng.randrange(60))
    if day.toordinal() % INCIDENT_EVERY == 0:
        for _ in range(rng.randrange(24, 34)):
            template = rng.choice(OUTAGE + NEGATIVE[:1])
            add(template.format(b=BRANDS[0][0]), likes=rng.randrange(50, 400))
    for source in rng.sample(posts, k=len(posts) // 15):  # reposts, a little later
        at = datetime.fromisoformat(str(source["created_at"])) + timedelta(minutes=30)
        add(f"转发微博 //@{source['author']}: {source['text']}", likes=rng.randrange(5), at=at)
    return posts


def demo_posts(now: datetime, days: int = DAYS) -> list[dict[str, object]]:
    """The stream over the ``days`` Beijing days before today and today up to ``now``."""
    today = now.astimezone(TZ).date()
    cutoff = now.astimezone(UTC).isoformat().replace("+00:00", "Z")
    out: list[dict[str, object]] = []
    for back in range(days, -1, -1):
        day = day_posts(today - timedelta(days=back))
        out += [p for p in day if str(p["created_at"]) <= cutoff]
    return out


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
