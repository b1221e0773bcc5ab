"""Session 22: linkSocialAccount and `c360 import social-accounts` take one handle rule (no
whitespace) and one link rule (a handle is one customer's), whichever writes first."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import orjson
import pytest

from graph.repositories.customers import upsert_customers
from graph.store import GraphStore, Row
from ingest.crm import import_file
from ingest.social.accounts import HANDLE_LINKED
from privacy.services import PrivacyServices
from resolvers.privacy import RequestPrivacy
from resolvers.social import LinkChanged, link_account
from tests.api.conftest import Api, codes
from tests.api.test_social_api import ok

LINK = """mutation($id: ID!, $handle: String!) {
  linkSocialAccount(customerId: $id, platform: "weibo", handle: $handle) { customerLinked }
}"""


async def test_a_handle_with_whitespace_is_refused_with_a_code(
    store: GraphStore, agent: Api
) -> None:
    await upsert_customers(store, [{"id": "C1", "props": {}}])
    for bad in ("wang li", "wang\tli", "王\u3000丽"):
        body = await agent.gql(LINK, {"id": "C1", "handle": bad})
        assert codes(body) == ["BAD_USER_INPUT"], body
        assert body["errors"][0]["extensions"]["field"] == "handle"
    body = await agent.gql(LINK, {"id": "C1", "handle": "wang li"})
    assert "whitespace" in body["errors"][0]["message"]
    assert ok(await agent.gql(LINK, {"id": "C1", "handle": " 王丽-Wang_88 "}))
    rows = await store.read("MATCH (a:SocialAccount) RETURN a.handle AS h")
    assert rows == [{"h": "王丽-Wang_88"}]


async def test_the_mutation_and_the_import_keep_a_handle_to_one_customer(
    store: GraphStore, agent: Api, tmp_path: Path
) -> None:
    await upsert_customers(store, [{"id": c, "props": {}} for c in ("C1", "C2")])
    assert ok(await agent.gql(LINK, {"id": "C1", "handle": "by_api"}))
    path = tmp_path / "links.csv"
    path.write_text(
        "customerId,platform,handle\nC2,weibo,by_api\nC2,weibo,by_file\n", encoding="utf-8"
    )
    summary = await import_file(store, "social-accounts", path)
    assert (summary.inserted, summary.rejected) == (1, 1)
    (letter,) = [
        orjson.loads(x) for x in (tmp_path / "links.dead.jsonl").read_bytes().split(b"\n") if x
    ]
    assert (letter["line"], letter["reasons"]) == (2, [HANDLE_LINKED])

    taken = await agent.gql(LINK, {"id": "C1", "handle": "by_file"})
    assert codes(taken) == ["HANDLE_LINKED"], taken
    assert taken["errors"][0]["message"] == HANDLE_LINKED
    assert ok(await agent.gql(LINK, {"id": "C2", "handle": "by_file"}))  # its own: again
    owners = await store.read(
        "MATCH (c:Customer)-[:HAS_SOCIAL]->(a:SocialAccount) "
        "RETURN c.id AS c, a.handle AS h ORDER BY h"
    )
    assert owners == [{"c": "C1", "h": "by_api"}, {"c": "C2", "h": "by_file"}]


async def _no_rows(ids: list[str]) -> list[Row | None]:
    return [None for _ in ids]


# C1 exists: only a missing customer's case twin would ask the policy (never here; no engine).
NOT_ASKED = RequestPrivacy(PrivacyServices(None, None, b"k" * 32), None, _no_rows)


class _Unlinking:
    """The real graph, with another request's change at one moment: right after each of the
    first ``times`` link writes, the handle's account is deleted (as an erasure does), before
    linkSocialAccount reads what it linked."""

    def __init__(self, store: GraphStore, times: int) -> None:
        self._store, self.left = store, times

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def write(self, query: Any, params: Any = None) -> list[Row]:
        result = await self._store.write(query, params)
        if "MERGE (c)-[:HAS_SOCIAL]->(a)" in query and self.left:
            self.left -= 1
            await self._store.write("MATCH (a:SocialAccount) DETACH DELETE a")
        return result


async def test_a_link_undone_between_its_statements_is_a_coded_answer_never_a_key_error(
    store: GraphStore,
) -> None:
    # Review, session 22: the write linked, the account was gone before the read of it, and
    # accounts_by_key(...)[key] raised KeyError: INTERNAL_SERVER_ERROR.
    await upsert_customers(store, [{"id": "C1", "props": {}}])
    once = _Unlinking(store, 1)
    account = await link_account(NOT_ASKED, cast(GraphStore, once), "C1", "weibo", "raced")
    assert (account["handle"], account["customerIds"], once.left) == ("raced", ["C1"], 0)

    again = _Unlinking(store, 2)
    with pytest.raises(LinkChanged) as raised:
        await link_account(NOT_ASKED, cast(GraphStore, again), "C1", "weibo", "raced_twice")
    assert raised.value.extensions == {"code": "LINK_CHANGED", "field": "handle"}
    assert await store.read("MATCH (a:SocialAccount) RETURN a.handle AS h") == []
