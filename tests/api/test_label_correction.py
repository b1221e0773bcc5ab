"""A brand analyst corrects a post's label: policy-checked, audited, kept over rescoring,
exported as training data."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from graph.repositories import social as repo
from graph.store import GraphStore
from privacy.audit import AuditLog
from privacy.keyring import KeyRing
from tests.api.conftest import Api

CORRECT = """mutation($id: ID!, $label: SentimentLabel!) {
  correctPostLabel(platform: "weibo", postId: $id, label: $label, reason: "praise for a fix") {
    postId sentiment { label corrected modelLabel }
  }
}"""


async def test_brand_analyst_corrects_a_label_that_rescoring_keeps(
    store: GraphStore, as_role: Callable[..., Api], data_dir: Path
) -> None:
    await repo.upsert_posts(
        store,
        [
            {
                "platform": "weibo",
                "postId": "p1",
                "ingestedAt": "2025-03-05T00:00:00Z",
                "props": {
                    "text": "被盗刷，一个电话就帮我拒付了",
                    "createdAt": "2025-03-01T00:00:00Z",
                    "sentimentLabel": "NEGATIVE",
                },
                "author": None,
                "brands": [],
                "products": [],
            }
        ],
    )  # fmt: skip
    analyst = as_role("brand_analyst", "marketing", "b1")
    body = await analyst.gql(CORRECT, {"id": "p1", "label": "POSITIVE"})
    assert "errors" not in body, body
    assert body["data"]["correctPostLabel"]["sentiment"] == {
        "label": "POSITIVE",
        "corrected": True,
        "modelLabel": "NEGATIVE",
    }
    # A later scoring (rescore, re-ingest) keeps the person's label and updates the model's.
    await repo.set_sentiment(
        store, [{"platform": "weibo", "postId": "p1", "props": {"sentimentLabel": "NEUTRAL"}}]
    )
    rows = await store.read(
        "MATCH (p:Post {postId: 'p1'}) RETURN p.sentimentLabel AS label, p.modelLabel AS model"
    )
    assert rows == [{"label": "POSITIVE", "model": "NEUTRAL"}]
    assert await repo.label_corrections(store) == [
        {"text": "被盗刷，一个电话就帮我拒付了", "label": "POSITIVE", "modelLabel": "NEUTRAL"}
    ]
    records = AuditLog(data_dir / "audit", KeyRing.load(data_dir)).read()
    assert any(r["operation"] == "intent" and "PostLabel:weibo:p1" in json.dumps(r["details"])
               for r in records)  # fmt: skip
    done = [r for r in records if "labelCorrection" in r.get("details", {})]
    assert done and done[-1]["details"]["labelCorrection"]["modelLabel"] == "NEGATIVE"

    missing = await analyst.gql(CORRECT, {"id": "nope", "label": "POSITIVE"})
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    officer = as_role("privacy_officer", "compliance", "po1")
    denied = await officer.gql(CORRECT, {"id": "p1", "label": "NEGATIVE"})
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


TREND = """query($q: String!) {
  sentimentTrend(query: $q, from: "2025-03-01T00:00:00Z", to: "2025-03-02T00:00:00Z",
                 interval: DAY, timezone: "UTC") {
    count positive negative unsupported avgScore
  }
}"""


async def test_a_post_marked_unsupported_leaves_the_mean_score(
    store: GraphStore, as_role: Callable[..., Api]
) -> None:
    # A brand analyst marks a scored post as not judgeable: it kept its score, which still
    # pulled the bucket's avgScore (and a customer's / brand's) as if it were judged.
    await repo.upsert_posts(
        store,
        [
            {
                "platform": "weibo",
                "postId": pid,
                "ingestedAt": "2025-03-05T00:00:00Z",
                "props": {"text": text, "createdAt": at, "sentimentLabel": label,
                          "sentimentScore": score},
                "author": None,
                "brands": [],
                "products": [],
            }
            for pid, text, label, score, at in (
                ("p1", "招行太差要投诉", "NEGATIVE", 0.1, "2025-03-01T02:00:00Z"),
                ("p2", "招行客服不错要表扬不投诉", "POSITIVE", 0.9, "2025-03-01T03:00:00Z"),
            )
        ],
    )  # fmt: skip
    analyst = as_role("brand_analyst", "marketing", "b1")

    async def buckets() -> list[dict[str, object]]:
        # The graph's own sums, and the NEAR path (posts read and summed in Python).
        out = []
        for q in ("招行", "招行 NEAR/20 投诉"):
            body = await analyst.gql(TREND, {"q": q})
            assert "errors" not in body, body
            out.extend(body["data"]["sentimentTrend"])
        return out

    before = {"count": 2, "positive": 1, "negative": 1, "unsupported": 0, "avgScore": 0.5}
    assert await buckets() == [before, before]
    body = await analyst.gql(CORRECT, {"id": "p1", "label": "UNSUPPORTED"})
    assert "errors" not in body, body
    marked = {"count": 2, "positive": 1, "negative": 0, "unsupported": 1, "avgScore": 0.9}
    assert await buckets() == [marked, marked]
    # The model's score stays on the post: a correction back counts it again.
    body = await analyst.gql(CORRECT, {"id": "p1", "label": "NEGATIVE"})
    assert "errors" not in body, body
    assert await buckets() == [before, before]
