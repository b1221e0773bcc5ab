"""Session 21 API-contract findings: every error has a code (graphql-core's own execution
errors too), a customer id is not created twice by changing its case, trend buckets say when
they are partial."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from graph.repositories.customers import existing_customer_ids
from graph.repositories.interactions import upsert_interactions
from graph.store import GraphStore
from privacy.erasure import erase_customer
from privacy.erasure_ledger import ErasureLedger
from tests.api.conftest import Api, codes
from tests.api.seed import seed_family, ts

TOO_BIG = 3_000_000_000  # not a 32-bit signed integer: GraphQL's Int cannot carry it


async def test_an_execution_error_of_graphql_core_has_a_code_and_no_value(
    store: GraphStore, officer: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """A stored satisfaction our Int cannot serialize: graphql-core raises while completing
    the answer. The value is ours, not the caller's: INTERNAL_SERVER_ERROR, the message not
    quoting it, logged server-side; the rest of the answer stands."""
    (cid, _) = await seed_family(store, "S21", accounts=1, transactions=0, interactions=1)
    await upsert_interactions(
        store,
        [{"id": "S21-big", "customerId": cid,
          "props": {"channel": "PHONE", "kind": "SURVEY", "time": ts(0.5), "summary": "s",
                    "satisfaction": TOO_BIG, "resolved": True}}],
    )  # fmt: skip
    body = await officer.gql(
        "query($id: ID!) { customer(id: $id) { id interactions { edges { node { id "
        "satisfaction } } } } }",
        {"id": cid},
    )
    assert codes(body) == ["INTERNAL_SERVER_ERROR"], body
    (error,) = body["errors"]
    assert str(TOO_BIG) not in str(body)
    assert error["message"] == "Unexpected error."
    assert error["path"][-1] == "satisfaction"
    nodes = {e["node"]["id"]: e["node"]["satisfaction"] for e in
             body["data"]["customer"]["interactions"]["edges"]}  # fmt: skip
    assert nodes == {"S21-big": None, f"{cid}-ix0": 3}
    assert any("unexpected error" in r.getMessage() for r in caplog.records)


UPSERT = 'mutation($id: ID!) { upsertCustomer(input: {id: $id, name: "x"}) { id } }'


async def test_a_customer_id_differing_only_by_case_is_refused(
    store: GraphStore, agent: Api
) -> None:
    """``c000031`` next to a stored ``C000031`` would be a second customer (QA session 21):
    ID_CASE_CONFLICT naming the stored id (the agent may read it), nothing written; the
    stored id itself still updates."""
    (cid, _) = await seed_family(store, "Case", accounts=1, transactions=0, interactions=0)
    assert cid == "Case-1"
    for slip in ("CASE-1", "case-1", "cASE-1"):
        body = await agent.gql(UPSERT, {"id": slip})
        assert codes(body) == ["ID_CASE_CONFLICT"], body
        assert body["errors"][0]["extensions"]["existing"] == cid
        assert body["data"] is None
    assert await existing_customer_ids(store, ["CASE-1", "case-1", "cASE-1"]) == set()
    body = await agent.gql(UPSERT, {"id": cid})
    assert body == {"data": {"upsertCustomer": {"id": cid}}}
    body = await agent.gql(UPSERT, {"id": "Case-3"})
    assert body == {"data": {"upsertCustomer": {"id": "Case-3"}}}


PARTS = """query($tz: String) {
  sentimentTrend(brand: "招商银行", from: "2025-03-01T00:00:00Z", to: "2025-03-04T00:00:00Z",
                 interval: DAY, timezone: $tz) { start partial count }
  shareOfVoice(brands: ["招商银行"], from: "2025-03-01T00:00:00Z", to: "2025-03-04T00:00:00Z",
               interval: DAY, timezone: $tz) { buckets { start partial total } }
}"""


async def test_buckets_sticking_out_of_the_window_say_they_are_partial(officer: Api) -> None:
    """UTC days of [03-01, 03-04) in Beijing: the first day holds 16 h of the window (from
    16:00Z the day before), the last 8 h; both say so. In UTC every day is whole."""
    beijing = await officer.gql(PARTS)
    assert "errors" not in beijing, beijing
    trend = [(b["start"], b["partial"]) for b in beijing["data"]["sentimentTrend"]]
    assert trend == [
        ("2025-02-28T16:00:00Z", True),
        ("2025-03-01T16:00:00Z", False),
        ("2025-03-02T16:00:00Z", False),
        ("2025-03-03T16:00:00Z", True),
    ]
    voice = [(b["start"], b["partial"]) for b in beijing["data"]["shareOfVoice"]["buckets"]]
    assert voice == trend
    whole = await officer.gql(PARTS, {"tz": "UTC"})
    assert [b["partial"] for b in whole["data"]["sentimentTrend"]] == [False] * 3
    assert [b["partial"] for b in whole["data"]["shareOfVoice"]["buckets"]] == [False] * 3


ALERTS = """query($tz: String) {
  brandAlerts(brand: "招商银行", from: "2025-03-01T00:00:00Z", to: "2025-03-04T00:00:00Z",
              timezone: $tz) { timezone }
}"""


async def test_an_empty_timezone_is_refused_like_an_unknown_one(officer: Api) -> None:
    """``timezone: ""`` was bucketed in the default zone, silently (QA session 21): now
    BAD_USER_INPUT naming timezone, in sentimentTrend, shareOfVoice and brandAlerts alike."""
    for query in (PARTS, ALERTS):
        body = await officer.gql(query, {"tz": ""})
        assert codes(body) and set(codes(body)) == {"BAD_USER_INPUT"}, body
        assert {e["extensions"]["field"] for e in body["errors"]} == {"timezone"}
        assert body["data"] is None


async def test_a_refused_method_names_every_method_graphql_answers(
    client: httpx.AsyncClient,
) -> None:
    """PUT was told "GraphQL only supports GET and POST requests." while ``Allow`` listed HEAD
    and OPTIONS too (QA session 21): the message names what ``Allow`` does."""
    response = await client.put("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 405
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    allowed = response.headers["allow"]
    assert allowed == "GET, HEAD, POST, OPTIONS"
    assert allowed in error["message"], error


async def test_an_erased_customer_is_not_written_again_under_another_case(
    store: GraphStore, agent: Api, data_dir: Path
) -> None:
    """QA, session 21: after erasing ``CRM:7``, upsertCustomer of ``crm:7`` made a new
    customer (the erasure guard compared ids exactly)."""
    await store.write("CREATE (:Customer {id: 'CRM:7', name: 'x'})")
    assert await erase_customer(store, "CRM:7", ErasureLedger(data_dir), "er-s21") is not None
    for spelling in ("CRM:7", "crm:7", "Crm:7"):
        body = await agent.gql(UPSERT, {"id": spelling})
        assert codes(body) == ["BAD_USER_INPUT"], body
        assert "erased under a data-subject request" in body["errors"][0]["message"]
    assert await existing_customer_ids(store, ["CRM:7", "crm:7", "Crm:7"]) == set()


@pytest.mark.parametrize(
    "bad", ["C000001\u200b", "C000001\u202e", "\u202dC000001", "Ｃ000001", "C０00001"]
)
async def test_a_customer_id_with_invisible_or_full_width_characters_is_refused(
    store: GraphStore, agent: Api, bad: str
) -> None:
    """QA, session 21: ``C000001\\u200b`` or ``Ｃ000001`` beside a stored ``C000001`` was a
    second customer that looks the same. Refused, naming the rule, never the value."""
    await store.write("CREATE (:Customer {id: 'C000001', name: 'x'})")
    body = await agent.gql(UPSERT, {"id": bad})
    assert codes(body) == ["BAD_USER_INPUT"], body
    error = body["errors"][0]
    assert error["extensions"]["field"] == "id"
    assert "character" in error["message"] and bad not in error["message"]
    assert await existing_customer_ids(store, [bad]) == set()
    body = await agent.gql(UPSERT, {"id": "C000001"})
    assert body == {"data": {"upsertCustomer": {"id": "C000001"}}}
