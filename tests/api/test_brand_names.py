"""Brand arguments name a brand of the terms ingest tags posts with: an alias or a traditional
spelling is read as its brand, a name that is neither is BAD_USER_INPUT (QA: 招行, 招商銀行 and
CMB were accepted and answered zero while 招商银行 found 40,125 posts; an alert rule on 招行
was saved and could never fire)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graph.repositories.alert_rules import put_rule
from graph.repositories.social import upsert_posts
from graph.store import GraphStore
from tests.api.conftest import Api
from tests.post_rows import post_row

CMB, ICBC = "招商银行", "工商银行"
MENTIONS = """query($brand: String) {
  mentions(filter: {brand: $brand}) { totalCount }
}"""
VOICE = """query($brands: [String!]!) {
  shareOfVoice(brands: $brands, from: "2025-03-01T00:00:00Z", to: "2025-03-03T00:00:00Z") {
    brands { brand count }
  }
}"""
PUT = """mutation($brand: String!) {
  putAlertRule(id: "r1", rule: {brand: $brand}) { id brand }
}"""
LIST = """query($brand: String) { alertRules(brand: $brand) { id brand } }"""
APPLY = """query($rule: ID!) {
  brandAlerts(rule: $rule, from: "2025-03-01T00:00:00Z", to: "2025-03-02T00:00:00Z") {
    alerts { start }
  }
}"""


async def seed(store: GraphStore) -> None:
    """Three posts tagged 招商银行 (as the tagger tags 招行 too), one 工商银行."""
    await upsert_posts(
        store,
        [
            post_row(
                f"p{n}", text, created_at="2025-03-01T02:00:00Z", platform="weibo", brands=[brand]
            )
            for n, (text, brand) in enumerate(
                [("招行APP闪退", CMB), ("招商银行转账", CMB), ("CMB app", CMB), ("工行排队", ICBC)]
            )
        ],
    )


def error(body: dict[str, Any]) -> tuple[str, str, str]:
    (err,) = body["errors"]
    return err["extensions"]["code"], err["extensions"].get("field"), err["message"]


async def test_aliases_and_spellings_read_as_their_brand(
    store: GraphStore, as_role: Callable[..., Api]
) -> None:
    await seed(store)
    analyst = as_role("brand_analyst", None, "b1")
    for name in (CMB, "招行", "招商銀行", "CMB", "cmb", " China Merchants Bank "):
        body = await analyst.gql(MENTIONS, {"brand": name})
        assert body.get("data", {}).get("mentions") == {"totalCount": 3}, (name, body)

    voice = await analyst.gql(VOICE, {"brands": ["招行", CMB, "工行"]})
    assert voice["data"]["shareOfVoice"]["brands"] == [
        {"brand": CMB, "count": 3},  # 招行 and 招商银行 are one brand, once
        {"brand": ICBC, "count": 1},
    ]

    saved = await analyst.gql(PUT, {"brand": "招行"})
    assert saved["data"]["putAlertRule"] == {"id": "r1", "brand": CMB}  # as posts are tagged
    listed = await analyst.gql(LIST, {"brand": "招行"})
    assert listed["data"]["alertRules"] == [{"id": "r1", "brand": CMB}]


async def test_a_name_that_is_no_brand_is_refused_everywhere(
    store: GraphStore, as_role: Callable[..., Api]
) -> None:
    await seed(store)
    analyst = as_role("brand_analyst", None, "b1")
    code, field, message = error(await analyst.gql(MENTIONS, {"brand": "八号银行"}))
    assert (code, field) == ("BAD_USER_INPUT", "filter.brand")
    assert "八号银行" in message and CMB in message  # what it may name instead
    assert error(await analyst.gql(VOICE, {"brands": [CMB, "八号银行"]}))[:2] == (
        "BAD_USER_INPUT",
        "brands",
    )
    assert error(await analyst.gql(PUT, {"brand": "八号银行"}))[:2] == (
        "BAD_USER_INPUT",
        "rule.brand",
    )
    assert (await analyst.gql(LIST, {}))["data"]["alertRules"] == []  # nothing was saved


async def test_rules_stored_before_brands_were_checked_still_load_and_say_why_they_are_quiet(
    store: GraphStore, as_role: Callable[..., Api]
) -> None:
    """Saved by an earlier version with an alias and with an unknown name: listed as stored,
    and brandAlerts(rule:) says why they raise nothing instead of answering no alerts."""
    for rule_id, brand in (("old-alias", "招行"), ("old-unknown", "八号银行"), ("ok", CMB)):
        await put_rule(
            store,
            rule_id,
            {"brand": brand, "query": None, "threshold": 3.0, "baselineDays": 28,
             "minVolume": 20, "channels": [], "secretRef": None},
        )  # fmt: skip
    analyst = as_role("brand_analyst", None, "b1")
    listed = (await analyst.gql(LIST, {}))["data"]["alertRules"]
    assert sorted((r["id"], r["brand"]) for r in listed) == [
        ("ok", CMB),
        ("old-alias", "招行"),
        ("old-unknown", "八号银行"),
    ]
    assert (await analyst.gql(LIST, {"brand": "八号银行"}))["data"]["alertRules"] == [
        {"id": "old-unknown", "brand": "八号银行"}
    ]
    code, field, message = error(await analyst.gql(APPLY, {"rule": "old-alias"}))
    assert (code, field) == ("BAD_USER_INPUT", "rule") and f"an alias of {CMB}" in message
    code, field, message = error(await analyst.gql(APPLY, {"rule": "old-unknown"}))
    assert (code, field) == ("BAD_USER_INPUT", "rule") and "putAlertRule" in message
    assert "errors" not in await analyst.gql(APPLY, {"rule": "ok"})
