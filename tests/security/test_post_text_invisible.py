"""QA, session 25: ID, card and phone numbers with invisible characters between their digits
(U+2060, U+00AD, U+FEFF, ...), a handle after a zero-width space, and the accounts Weibo's
HTML link markup names (href='/n/<name>', usercard='name=<name>') were shown whole to a
brand analyst and found by terms spelling them. Posts pushed through the signed webhook, read
through `mentions` as the brand analyst; and search text stored by the version before is
written again when the graph is opened.

Real ingest pipeline, FalkorDB and Rego policy; the API over its ASGI app."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from graph.connect import run_upgrades
from graph.store import GraphStore
from privacy.masking import hash_token
from privacy.secrets import load_or_create_secret
from shared.post_text import SEARCH_TEXT_VERSION
from tests.api.conftest import Api
from tests.api.test_social_api import ok
from tests.api.test_subscriptions import server  # noqa: F401 (a fixture)
from tests.security.test_post_text_personal import (  # noqa: F401 (as_role, settings: fixtures)
    FEED,
    HANDLE,
    as_role,
    found_by_no_term,
    push,
    settings,
    texts,
)

POSTS = {
    "i1": "招行身份证 110105\u206019900102\u20600022",
    "i2": "招行卡号6222\u00ad0212\u00ad3456\u00ad7890\u00ad128",
    "i3": "招行电话 138\ufeff1234\ufeff5678",
    "i4": "招行电话 139\u200c8765\u200d4321 或 137\u034f1111\u180e2222",
    "i5": "招行 @\u200bzhangsan 说的",
    "i6": "<a href='/n/李小龙abc' usercard='name=李小龙abc'>@李小龙abc</a> "
    "招行客服态度不错<br />点赞",
}
TERMS = (
    "19900102", "110105", "6222", "3456", "5678", "1234", "8765", "4321", "1111", "2222",
    "zhangsan", "李小龙abc", "李小龙",
)  # fmt: skip


async def test_numbers_and_handles_behind_invisible_characters_are_masked_and_not_found(
    store: GraphStore,
    server: str,  # noqa: F811 (the fixture imported above)
    as_role: Callable[..., Api],  # noqa: F811
    data_dir: Path,
) -> None:
    sent = [
        {"id": pid, "text": text, "author": HANDLE, "created_at": f"2026-11-30T11:3{i}:00Z"}
        for i, (pid, text) in enumerate(POSTS.items())
    ]
    response = await push(server, sent)
    assert response.status_code == 200 and response.json()["accepted"] == len(POSTS)
    key = load_or_create_secret(data_dir, "mask-hmac")
    zhangsan = hash_token("zhangsan", "SOCIAL_HANDLE", key)
    li = hash_token("李小龙abc", "SOCIAL_HANDLE", key)

    analyst = as_role("brand_analyst", None, "b1")
    feed = ok(await analyst.gql(FEED))["mentions"]["edges"]
    assert texts(feed) == {
        "i1": "招行身份证 ***",
        "i2": "招行卡号***",
        "i3": "招行电话 ***",
        "i4": "招行电话 *** 或 ***",
        "i5": f"招行 @\u200b{zhangsan} 说的",
        "i6": f"<a href='/n/{li}' usercard='name={li}'>@{li}</a> 招行客服态度不错<br />点赞",
    }
    # As stored, for a role that sees them all.
    officer = as_role("privacy_officer", "compliance")
    assert texts(ok(await officer.gql(FEED))["mentions"]["edges"]) == POSTS

    for caller in (analyst, officer):
        await found_by_no_term(caller, TERMS)
        # The words around them are still found.
        found = ok(
            await caller.gql('{ mentions(filter: {term: "招行客服态度不错"}) { totalCount } }')
        )
        assert found["mentions"]["totalCount"] == 1

    # Search text an older version stored (the ID's digits in it) is written again when the
    # graph is opened (graph.connect.run_upgrades: the version raised, backfill_search_text).
    await store.write(
        "MATCH (p:Post {postId: 'i1'}) SET p.searchText = $t, p.searchTextVersion = $v",
        {"t": "招行身份证 110105\u206019900102\u20600022", "v": SEARCH_TEXT_VERSION - 1},
    )
    await store.write(
        "MATCH (s:C360Schema) SET s.searchTextVersion = $v", {"v": SEARCH_TEXT_VERSION - 1}
    )
    assert "searchTextVersion" in await run_upgrades(store)
    await found_by_no_term(officer, ("19900102",))
