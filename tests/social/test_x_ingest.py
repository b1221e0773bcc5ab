from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.store import GraphStore
from sentiment.scorer import Scorer
from tests.social.conftest import invoke, summary_rows
from tests.standins.fake_x_api import FakeXState, fake_x_api

N = 15  # two pages of 10


@pytest.fixture
def fake_x() -> Iterator[tuple[str, FakeXState]]:
    state = FakeXState()
    for i in range(1, N + 1):
        state.add_tweet(
            i, f"招行信用卡客服很好，第{i}次点赞", f"user{i % 2}", f"2025-03-{i:02d}T08:00:00.000Z"
        )
    with fake_x_api(state) as served:
        yield served


def env_for(cli_env: dict[str, str], base: str) -> dict[str, str]:
    return cli_env | {"C360_X_API_BASE": base, "C360_X_BEARER_TOKEN": "test-token"}


ARGS = ["ingest", "x", "--query", "招行", "--page-size", "10"]


async def post_ids(store: GraphStore) -> list[int]:
    rows = await store.read("MATCH (p:Post {platform: 'x'}) RETURN p.postId AS id")
    return sorted(int(r["id"]) for r in rows)


async def test_two_pages_then_since_id(store: GraphStore, cli_env, fake_x) -> None:
    base, state = fake_x
    result = await invoke(ARGS, env_for(cli_env, base))
    assert result.exit_code == 0, result.output
    assert await post_ids(store) == list(range(1, N + 1))
    assert [q.get("next_token") for q in state.requests] == [None, ["p10"]]
    assert state.requests[0]["tweet.fields"][0].split(",") == [
        "created_at",
        "lang",
        "public_metrics",
        "referenced_tweets",
        "author_id",
        "conversation_id",
    ]
    row = (
        await store.read(
            "MATCH (a:SocialAccount)-[:POSTED]->(p:Post {postId: '5'}) "
            "RETURN a.handle AS h, a.followers AS f, p.brands AS b, p.products AS pr, "
            "p.sentimentModel AS l, p.likes AS likes, p.createdAt AS t"
        )
    )[0]
    assert row == {
        "h": "user1",
        "f": 100,
        "b": ["招商银行"],
        "pr": ["CREDIT-CARD"],
        "l": Scorer().version,
        "likes": 3,
        "t": "2025-03-05T08:00:00Z",
    }

    state.requests.clear()
    state.add_tweet(99, "招行手机银行闪退，太差了", "user0", "2025-03-20T08:00:00.000Z")
    again = await invoke(ARGS, env_for(cli_env, base))
    assert again.exit_code == 0, again.output
    assert state.requests[0]["since_id"] == [str(N)]
    assert await post_ids(store) == [*range(1, N + 1), 99]
    saved = json.loads((Path(cli_env["C360_DATA_DIR"]) / "checkpoints" / "x.json").read_text())
    assert saved["query:招行"] == {"since_id": "99"}


async def test_a_pull_again_tells_edited_from_repeated_posts(
    store: GraphStore, cli_env, fake_x
) -> None:
    base, state = fake_x
    assert (await invoke(ARGS, env_for(cli_env, base))).exit_code == 0
    # The since_id lost (a fresh checkpoints folder): the same window is pulled again, one
    # tweet of it edited, one new.
    (Path(cli_env["C360_DATA_DIR"]) / "checkpoints" / "x.json").unlink()
    state.tweets[4]["text"] = "招行信用卡客服太差了，投诉无门"
    state.add_tweet(99, "招行手机银行闪退，太差了", "user0", "2025-03-20T08:00:00.000Z")
    again = await invoke(ARGS, env_for(cli_env, base))
    assert again.exit_code == 0, again.output
    rows = summary_rows(again.output)
    assert (rows["received"], rows["new posts"]) == (str(N + 1), "1")
    assert rows["updated (text edited, re-scored)"] == "1"
    assert rows["unchanged (stored, same text)"] == str(N - 1)
    edited = await store.read(
        "MATCH (p:Post {platform: 'x', postId: '5'}) RETURN p.text AS t, p.sentimentLabel AS l"
    )
    assert edited == [{"t": state.tweets[4]["text"], "l": "NEGATIVE"}]


