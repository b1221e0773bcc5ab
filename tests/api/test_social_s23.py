"""Session 23 (QA D5): which social accounts are customers' is a fact about customers, decided
by the policy (kind CUSTOMER_LINK): never shown to brand analysts, who see the public posts
and could map a hashed author to a public profile, so learn who banks here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from graph.repositories.customers import upsert_customers
from graph.store import GraphStore
from tests.api.conftest import Api
from tests.api.test_social_api import ok
from tests.api.test_social_qa14 import ingest

POSTS = [
    {"id": f"d5-{handle}", "text": f"招商银行 APP 很好用 {handle}", "author": handle,
     "created_at": "2026-11-30T11:30:00Z"}
    for handle in ("user13", "stranger7")
]  # fmt: skip
LINK = """mutation { linkSocialAccount(customerId: "C000019", platform: "x", handle: "user13") {
  platform } }"""
TOP = """{ topAuthors(first: 50) {
  account { platform handle displayName followers customerLinked }
  posts engagement reach influence } }"""
MENTIONS = """{ mentions(first: 50) { totalCount edges { node {
  postId author { customerLinked } } } } }"""
VIEW = """query { customer(id: "C000019") { mentions(first: 5) { edges { node {
  postId author { customerLinked } } } } } }"""


def by_post(body: dict[str, Any]) -> dict[str, Any]:
    edges = ok(body)["mentions"]["edges"]
    return {e["node"]["postId"]: e["node"]["author"]["customerLinked"] for e in edges}


async def test_brand_analysts_never_learn_which_authors_are_customers(
    store: GraphStore, as_role: Callable[..., Api], officer: Api, agent: Api, tmp_path: Path
) -> None:
    await upsert_customers(store, [{"id": "C000019", "props": {"name": "王小明"}}])
    await ingest(store, tmp_path, POSTS)
    assert ok(await agent.gql(LINK))["linkSocialAccount"] == {"platform": "x"}

    for purpose in (None, "marketing"):
        brand = as_role("brand_analyst", purpose, "b1")
        top = ok(await brand.gql(TOP))["topAuthors"]
        assert len(top) == 2
        for author in top:
            assert author["account"]["handle"].startswith("h:")
            assert author["account"]["customerLinked"] is None, author
        # The linked author and the other look alike but for the hashed handle.
        same = [{**a, "account": {**a["account"], "handle": None}} for a in top]
        assert same[0] == same[1], top
        assert by_post(await brand.gql(MENTIONS)) == {"d5-user13": None, "d5-stranger7": None}

    # Those who may see the customer see the link: the officer everywhere, an agent in the
    # customer's own view.
    linked = {a["account"]["handle"]: a["account"]["customerLinked"]
              for a in ok(await officer.gql(TOP))["topAuthors"]}  # fmt: skip
    assert linked == {"user13": True, "stranger7": False}
    assert by_post(await officer.gql(MENTIONS)) == {"d5-user13": True, "d5-stranger7": False}
    view = ok(await agent.gql(VIEW))["customer"]["mentions"]["edges"]
    assert [e["node"] for e in view] == [
        {"postId": "d5-user13", "author": {"customerLinked": True}}
    ]
