"""``Customer.mentions`` pages by post (keyset), like the brand feed ``mentions``: a customer's
newer post arriving between pages neither repeats one nor skips one, the total stays every
post, each page's posts are audited, and cursors this API did not give (garbage, forged, or
the position cursors of before) are BAD_USER_INPUT."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import orjson
import pytest

from graph.repositories.customers import upsert_customers
from graph.repositories.social import link_social_accounts
from graph.store import GraphStore
from privacy.audit import AuditLog
from privacy.keyring import KeyRing
from tests.api.conftest import Api, codes
from tests.api.test_social_api import ok
from tests.api.test_social_qa14 import feed_post, ingest

PAGE = """query CustomerPosts($a: String) { customer(id: "cm-1") { mentions(first: 2, after: $a) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { postId text author { handle } } }
} } }"""


async def linked_customer(store: GraphStore, tmp_path: Path, minutes: list[int]) -> None:
    """Customer cm-1 whose confirmed x handle ``u`` wrote a post f<i> at each minute."""
    await upsert_customers(store, [{"id": "cm-1", "props": {"name": "李娜"}}])
    await ingest(store, tmp_path, [feed_post(f"f{i}", m) for i, m in enumerate(minutes)])
    await link_social_accounts(store, [{"customerId": "cm-1", "platform": "x", "handle": "u"}])


async def page(api: Api, after: str | None) -> dict[str, Any]:
    return dict(ok(await api.gql(PAGE, {"a": after}))["customer"]["mentions"])


def post_ids(body: dict[str, Any]) -> list[str]:
    return [e["node"]["postId"] for e in body["edges"]]


async def test_a_newer_post_between_pages_neither_repeats_nor_skips(
    store: GraphStore, officer: Api, tmp_path: Path, data_dir: Path
) -> None:
    # Five posts, two at the same minute (ordered by platform and post id then).
    await linked_customer(store, tmp_path, [1, 2, 2, 3, 4])
    body = await page(officer, None)
    seen = post_ids(body)
    assert seen == ["f4", "f3"] and body["totalCount"] == 5
    # The customer posts again: a position cursor (2) would start the next page at f3 again.
    await ingest(store, tmp_path, [feed_post("new", 50)])
    pages = 1
    while body["pageInfo"]["hasNextPage"]:
        body = await page(officer, body["pageInfo"]["endCursor"])
        assert body["totalCount"] == 6  # every post, the new one included
        seen += post_ids(body)
        pages += 1
    assert seen == ["f4", "f3", "f1", "f2", "f0"], seen
    assert pages == 3
    # The customer governs their posts (personal data): each page's read is audited as the
    # customer's handle and text, revealed to the officer.
    records = [
        r
        for r in AuditLog(data_dir / "audit", KeyRing.load(data_dir)).read()
        if r["operation"] == "CustomerPosts"
    ]
    assert len(records) == pages
    for record in records:
        assert record["fields"] == {"cm-1": {"masked": [], "revealed": ["handle", "text"]}}


def b64(parts: list[str]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(parts)).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "WyJ1bmNsb3NlZA",  # base64 of '["unclosed'
        b64(["2026-11-30T10:02:00Z", "x"]),
        b64(["2026-11-30T10:02:00Z", "x", "f1\x00"]),
        b64(["9" * 30]),
        # Three parts no post has (QA, session 15): they gave page 1 again, or an empty page.
        b64(["notadate", "weibo", "1"]),
        b64(["9" * 5000, "x", "y"]),
        b64(["99999-01-01T00:00:00Z", "x", "1"]),
        b64(["2026-11-30T10:02:00Z", "myspace", "1"]),
        b64(["2026-11-30T10:02:00Z", "x", ""]),
    ],
)
async def test_a_cursor_this_api_did_not_give_is_bad_input(
    store: GraphStore, officer: Api, tmp_path: Path, cursor: str
) -> None:
    await linked_customer(store, tmp_path, [1, 2])
    body = await officer.gql(PAGE, {"a": cursor})
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == "after"
    assert "Traceback" not in str(body)


async def test_a_position_cursor_of_before_says_start_again(
    store: GraphStore, officer: Api, tmp_path: Path
) -> None:
    """Cursors handed out before this listing paged by post were positions (["2"])."""
    await linked_customer(store, tmp_path, [1, 2, 3])
    body = await officer.gql(PAGE, {"a": b64(["2"])})
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert "start again from the first page" in body["errors"][0]["message"]