async def test_rate_limit_is_survived(store: GraphStore, cli_env, fake_x) -> None:
    base, state = fake_x
    state.fail_at[2] = 429  # the second page is rate limited once
    result = await invoke(ARGS, env_for(cli_env, base))
    assert result.exit_code == 0, result.output
    assert len(state.requests) == 3
    assert await post_ids(store) == list(range(1, N + 1))


async def test_server_error_keeps_stored_pages(store: GraphStore, cli_env, fake_x) -> None:
    base, state = fake_x
    state.fail_at[2] = 500
    result = await invoke(ARGS, env_for(cli_env, base))
    assert result.exit_code == 1
    assert "HTTP 500" in result.output
    assert await post_ids(store) == list(range(6, N + 1))  # the first page (newest 10) kept

    state.requests.clear()
    resumed = await invoke(ARGS, env_for(cli_env, base))
    assert resumed.exit_code == 0, resumed.output
    assert state.requests[0]["next_token"] == ["p10"]  # resumes at the failed page
    assert await post_ids(store) == list(range(1, N + 1))
    saved = json.loads((Path(cli_env["C360_DATA_DIR"]) / "checkpoints" / "x.json").read_text())
    assert saved["query:招行"] == {"since_id": str(N)}


async def test_forbidden_reports_status(store: GraphStore, cli_env, fake_x) -> None:
    base, state = fake_x
    state.fail_at[1] = 403
    result = await invoke(ARGS, env_for(cli_env, base))
    assert result.exit_code == 1
    assert "HTTP 403" in result.output
    assert await post_ids(store) == []


async def test_missing_token_is_one_sentence(cli_env) -> None:
    result = await invoke(ARGS, cli_env | {"C360_X_BEARER_TOKEN": ""})
    assert result.exit_code == 2
    assert "C360_X_BEARER_TOKEN" in result.output


async def test_a_tweet_with_a_nul_is_left_out_not_the_page(
    store: GraphStore, cli_env, fake_x
) -> None:
    base, state = fake_x
    state.add_tweet(77, "招行\u0000坏", "user0", "2025-03-20T08:00:00.000Z")
    result = await invoke(ARGS, env_for(cli_env, base))
    assert result.exit_code == 0, result.output
    assert await post_ids(store) == list(range(1, N + 1))


async def test_a_page_limit_leaves_the_older_pages_for_the_next_run(
    store: GraphStore, cli_env, fake_x
) -> None:
    base, state = fake_x
    first = await invoke([*ARGS, "--max-pages", "1"], env_for(cli_env, base))
    assert first.exit_code == 0, first.output
    assert await post_ids(store) == list(range(6, N + 1))  # the newest page only
    assert "older posts left" in " ".join(first.output.split())

    state.add_tweet(99, "招行手机银行闪退，太差了", "user0", "2025-03-20T08:00:00.000Z")
    state.requests.clear()
    second = await invoke(ARGS, env_for(cli_env, base))
    assert second.exit_code == 0, second.output
    assert state.requests[0]["next_token"] == ["p10"]  # the page the limit left
    assert await post_ids(store) == list(range(1, N + 1))

    third = await invoke(ARGS, env_for(cli_env, base))
    assert third.exit_code == 0, third.output
    assert state.requests[-1]["since_id"] == [str(N)]
    assert await post_ids(store) == [*range(1, N + 1), 99]


async def test_an_x_username_takes_the_handle_rule_of_files_and_links(
    store: GraphStore, cli_env, fake_x
) -> None:
    # QA, session 22: `username: "bad name"` from the X API was stored as an account.
    base, state = fake_x
    state.add_tweet(78, "招行不错", "bad name", "2025-03-20T08:00:00.000Z")
    state.add_tweet(79, "招行不错", "ｕｓｅｒ0", "2025-03-21T08:00:00.000Z")
    state.add_tweet(80, "招行不错", "@user1", "2025-03-22T08:00:00.000Z")
    result = await invoke(ARGS, env_for(cli_env, base))
    assert result.exit_code == 0, result.output
    assert await post_ids(store) == [*range(1, N + 1), 80]
    rows = await store.read("MATCH (a:SocialAccount {platform: 'x'}) RETURN a.handle AS h")
    assert sorted(r["h"] for r in rows) == ["user0", "user1"]
