"""Session 22's finding, mended in session 23: logInteraction, linkSocialAccount and
proposeErasure naming ``c000017`` beside the stored ``C000017`` answered "no customer with this
id" without naming the customer meant (the imports name it). Each now refuses it as the
import's dead letter does, same sentence (shared.validators.case_twin_parent), naming the
stored id to a caller who may read it, and writes nothing under either spelling. Real
embedded FalkorDB, the real policy engine, the real import for the wording."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from graph.repositories.customers import existing_customer_ids, upsert_customers
from graph.store import GraphStore
from ingest.crm import import_file
from privacy.erasure import ErasureStore
from tests.api.conftest import Api, codes
from tests.dead_letters import dead_letters

LOG = """mutation($id: ID!) { logInteraction(input: {customerId: $id, channel: "PHONE",
  kind: "COMPLAINT", summary: "card blocked"}) { id } }"""
LINK = """mutation($id: ID!) {
  linkSocialAccount(customerId: $id, platform: "weibo", handle: "wz17") { customerLinked } }"""
PROPOSE = """mutation($id: ID!) { proposeErasure(customerId: $id, reason: "t") { id } }"""


async def _import_reason(store: GraphStore, tmp_path: Path) -> str:
    """What `c360 import interactions` says of a row naming c000017."""
    path = tmp_path / "interactions.csv"
    path.write_text("id,customerId,channel,kind,time\nIZ1,c000017,PHONE,INQUIRY,2025-02-01\n")
    assert (await import_file(store, "interactions", path)).rejected == 1
    (dead,) = dead_letters(tmp_path / "interactions.dead.jsonl")
    (reason,) = dead["reasons"]
    return str(reason)


def _twin_refusal(body: dict[str, Any]) -> dict[str, Any]:
    assert codes(body) == ["ID_CASE_CONFLICT"], body
    (error,) = body["errors"]
    assert error["extensions"]["field"] == "customerId"
    return dict(error)


async def _nothing_under_either_spelling(store: GraphStore) -> None:
    assert await existing_customer_ids(store, ["c000017", "C000017"]) == {"C000017"}
    assert await store.read("MATCH (i:Interaction) RETURN i.id AS id") == []
    assert await store.read("MATCH (a:SocialAccount) RETURN a.handle AS h") == []


async def test_writes_naming_a_case_twin_name_the_stored_customer_as_the_import_does(
    store: GraphStore, agent: Api, officer: Api, tmp_path: Path, data_dir: Path
) -> None:
    await upsert_customers(store, [{"id": "C000017", "props": {}}])
    said = await _import_reason(store, tmp_path)
    assert said.startswith("customerId: no customer c000017; C000017 differs only by case")
    for api, query in ((agent, LOG), (agent, LINK), (officer, PROPOSE)):
        error = _twin_refusal(await api.gql(query, {"id": "c000017"}))
        assert (error["message"], error["extensions"]["existing"]) == (said, "C000017"), query
    await _nothing_under_either_spelling(store)
    assert ErasureStore(data_dir).load() == {}  # no erasure request for anyone
    # An id no stored one resembles is still NOT_FOUND, unnamed.
    for api, query in ((agent, LOG), (agent, LINK), (officer, PROPOSE)):
        body = await api.gql(query, {"id": "C000099"})
        assert codes(body) == ["NOT_FOUND"], body
        assert body["errors"][0]["message"] == "no customer with this id"
    # The stored spelling itself is written.
    assert codes(await agent.gql(LOG, {"id": "C000017"})) == []
    assert codes(await agent.gql(LINK, {"id": "C000017"})) == []


async def test_a_caller_who_may_not_write_any_customer_learns_nothing_of_a_twin(
    store: GraphStore, as_role: Any
) -> None:
    # An advisor writes its own customers only: an id it may not write is refused the same
    # way whether a customer differing only by case exists or not (no existence oracle).
    await upsert_customers(store, [{"id": "C000017", "props": {}}])
    advisor = as_role("advisor", "service", "ADV0001")
    for query in (LOG, LINK):
        twin = await advisor.gql(query, {"id": "c000017"})
        none = await advisor.gql(query, {"id": "C000099"})
        assert codes(twin) == codes(none) and codes(twin) != ["ID_CASE_CONFLICT"], twin
        assert "C000017" not in orjson.dumps(twin).decode()
    await _nothing_under_either_spelling(store)
