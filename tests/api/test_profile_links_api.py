"""Profile links of platforms other than X in a post's text, over GraphQL: the uid masked for
a caller who sees handles hashed, no term finds it (for any caller), a news link stays; posts
whose searchText an older hub wrote get it again when the graph is opened."""

from __future__ import annotations

from collections.abc import Callable

from graph.repositories.social import backfill_search_text, upsert_posts
from graph.store import GraphStore
from shared.post_text import SEARCH_TEXT_VERSION, normalise
from tests.api.conftest import Api
from tests.api.test_social_api import ok

UID, BILI, ARTICLE = "1234567890", "7654321", "2309404962180473651405"
TEXT = (
    f"招行客服 主页 https://weibo.com/u/{UID} 和 space.bilibili.com/{BILI} "
    f"新闻 https://weibo.com/ttarticle/p/show?id={ARTICLE}"
)
SHOWN = '{ mentions(filter: {term: "招行客服"}) { edges { node { text } } } }'


def count(term: str) -> str:
    # The term filter and the query language: both match searchText.
    return (
        f'{{ a: mentions(filter: {{term: "{term}"}}) {{ totalCount }} '
        f'b: mentions(filter: {{query: "{term}"}}) {{ totalCount }} }}'
    )


async def test_profile_links_are_masked_and_not_searchable(
    store: GraphStore, as_role: Callable[..., Api], officer: Api
) -> None:
    post = {"text": TEXT, "createdAt": "2026-11-30T11:30:00Z", "sentimentLabel": "POSITIVE"}
    await upsert_posts(
        store,
        [
            {
                "platform": "weibo",
                "postId": "p1",
                "ingestedAt": "2026-11-30T12:00:00Z",
                "props": post,
                "author": None,
                "brands": [],
                "products": [],
            }
        ],
    )
    brand = as_role("brand_analyst", "marketing", "b1")
    (shown,) = ok(await brand.gql(SHOWN))["mentions"]["edges"]
    text = shown["node"]["text"]
    assert UID not in text and BILI not in text
    assert "weibo.com/u/h:" in text and "space.bilibili.com/h:" in text
    assert f"https://weibo.com/ttarticle/p/show?id={ARTICLE}" in text  # names no one
    (plain,) = ok(await officer.gql(SHOWN))["mentions"]["edges"]
    assert plain["node"]["text"] == TEXT
    # A count would confirm a guessed uid: no term finds one, whoever asks.
    for caller in (brand, officer):
        for term in (UID, BILI):
            assert ok(await caller.gql(count(term))) == {
                "a": {"totalCount": 0},
                "b": {"totalCount": 0},
            }
        found = ok(await caller.gql(count(ARTICLE)))
        assert found == {"a": {"totalCount": 1}, "b": {"totalCount": 1}}


async def older_post(store: GraphStore, post_id: str, text: str, version: int) -> None:
    """A weibo post whose searchText the hub's search text ``version`` wrote."""
    await store.write(
        "CREATE (:Post {platform: 'weibo', postId: $id, text: $text, searchText: $old,"
        " searchTextVersion: $version, createdAt: '2026-11-30T11:30:00Z'})",
        {"id": post_id, "text": text, "old": normalise(text), "version": version},
    )


async def test_search_text_an_older_hub_wrote_is_written_again(
    store: GraphStore, officer: Api
) -> None:
    # Written before profile links other than X's were left out: the uid is searchable
    # (no searchTextVersion), until open_store's backfill writes searchText again.
    await store.write(
        "CREATE (:Post {platform: 'weibo', postId: 'old', text: $text, searchText: $old,"
        " createdAt: '2026-11-30T11:30:00Z'})",
        {"text": TEXT, "old": TEXT.lower()},
    )
    assert ok(await officer.gql(count(UID)))["a"] == {"totalCount": 1}
    assert await backfill_search_text(store) == 1
    assert await backfill_search_text(store) == 0
    (row,) = await store.read(
        "MATCH (p:Post {postId: 'old'}) RETURN p.searchText AS t, p.searchTextVersion AS v"
    )
    assert UID not in row["t"] and BILI not in row["t"] and ARTICLE in row["t"]
    assert row["v"] == SEARCH_TEXT_VERSION
    assert ok(await officer.gql(count(UID))) == {"a": {"totalCount": 0}, "b": {"totalCount": 0}}
    assert ok(await officer.gql(count("招行客服")))["a"] == {"totalCount": 1}


