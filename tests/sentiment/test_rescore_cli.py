"""`c360 sentiment rescore` against the real embedded graph: posts scored by snownlp get the
default model's labels, probabilities, emotion and model id; a checkpoint resumes a run."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.repositories import social as repo
from graph.store import GraphStore
from ingest.checkpoint import Checkpoint
from ingest.social.model import SocialPost
from ingest.social.pipeline import PostPipeline
from ingest.social.terms import TermMatcher
from sentiment.batch import BatchScorer
from sentiment.scorer import Scorer, ScorerConfig
from tests.social.conftest import invoke

TEXTS = [
    "星河银行的手机银行太好用了，转账秒到，客服也很耐心，点赞！",
    "星河银行信用卡提额了，很开心，谢谢",
    "今天去招商银行深圳支行办信用卡，客户经理特别耐心，服务很好，点赞！",
    "手机银行又闪退了，转账失败，气死我了",
    "great app",
]


async def stored(store: GraphStore) -> dict[str, dict]:
    rows = await store.read(
        "MATCH (p:Post) RETURN p.postId AS id, p.sentimentLabel AS label, "
        "p.sentimentModel AS model, p.sentimentEmotion AS emotion, "
        "p.sentimentPositive AS pos, p.sentimentNegative AS neg, p.sentimentScore AS score"
    )
    return {r["id"]: r for r in rows}


async def test_rescore_relabels_and_resumes(store: GraphStore, cli_env: dict[str, str]) -> None:
    posts = [
        SocialPost(
            platform="weibo", post_id=f"r{i}", text=t, created_at=f"2025-03-0{i + 1}T08:00:00Z"
        )
        for i, t in enumerate(TEXTS)
    ]
    with BatchScorer(ScorerConfig("snownlp"), max_workers=1) as snow:
        await PostPipeline(store, snow, TermMatcher.default()).ingest(posts)
    before = await stored(store)
    assert {r["model"] for r in before.values()} == {"snownlp-0.12.3"}
    assert before["r1"]["label"] == "NEGATIVE" and before["r0"]["pos"] is None

    # Only posts since 03-02, in batches of 2; the data dir's checkpoint is cleared when done.
    env = cli_env | {"C360_SENTIMENT_MODEL": "default"}
    result = await invoke(["sentiment", "rescore", "--since", "2025-03-02", "--batch", "2"], env)
    assert result.exit_code == 0, result.output
    assert "posts" in result.output and "4" in result.output
    after = await stored(store)
    version = Scorer().version
    assert after["r0"] == before["r0"]  # before --since: untouched
    for pid in ("r1", "r2"):
        assert after[pid]["label"] == "POSITIVE" and after[pid]["model"] == version
        assert after[pid]["emotion"] == "happy" and after[pid]["pos"] > 0.5
    assert after["r3"]["label"] == "NEGATIVE" and after["r3"]["neg"] > 0.5
    assert after["r4"]["label"] == "UNSUPPORTED" and after["r4"]["model"] == version
    checkpoint = Path(cli_env["C360_DATA_DIR"]) / "checkpoints" / "rescore.json"
    assert Checkpoint(checkpoint).get("rescore") is None

    # An interrupted run: a checkpoint after r2 for the same job resumes with r3 only.
    back = await invoke(["sentiment", "rescore", "--model", "snownlp"], cli_env)
    assert back.exit_code == 0, back.output
    Checkpoint(checkpoint).set(
        "rescore",
        {
            "job": {"model": version, "since": None},
            "after": ["2025-03-03T08:00:00Z", "weibo", "r2"],
            "done": 3,
        },
    )
    resumed = await invoke(["sentiment", "rescore"], cli_env)
    assert resumed.exit_code == 0, resumed.output
    assert "resuming after 3" in resumed.output
    final = await stored(store)
    assert [final[f"r{i}"]["model"] for i in range(5)] == ["snownlp-0.12.3"] * 3 + [version] * 2
    total, _ = await repo.search_mentions(store, {"label": "NEGATIVE"}, 0, 10)
    assert total >= 1


async def test_rescore_with_a_missing_model_fails_clearly(cli_env: dict[str, str]) -> None:
    result = await invoke(["sentiment", "rescore", "--model", "/nonexistent/model.npz"], cli_env)
    assert result.exit_code == 2 and "sentiment train" in " ".join(result.output.split())


async def test_rescore_since_compares_instants_and_refuses_garbage(
    store: GraphStore, cli_env: dict[str, str]
) -> None:
    posts = [
        SocialPost(
            platform="weibo", post_id=f"s{i}", text=t, created_at=f"2025-03-0{i + 1}T08:00:00Z"
        )
        for i, t in enumerate(TEXTS)
    ]
    with BatchScorer(ScorerConfig("snownlp"), max_workers=1) as snow:
        await PostPipeline(store, snow, TermMatcher.default()).ingest(posts)
    env = cli_env | {"C360_SENTIMENT_MODEL": "default"}

    # Garbage is a user error before anything is touched: one sentence, exit 2.
    bad = await invoke(["sentiment", "rescore", "--since", "zzz"], env)
    assert bad.exit_code == 2, bad.output
    assert "not an ISO-8601 date or time" in " ".join(bad.output.split())
    assert {r["model"] for r in (await stored(store)).values()} == {"snownlp-0.12.3"}

    # 16:00 at +08:00 is 08:00Z, the instant s1 was created: s1..s4, never s0. As strings,
    # "2025-03-02T08:00:00Z" sorts before "2025-03-02T16:00:00+08:00" and s1 was left out.
    result = await invoke(["sentiment", "rescore", "--since", "2025-03-02T16:00:00+08:00"], env)
    assert result.exit_code == 0, result.output
    after = await stored(store)
    version = Scorer().version
    assert [after[f"s{i}"]["model"] for i in range(5)] == ["snownlp-0.12.3"] + [version] * 4

    # The same instant in UTC (one second later: s1 stays out) and a bare date (midnight UTC).
    back = await invoke(["sentiment", "rescore", "--model", "snownlp"], cli_env)
    assert back.exit_code == 0, back.output
    later = await invoke(["sentiment", "rescore", "--since", "2025-03-02T08:00:01Z"], env)
    assert later.exit_code == 0, later.output
    after = await stored(store)
    assert [after[f"s{i}"]["model"] for i in range(5)] == ["snownlp-0.12.3"] * 2 + [version] * 3


def test_since_bound_is_the_stored_format_in_utc() -> None:
    from hub.cli.sentiment import since_bound

    assert since_bound("2025-03-02T09:00:00+08:00") == "2025-03-02T01:00:00Z"
    assert since_bound("2025-03-02T01:00:00Z") == "2025-03-02T01:00:00Z"
    assert since_bound("2025-03-02") == "2025-03-02T00:00:00Z"  # a date: its midnight UTC
    assert since_bound("2025-03-02T01:00:00") == "2025-03-02T01:00:00Z"  # no offset: UTC
    # Stored times are whole seconds: a fraction moves the bound to the next one.
    assert since_bound("2025-03-02T01:00:00.250Z") == "2025-03-02T01:00:01Z"
    for bad in ("zzz", "", "2025-13-01", "yesterday"):
        with pytest.raises(ValueError, match="--since"):
            since_bound(bad)
