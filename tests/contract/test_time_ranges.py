"""Every time-range read returns exactly its range on every backend, boundaries included or
excluded as documented (FalkorDB's string range index once let rows past an upper bound
through: ``MATCH (p:Post) WHERE p.createdAt < $to`` returned every post)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from graph.repositories import campaigns, customer360, insights, satisfaction, social
from graph.repositories.accounts import upsert_accounts, upsert_transactions
from graph.repositories.customer360 import Page
from graph.repositories.customers import upsert_customers
from graph.repositories.interactions import upsert_interactions
from graph.store import GraphStore
from graph.timerange import time_cmp, time_range
from sentiment.trends import GRAPH_WIDTH

# Four instants: the range [T1, T2) holds T1 only; [T1, T2] holds T1 and T2.
T0, T1, T2, T3 = (
    "2025-03-01T00:00:00Z",
    "2025-03-01T12:00:00Z",
    "2025-03-02T00:00:00Z",
    "2025-03-03T00:00:00Z",
)
TIMES = (T0, T1, T2, T3)


async def _posts(store: GraphStore) -> None:
    rows = [
        {
            "platform": "x",
            "postId": f"p{n}",
            "ingestedAt": T3,
            "props": {
                "text": f"招商银行 {n}",
                "createdAt": t,
                "brands": ["招商银行"],
                "likes": n,
                "sentimentLabel": "NEGATIVE",
                "sentimentScore": -0.5,
            },
            "author": {"handle": "h", "props": {"followers": 1}},
            "brands": ["招商银行"],
            "products": ["P-CARD"],
        }
        for n, t in enumerate(TIMES)
    ]
    for row in rows:
        await social.upsert_posts(store, [row])


async def test_post_reads_take_from_inclusive_to_exclusive(cstore: GraphStore) -> None:
    await _posts(cstore)
    window = {"from": T1, "to": T2}
    total, page = await social.search_mentions(cstore, window, 0, 10)
    assert (total, [p["createdAt"] for p in page]) == (1, [T1])
    assert [p["createdAt"] for p in await social.top_posts(cstore, window, 10)] == [T1]
    trend = await social.trend_rows(cstore, window, GRAPH_WIDTH["DAY"])
    assert [(r["bucket"], r["count"]) for r in trend] == [("2025-03-01", 1)]
    authors = await social.top_authors(cstore, window, 10)
    assert [a["posts"] for a in authors] == [1]
    only_to = await social.search_mentions(cstore, {"to": T2}, 0, 10)
    assert only_to[0] == 2
    only_from = await social.search_mentions(cstore, {"from": T2}, 0, 10)
    assert only_from[0] == 2


async def test_post_ranges_and_rescore_pages_are_exact(cstore: GraphStore) -> None:
    await _posts(cstore)
    ranges = [
        {"start": "a", "since": T1, "until": T2},
        {"start": "b", "since": T2, "until": T3},
    ]
    found = await social.top_posts_in_ranges(cstore, None, ranges, 10)
    assert {k: [p["createdAt"] for p in v] for k, v in found.items()} == {"a": [T1], "b": [T2]}
    page = await social.posts_to_rescore(cstore, T1, None, 10)
    assert [p["createdAt"] for p in page] == [T1, T2, T3]
    after = await social.posts_to_rescore(cstore, None, [T2, "x", "p2"], 10)
    assert [p["createdAt"] for p in after] == [T3]
    products = await satisfaction.product_sentiment(cstore, T1, T2)
    assert [(p["product"], p["mentions"]) for p in products] == [("P-CARD", 1)]


async def _transactions_and_interactions(store: GraphStore) -> None:
    await upsert_customers(store, [{"id": "C1", "props": {"name": "张三"}}])
    await upsert_accounts(store, [{"id": "AC1", "props": {"type": "SAVINGS"}, "customerId": "C1"}])
    await upsert_transactions(
        store,
        [
            {"id": f"T{n}", "accountId": "AC1", "props": {"amount": 10.0 * n, "time": t}}
            for n, t in enumerate(TIMES)
        ],
    )
    await upsert_interactions(
        store,
        [
            {
                "id": f"I{n}",
                "customerId": "C1",
                "props": {
                    "kind": "MARKETING",
                    "time": t,
                    "satisfaction": 3,
                    "channel": "CALL",
                    "campaignId": "K1",
                },
            }
            for n, t in enumerate(TIMES)
        ],
    )


async def test_transaction_pages_take_both_bounds_inclusive(cstore: GraphStore) -> None:
    await _transactions_and_interactions(cstore)
    pages = await customer360.transaction_pages(
        cstore, ["C1"], limit=10, after=None, time_from=T1, time_to=T2
    )
    assert (pages["C1"].total, [t["time"] for t in pages["C1"].items]) == (2, [T2, T1])
    older = await customer360.transaction_pages(
        cstore, ["C1"], limit=10, after=(T2, "T2"), time_from=None, time_to=None
    )
    assert [t["time"] for t in older["C1"].items] == [T1, T0]
    history = await insights.histories(cstore, ["C1"], T2)
    assert sorted(t["time"] for t in history["C1"]["transactions"]) == [T2, T3]


async def test_interaction_windows_are_exact(cstore: GraphStore) -> None:
    await _transactions_and_interactions(cstore)
    feedback = await satisfaction.feedback(cstore, T1, T2)
    assert [r["time"] for r in feedback] == [T1]
    older = await customer360.interaction_pages(
        cstore, ["C1"], limit=10, after=(T2, "I2"), kind=None
    )
    assert [i["time"] for i in older["C1"].items] == [T1, T0]
    await campaigns.create_campaign(
        cstore, "K1", {"productCode": "P-CARD"}, [{"customerId": "C1", "group": "TREATMENT"}]
    )
    firsts = [
        (await campaigns.campaign_outcomes(cstore, "K1", "P-CARD", lo, lo, hi))[0]["firstContact"]
        for lo, hi in (
            ("2025-03-01T06:00:00Z", T2),
            ("2025-03-02T00:00:01Z", "2025-03-03T00:00:01Z"),
            ("2025-03-02T00:00:01Z", T3),  # to is exclusive
            ("2025-03-02T00:00:01Z", "2025-03-02T23:00:00Z"),
        )
    ]
    assert firsts == [T1, T3, None, None]


async def _count_posts(store: GraphStore, where: str, params: dict[str, str]) -> int:
    rows = await store.read(f"MATCH (p:Post) WHERE {where} RETURN count(p) AS n", params)
    return int(rows[0]["n"])


async def test_the_shared_condition_is_exact_for_every_bound(cstore: GraphStore) -> None:
    await _posts(cstore)
    cases = [
        (time_range("p.createdAt", None, "$to", optional=False), {"to": T2}, 2),
        (time_range("p.createdAt", None, "$to", until_inclusive=True), {"to": T2}, 3),
        (time_range("p.createdAt", "$from", None, optional=False), {"from": T2}, 2),
        (time_range("p.createdAt", "$from", "$to", optional=False), {"from": T1, "to": T2}, 1),
        (time_cmp("p.createdAt", "<", "$to"), {"to": T1}, 1),
        (time_cmp("p.createdAt", ">", "$to"), {"to": T2}, 1),
    ]
    assert [await _count_posts(cstore, w, p) for w, p, _ in cases] == [n for *_, n in cases]


async def test_raw_upper_bound_on_indexed_string(cstore: GraphStore) -> None:
    """Why graph.timerange exists: xfail (strict) on FalkorDB, where the indexed string
    comparison returns every post; when a FalkorDB release fixes it this test passes."""
    await _posts(cstore)
    assert await _count_posts(cstore, "p.createdAt < $to", {"to": T2}) == 2


async def test_campaign_windows_compare_to_the_fraction(cstore: GraphStore) -> None:
    """A campaign's window keeps its fraction (resolvers.analytics.iso_exact): the graph's
    duplicate check orders a whole second before its fractions (as text 10:00:00Z sorted after
    10:00:00.500000Z, so a window ending at 10:00:00 overlapped one from 10:00:00.500)."""
    same = {"product": "P-FINE", "audience": "{}"}

    async def create(campaign_id: str, start: str, end: str) -> int | None:
        props = {**same, "from": start, "to": end}
        return await campaigns.create_campaign(cstore, campaign_id, props, [])

    assert await create("KF1", "2025-03-01T10:00:00Z", "2025-03-02T10:00:00Z") == 0
    # From half a second after KF1's end: no overlap.
    assert await create("KF2", "2025-03-02T10:00:00.500000Z", "2025-03-03T10:00:00Z") == 0
    # Until half a second after KF1's start: overlaps it.
    assert await create("KF3", "2025-02-28T10:00:00Z", "2025-03-01T10:00:00.500000Z") is None
    # Until KF1's start exactly ([from, to)): no overlap.
    assert await create("KF4", "2025-02-28T10:00:00Z", "2025-03-01T10:00:00Z") == 0


# A day as the import keeps it (date-only: its midnight UTC) beside full times on both bounds.
DAY, NEXT_DAY = "2025-03-01", "2025-03-02"
LATE_EVE = "2025-02-28T23:59:59Z"
Cursor = tuple[str, str] | None


async def _mixed_times(store: GraphStore) -> None:
    """Transactions and interactions of C1 at the same instants written both ways."""
    times = {"D0": DAY, "F0": T0, "F1": T1, "D2": NEXT_DAY, "F2": T2, "FE": LATE_EVE}
    await upsert_customers(store, [{"id": "C1", "props": {"name": "张三"}}])
    await upsert_accounts(store, [{"id": "AC1", "props": {"type": "SAVINGS"}, "customerId": "C1"}])
    await upsert_transactions(
        store,
        [
            {"id": k, "accountId": "AC1", "props": {"amount": 1.0, "time": t, "kind": "DEPOSIT"}}
            for k, t in times.items()
        ],
    )
    await upsert_interactions(
        store,
        [
            {"id": k, "customerId": "C1", "props": {"kind": "COMPLAINT", "time": t}}
            for k, t in times.items()
        ],
    )


async def test_date_only_times_are_their_midnight_in_every_window(cstore: GraphStore) -> None:
    """A date-only time is its midnight UTC on both sides of a window (QA, session 26: as
    text 2025-03-01 sorted before 2025-03-01T00:00:00Z, so a day's window left it out and an
    inclusive end at that midnight too)."""
    await _mixed_times(cstore)

    async def window(since: str | None, to: str | None) -> set[str]:
        pages = await customer360.transaction_pages(
            cstore, ["C1"], limit=10, after=None, time_from=since, time_to=to
        )
        return {t["id"] for t in pages["C1"].items}

    # [T0, T2): the API's day (to exclusive: the repository gets its last second inclusive).
    assert await window(T0, "2025-03-01T23:59:59Z") == {"D0", "F0", "F1"}
    assert await window(T0, T2) == {"D0", "F0", "F1", "D2", "F2"}  # inclusive end
    assert await window(DAY, None) == {"D0", "F0", "F1", "D2", "F2"}  # a date-only bound
    assert await window(None, DAY) == {"D0", "F0", "FE"}
    assert await window(None, LATE_EVE) == {"FE"}
    assert await window("2025-03-01T00:00:01Z", "2025-03-01T23:59:59Z") == {"F1"}
    activity = await customer360.activity_by_customer(
        cstore, ["C1"], flow_since=T2, complaints_since=T0, until=T2
    )
    # Before T2 (exclusive): neither form of T2 counts; from T0 on: both forms of T0 do.
    assert activity["C1"]["complaints"] == 3
    assert activity["C1"]["netFlow"] == 0
    history = await insights.histories(cstore, ["C1"], T0, T2)
    assert sorted(t["time"] for t in history["C1"]["transactions"]) == [DAY, T0, T1]
    feedback = await satisfaction.feedback(cstore, T0, T2)
    assert {r["time"] for r in feedback} == {DAY, T0, T1}


async def _one_by_one(fetch: Callable[[Cursor], Awaitable[dict[str, Page]]]) -> list[str]:
    """The ids of C1's rows, read a page of one at a time, each after the last one's cursor."""
    seen: list[str] = []
    after: Cursor = None
    while items := (await fetch(after))["C1"].items:
        seen.append(items[0]["id"])
        after = (items[0]["time"], items[0]["id"])
    return seen


async def test_pages_over_date_only_and_full_times_list_each_row_once(cstore: GraphStore) -> None:
    """The cursor continues the order as listed: the date-only row sorts just before the same
    midnight in full, and a page ending on either leaves none out nor repeats one."""
    await _mixed_times(cstore)
    newest_first = ["F2", "D2", "F1", "F0", "D0", "FE"]
    assert (
        await _one_by_one(
            lambda after: customer360.transaction_pages(
                cstore, ["C1"], limit=1, after=after, time_from=None, time_to=None
            )
        )
        == newest_first
    )
    assert (
        await _one_by_one(
            lambda after: customer360.interaction_pages(
                cstore, ["C1"], limit=1, after=after, kind=None
            )
        )
        == newest_first
    )
