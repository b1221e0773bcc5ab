from __future__ import annotations

import codecs
import time

import httpx
import orjson
from starlette.applications import Starlette

from graph.repositories import social
from graph.store import GraphStore
from ingest.social.webhook import PostsWebhook, signed_headers, webhook_route

SECRET = "s3cret"


def app_for(store: GraphStore, secret: str = SECRET) -> Starlette:
    app = Starlette(routes=[webhook_route(PostsWebhook(secret, default_platform="wechat"))])
    app.state.store = store
    return app


async def post(app: Starlette, body: bytes, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        return await client.post("/ingest/posts", content=body, headers=headers)


GOOD = [
    {
        "id": "m1",
        "text": "招行客服很耐心，非常满意",
        "author": "a",
        "created_at": "2025-03-01T08:00:00Z",
    },
    {
        "id": "m2",
        "text": "排队太久了，非常失望",
        "author": "b",
        "created_at": "2025-03-01T09:00:00Z",
    },
]


async def count(store: GraphStore) -> int:
    return (await store.read("MATCH (p:Post) RETURN count(p) AS n"))[0]["n"]


async def test_good_signature_stores(store: GraphStore) -> None:
    app, body = app_for(store), orjson.dumps(GOOD)
    response = await post(app, body, signed_headers(SECRET, body))
    assert response.status_code == 200
    assert response.json() == {"accepted": 2, "updated": 0, "duplicates": 0}
    # A re-send is a new push: a new timestamp (the same signature again is a replay).
    again = await post(app, body, signed_headers(SECRET, body, now=time.time() + 1))
    assert again.json() == {"accepted": 0, "updated": 0, "duplicates": 2}
    rows = await store.read("MATCH (p:Post {postId: 'm1'}) RETURN p.platform AS pl")
    assert rows == [{"pl": "wechat"}] and await count(store) == 2


async def stored(store: GraphStore, post_id: str) -> dict[str, object]:
    rows = await store.read(
        "MATCH (p:Post {postId: $id}) "
        "RETURN p.text AS text, p.sentimentLabel AS label, p.sentimentScore AS score",
        {"id": post_id},
    )
    assert len(rows) == 1
    return rows[0]


async def test_a_push_tells_new_edited_and_repeated_posts(store: GraphStore) -> None:
    app, pushes = app_for(store), 0

    async def push(items: list[dict[str, object]]) -> dict[str, int]:
        nonlocal pushes
        pushes += 1  # a new timestamp: a new push, not a replay
        body = orjson.dumps(items)
        response = await post(app, body, signed_headers(SECRET, body, now=time.time() + pushes))
        assert response.status_code == 200, response.text
        return response.json()

    assert await push([GOOD[0]]) == {"accepted": 1, "updated": 0, "duplicates": 0}
    before = await stored(store, "m1")
    # The same post again: an exact repeat.
    assert await push([GOOD[0]]) == {"accepted": 0, "updated": 0, "duplicates": 1}
    # Its text edited, beside a new post: one update (re-scored), one new, no repeat.
    edited = {**GOOD[0], "text": "招行客服态度恶劣，非常失望，再也不用了"}
    assert await push([edited, GOOD[1]]) == {"accepted": 1, "updated": 1, "duplicates": 0}
    after = await stored(store, "m1")
    assert after["text"] == edited["text"] != before["text"]
    assert (before["label"], after["label"]) == ("POSITIVE", "NEGATIVE")
    assert after["score"] != before["score"]
    # The edit pushed again is a repeat; two copies in one push are one update and a repeat.
    assert await push([edited]) == {"accepted": 0, "updated": 0, "duplicates": 1}
    assert await push([GOOD[0], GOOD[0]]) == {"accepted": 0, "updated": 1, "duplicates": 1}
    assert (await stored(store, "m1"))["text"] == GOOD[0]["text"]
    assert await count(store) == 2


async def test_a_corrected_label_holds_for_its_text_only(store: GraphStore) -> None:
    app, body = app_for(store), orjson.dumps([GOOD[0]])
    assert (await post(app, body, signed_headers(SECRET, body))).status_code == 200
    await social.correct_label(store, "wechat", "m1", "NEUTRAL", "analyst-1", "2025-03-02", "irony")
    # The same text again: the person's label stays over the model's.
    again = await post(app, body, signed_headers(SECRET, body, now=time.time() + 1))
    assert again.json()["duplicates"] == 1
    assert (await stored(store, "m1"))["label"] == "NEUTRAL"
    # An edited text was never read by that person: the model's label, and no training pair.
    edited = orjson.dumps([{**GOOD[0], "text": "招行客服态度恶劣，非常失望，再也不用了"}])
    response = await post(app, edited, signed_headers(SECRET, edited, now=time.time() + 2))
    assert response.json()["updated"] == 1
    assert (await stored(store, "m1"))["label"] == "NEGATIVE"
    assert await social.label_corrections(store) == []


async def test_bad_signature_401(store: GraphStore) -> None:
    body = orjson.dumps(GOOD)
    assert (await post(app_for(store), body, signed_headers("wrong", body))).status_code == 401
    assert (await post(app_for(store), body, {})).status_code == 401
    assert await count(store) == 0


async def test_bad_body_400_writes_nothing(store: GraphStore) -> None:
    body = orjson.dumps([*GOOD, {"id": "m3", "text": "缺时间"}])
    response = await post(app_for(store), body, signed_headers(SECRET, body))
    assert response.status_code == 400
    items = response.json()["items"]
    assert items[0]["index"] == 2 and items[0]["reasons"][0].startswith("created_at")
    assert await count(store) == 0
    junk = b"{not json"
    assert (await post(app_for(store), junk, signed_headers(SECRET, junk))).status_code == 400


async def test_a_body_not_in_utf8_is_refused_by_its_encoding(store: GraphStore) -> None:
    """GBK and UTF-16 bodies (a sender's platform default) are 400s that name the encoding,
    not orjson's "str is not valid UTF-8: surrogates not allowed" or "unexpected character"."""
    text = orjson.dumps(GOOD).decode()
    cases = {
        text.encode("gbk"): "it looks like GBK/GB18030",
        text.encode("utf-16"): "it looks like UTF-16",  # with a byte order mark
        text.encode("utf-16-le"): "it looks like UTF-16",
        text.encode("utf-16-be"): "it looks like UTF-16",
        codecs.BOM_UTF8 + text.encode(): "it starts with a UTF-8 byte order mark",
    }
    for body, looks in cases.items():
        response = await post(app_for(store), body, signed_headers(SECRET, body))
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error.startswith(f"the body must be UTF-8 JSON; {looks}"), error
        assert error.endswith("; nothing stored"), error
        assert "Traceback" not in response.text
    assert await count(store) == 0
    # Valid UTF-8 that is not JSON still says that.
    junk = "{不是 json".encode()
    response = await post(app_for(store), junk, signed_headers(SECRET, junk))
    assert response.json()["error"].startswith("not valid JSON ("), response.text


async def test_a_body_giving_a_key_twice_is_refused_naming_it(store: GraphStore) -> None:
    """A signed body is evidence: {"text": "a", "text": "b"} says two things, and was stored
    as its last value without a word (QA, session 22). Refused, the key named, nothing stored."""
    post_ = '{"id": "d1", "text": "a", "author": "x", "created_at": "2025-03-01T08:00:00Z"'
    cases = {
        f'[{post_}, "text": "b"}}]': "text",  # inside a post
        f'{{"posts": [{post_}}}], "posts": []}}': "posts",  # at the top
        '[{"id": "d2", "text": "ok", "author": "x", "created_at": "2025-03-01T08:00:00Z",'
        ' "extra": {"k": 1, "k": 2}}]': "k",  # anywhere in it
    }
    for text, key in cases.items():
        body = text.encode()
        response = await post(app_for(store), body, signed_headers(SECRET, body))
        assert response.status_code == 400, (text, response.text)
        error = response.json()["error"]
        assert error.startswith(f"the key '{key}' appears twice in one object: "), error
        assert error.endswith("; nothing stored"), error
    assert await count(store) == 0
    # The same keys once each, and the same key in two objects, are fine.
    body = orjson.dumps(GOOD)
    assert (await post(app_for(store), body, signed_headers(SECRET, body))).status_code == 200


async def test_disabled_without_secret(store: GraphStore) -> None:
    body = orjson.dumps(GOOD)
    response = await post(app_for(store, secret=""), body, signed_headers("", body))
    assert response.status_code == 503 and "disabled" in response.json()["error"]


async def test_hub_app_serves_the_webhook(store: GraphStore, data_dir) -> None:
    from hub.app import create_app
    from hub.settings import Settings

    app = create_app(Settings(data_dir=data_dir, webhook_secret=SECRET), store=store)
    body = orjson.dumps(GOOD[0])
    async with app.router.lifespan_context(app):
        response = await post(app, body, signed_headers(SECRET, body))
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 1, "updated": 0, "duplicates": 0}
    assert await count(store) == 1


async def test_a_utf32_or_latin1_body_is_named_as_what_it_is(store: GraphStore) -> None:
    """QA, session 22: a UTF-32 body was said to look like UTF-16 (its mark FF FE 00 00 begins
    with UTF-16's) and a Latin-1 one like "cp1250", charset-normalizer's exact guess."""
    text = orjson.dumps([{**GOOD[0], "text": "Café crème, très cher à la banque"}]).decode()
    cases = {
        text.encode("utf-32"): "it looks like UTF-32",  # with a byte order mark
        text.encode("utf-32-le"): "it looks like UTF-32",
        text.encode("utf-32-be"): "it looks like UTF-32",
        text.encode("utf-16-le"): "it looks like UTF-16",
        text.encode("latin-1"): "it looks like a single-byte encoding such as Latin-1/cp1252",
    }
    for body, looks in cases.items():
        response = await post(app_for(store), body, signed_headers(SECRET, body))
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error.startswith(f"the body must be UTF-8 JSON; {looks}"), error
    assert await count(store) == 0