async def test_search_text_of_the_previous_version_is_written_again(
    store: GraphStore, officer: Api
) -> None:
    # Version 3 left a uid written in full-width digits, or after a percent-escaped "u", in
    # searchText (and the API showed it): the backfill writes it again, nothing else.
    wide, escaped = "８２３４５６７８９０", "9234567890"
    text = f"招行客服 ｗｅｉｂｏ．ｃｏｍ／ｕ／{wide} 和 weibo.com/%75/{escaped}"
    await older_post(store, "v3", text, 3)
    await store.write(
        "CREATE (:Post {platform: 'weibo', postId: 'now', text: 'x', searchText: 'kept',"
        " searchTextVersion: $version, createdAt: '2026-11-30T11:30:00Z'})",
        {"version": SEARCH_TEXT_VERSION},
    )
    assert ok(await officer.gql(count("8234567890")))["a"] == {"totalCount": 1}
    assert await backfill_search_text(store) == 1
    rows = await store.read(
        "MATCH (p:Post) RETURN p.postId AS id, p.searchText AS t, p.searchTextVersion AS v"
        " ORDER BY id"
    )
    assert rows == [
        {"id": "now", "t": "kept", "v": SEARCH_TEXT_VERSION},
        {"id": "v3", "t": "招行客服 weibo.com/u/ 和 weibo.com/%75/", "v": SEARCH_TEXT_VERSION},
    ]
    for uid in ("8234567890", escaped):
        assert ok(await officer.gql(count(uid))) == {"a": {"totalCount": 0}, "b": {"totalCount": 0}}


async def test_search_text_of_version_11_is_written_again_without_old_id_numbers(
    store: GraphStore, officer: Api
) -> None:
    # Session 22: version 11 left an ID number in its first-generation 15-digit form in
    # searchText, so a term of its birth date or the whole number found the post.
    text = "招行客服 身份证 110105850312123 请回电"
    await older_post(store, "v11", text, 11)
    assert ok(await officer.gql(count("110105850312123")))["a"] == {"totalCount": 1}
    assert await backfill_search_text(store) == 1
    (row,) = await store.read("MATCH (p:Post {postId: 'v11'}) RETURN p.searchText AS t")
    assert row["t"] == "招行客服 身份证  请回电"
    none = {"a": {"totalCount": 0}, "b": {"totalCount": 0}}
    for term in ("110105850312123", "850312"):
        assert ok(await officer.gql(count(term))) == none
    assert ok(await officer.gql(count("招行客服")))["a"] == {"totalCount": 1}


async def test_a_card_number_in_a_post_is_masked_and_left_out_of_search_text(
    store: GraphStore, as_role: Callable[..., Api], officer: Api
) -> None:
    # QA, session 22: a post's card number was shown whole to a brand analyst, and version 12
    # kept it in searchText, so a term of it (or of its last group) found the post.
    text = "招行客服 我的卡6225880212345678被盗刷 另一张 6222 0212 3456 7890 128"
    await older_post(store, "v12", text, 12)
    assert ok(await officer.gql(count("6225880212345678")))["a"] == {"totalCount": 1}
    assert await backfill_search_text(store) == 1
    none = {"a": {"totalCount": 0}, "b": {"totalCount": 0}}
    for term in ("6225880212345678", "0212 3456", "7890"):
        assert ok(await officer.gql(count(term))) == none
    assert ok(await officer.gql(count("盗刷")))["a"] == {"totalCount": 1}
    brand = as_role("brand_analyst", "marketing", "b1")
    (shown,) = ok(await brand.gql(SHOWN))["mentions"]["edges"]
    assert shown["node"]["text"] == "招行客服 我的卡***被盗刷 另一张 ***"
    (plain,) = ok(await officer.gql(SHOWN))["mentions"]["edges"]
    assert plain["node"]["text"] == text
