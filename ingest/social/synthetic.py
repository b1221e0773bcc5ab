"""A synthetic brand stream for demos, benchmarks and tests (pure, seeded).

``days`` days of posts about three banks in Beijing daytime, with a weekly rhythm (Mondays
and paydays busy, weekends quiet: routine peaks that must not alert), an outage of the main
brand on two days (a burst of negative posts about the app), reposts and verbatim copies of
earlier posts (text duplicates, later in time than their original), English posts (the model
cannot judge them: UNSUPPORTED), some posts delivered twice (same id) and a few malformed
lines. :class:`Stream` says what it holds, so a test can compare the store with it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

BANKS = ("招商银行", "工商银行", "建设银行")
MAIN = BANKS[0]
# Posts per day of the main brand by weekday (Mon..Sun); the others get a share of it.
WEEKLY = (60, 42, 40, 40, 48, 26, 24)
OTHER_SHARE = {"工商银行": 0.6, "建设银行": 0.4}

ROUTINE = (
    "{b}的信用卡积分兑换挺方便，{x}",
    "今天去{b}网点办了业务，{x}",
    "{b}手机银行的理财页面改版了，{x}",
    "{b}的客服态度不错，{x}",
    "{b}这个月的存款利率又调了，{x}",
    "问一下{b}的房贷提前还款要预约吗，{x}",
    "{b}的排队时间有点长，{x}",
    "{b}信用卡账单分期手续费太高了，{x}",
    "用{b}APP转账很快，{x}",
    "{b}的基金定投收益还行，{x}",
)
TAILS = (
    "整体满意",
    "体验还可以",
    "下次还来",
    "有点失望",
    "一般般吧",
    "值得推荐",
    "希望改进",
    "还算顺利",
    "速度挺快",
    "服务周到",
)
OUTAGE = (
    "{b}APP又崩了，登录不上，转账失败，急死了",
    "{b}手机银行系统故障，一直显示网络异常，工资都取不出来",
    "{b}APP闪退登录不上，客服电话也打不通，太耽误事了",
    "{b}系统崩溃，转账失败还扣了钱，投诉无门",
    "{b}手机银行瘫痪一上午，登录不上，非常愤怒",
)
ENGLISH = (
    "{b} app works fine today",
    "Visited a {b} branch this morning",
    "Any news about {b} deposit rates?",
)
ENGLISH_NAME = {"招商银行": "CMB", "工商银行": "ICBC", "建设银行": "CCB"}


@dataclass
class Stream:
    lines: list[dict[str, Any] | str]  # posts in time order; str: a malformed line
    posts: int  # distinct post ids
    redelivered: int  # ids delivered twice
    copies: int  # posts whose text copies an earlier post (reposts + verbatim)
    reposts: int  # of which marked as reposts
    english: int
    malformed: int
    spike_days: list[str] = field(default_factory=list)  # local dates (Asia/Shanghai)
    start: datetime = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday


def _moment(day: datetime, rng: random.Random) -> str:
    """A time on local day ``day`` (Beijing, UTC+8) between 07:00 and 23:00 local."""
    local_seconds = rng.randrange(7 * 3600, 23 * 3600)
    return (day - timedelta(hours=8) + timedelta(seconds=local_seconds)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def generate(
    days: int = 60,
    *,
    seed: int = 7,
    scale: float = 1.0,
    spike_day: int = 45,
    spike_posts: int = 300,
) -> Stream:
    """The stream; ``scale`` multiplies the routine volume, the outage is on local days
    ``spike_day`` and ``spike_day + 1`` (``spike_posts`` posts over the two)."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 6, tzinfo=UTC)  # local midnight of a Monday, as a date
    posts: list[dict[str, Any]] = []
    english = copies = reposts = 0
    n = 0

    def add(text: str, when: str, **extra: Any) -> dict[str, Any]:
        nonlocal n
        n += 1
        handle = f"user_{rng.randrange(400)}"
        post = {
            "id": f"w{n}",
            "text": text,
            "created_at": when,
            "author": handle,
            "author_followers": rng.choice((10, 50, 200, 1000, 20000)),
            "likes": rng.randrange(20),
            "reposts": rng.randrange(5),
            "replies": rng.randrange(5),
            **extra,
        }
        posts.append(post)
        return post

    for d in range(days):
        day = start + timedelta(days=d)
        base = WEEKLY[day.weekday()] * scale
        if day.day in (10, 11):  # paydays: busy, routinely
            base *= 1.3
        for bank in BANKS:
            volume = base * (1.0 if bank == MAIN else OTHER_SHARE[bank])
            for _ in range(max(0, round(rng.gauss(volume, volume**0.5)))):
                if rng.random() < 0.02:
                    english += 1
                    text = rng.choice(ENGLISH).format(b=ENGLISH_NAME[bank])
                    add(text, _moment(day, rng), lang="en")
                    continue
                template = rng.choice(ROUTINE)
                text = template.format(b=bank, x=rng.choice(TAILS)) + f" #{rng.randrange(10**6)}"
                add(text, _moment(day, rng))
        if d in (spike_day, spike_day + 1):
            for _ in range(spike_posts // 2):
                text = rng.choice(OUTAGE).format(b=MAIN) + f" {rng.randrange(10**6)}"
                add(text, _moment(day, rng), likes=rng.randrange(50, 500))

    # Copies of earlier posts, later in time: Weibo reposts and verbatim copies.
    originals = [p for p in posts if "lang" not in p]
    for _ in range(len(posts) // 20):
        source = rng.choice(originals)
        later = datetime.strptime(source["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=UTC
        ) + timedelta(minutes=rng.randrange(1, 600))
        when = later.strftime("%Y-%m-%dT%H:%M:%SZ")
        copies += 1
        if rng.random() < 0.5:
            reposts += 1
            add(f"转发微博 //@{source['author']}: {source['text']}", when)
        else:
            add(source["text"], when)

    posts.sort(key=lambda p: (p["created_at"], p["id"]))
    lines: list[dict[str, Any] | str] = list(posts)
    again = rng.sample(posts, 20)
    for p in again:  # the same post delivered again, later in the file, fresher metrics
        lines.insert(rng.randrange(lines.index(p) + 1, len(lines) + 1), {**p, "likes": 999})
    for k in range(3):
        lines.insert(rng.randrange(len(lines)), '{"id": "broken-' + str(k) + '", "text": ')
    spike = [(start + timedelta(days=d)).date().isoformat() for d in (spike_day, spike_day + 1)]
    return Stream(lines, len(posts), 20, copies, reposts, english, 3, spike, start)


def shuffled(stream: Stream, seed: int = 11) -> list[dict[str, Any] | str]:
    """The same lines in another order (a backfill, parallel collectors)."""
    lines = list(stream.lines)
    random.Random(seed).shuffle(lines)
    return lines


__all__ = ["BANKS", "MAIN", "Stream", "generate", "shuffled"]
