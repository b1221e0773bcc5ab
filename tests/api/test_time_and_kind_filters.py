"""A transactions window or an interactions kind that can match nothing is bad input (as for
``mentions``), not an empty answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from graph.repositories.social import upsert_posts
from graph.store import GraphStore
from tests.api.conftest import Api, codes
from tests.api.seed import seed_family

TRANSACTIONS = """query($from: DateTime, $to: DateTime) { customer(id: "f-1") {
  transactions(from: $from, to: $to) { totalCount } } }"""
INTERACTIONS = """query($kind: String) { customer(id: "f-1") {
  interactions(kind: $kind) { totalCount } } }"""


async def test_a_reversed_transactions_window_is_bad_input(store: GraphStore, api: Api) -> None:
    await seed_family(store, "f", transactions=3)
    window = {"from": "2026-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}
    body = await api.gql(TRANSACTIONS, window)
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["message"] == "to must be after from"
    empty = {"from": "2025-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}
    assert codes(await api.gql(TRANSACTIONS, empty)) == ["BAD_USER_INPUT"]
    # An open or forward window still answers.
    for ok in ({}, {"from": "2000-01-01T00:00:00Z"}, {"to": "2999-01-01T00:00:00Z"}):
        body = await api.gql(TRANSACTIONS, ok)
        assert "errors" not in body, body
        assert body["data"]["customer"]["transactions"]["totalCount"] > 0


async def test_an_unknown_interaction_kind_is_bad_input_naming_the_kinds(
    store: GraphStore, api: Api
) -> None:
    await seed_family(store, "f", interactions=3)
    body = await api.gql(INTERACTIONS, {"kind": "BOGUS"})
    assert codes(body) == ["BAD_USER_INPUT"], body
    message = body["errors"][0]["message"]
    assert "INQUIRY" in message and "COMPLAINT" in message, message
    # Kinds read as logInteraction reads them: case-insensitively.
    for kind in ("COMPLAINT", "complaint"):
        body = await api.gql(INTERACTIONS, {"kind": kind})
        assert body["data"]["customer"]["interactions"]["totalCount"] == 1, body


COUNT = """query($from: DateTime, $to: DateTime) { customer(id: "f-1") {
  transactions(from: $from, to: $to, first: 100) { totalCount } } }"""
POSTS = """query($from: DateTime, $to: DateTime) {
  mentions(filter: {from: $from, to: $to}) { totalCount } }"""


def _at(moment: datetime, millis: int) -> str:
    return (moment + timedelta(milliseconds=millis)).isoformat().replace("+00:00", "Z")


async def test_a_window_bound_keeps_its_fraction_of_a_second(store: GraphStore, api: Api) -> None:
    # QA, session 22: 10:00:00.750 was cut to 10:00:00, so a row stored at 10:00:00 (times are
    # stored to the second) was inside a window from .750 and outside one to .250.
    await seed_family(store, "f", transactions=3)
    rows = await store.read(
        "MATCH (:Customer {id: 'f-1'})-[:OWNS]->(:Account)-[:HAS_TRANSACTION]->(t) "
        "RETURN t.time AS time"
    )
    times = sorted(datetime.fromisoformat(r["time"].replace("Z", "+00:00")) for r in rows)
    moment = times[len(times) // 2]
    assert moment.microsecond == 0

    async def count(window: dict[str, str]) -> int:
        body = await api.gql(COUNT, window)
        assert "errors" not in body, body
        return int(body["data"]["customer"]["transactions"]["totalCount"])

    assert await count({"from": _at(moment, 750)}) == sum(t > moment for t in times)
    assert await count({"from": _at(moment, 0)}) == sum(t >= moment for t in times)
    assert await count({"to": _at(moment, 250)}) == sum(t <= moment for t in times)
    assert await count({"to": _at(moment, 0)}) == sum(t < moment for t in times)
    # Within one second: a window, and empty (no row is stored at a fraction).
    assert await count({"from": _at(moment, 250), "to": _at(moment, 750)}) == 0
    assert await count({"from": _at(moment, -250), "to": _at(moment, 250)}) == 1

    # Mentions' filter window reads the same way.
    post_at = datetime(2025, 3, 1, 10, 0, 0, tzinfo=UTC)
    await upsert_posts(
        store,
        [
            {
                "platform": "weibo",
                "postId": "p-1",
                "ingestedAt": "2025-03-20T00:00:00Z",
                "props": {"text": "招商银行", "createdAt": "2025-03-01T10:00:00Z"},
                "author": None,
                "brands": [],
                "products": [],
            }
        ],
    )
    for window, expected in (
        ({"from": _at(post_at, 750)}, 0),
        ({"from": _at(post_at, -250), "to": _at(post_at, 250)}, 1),
        ({"to": _at(post_at, 250)}, 1),
        ({"from": _at(post_at, 250), "to": _at(post_at, 750)}, 0),
    ):
        body = await api.gql(POSTS, window)
        assert body["data"]["mentions"]["totalCount"] == expected, (window, body)


async def test_one_bad_page_argument_nulls_that_page_not_the_customer(
    store: GraphStore, api: Api
) -> None:
    # QA, session 22: transactions was non-null, so its BAD_USER_INPUT nulled the whole
    # customer and every other field of the 360 with it.
    await seed_family(store, "f", transactions=3, interactions=2)
    query = """{ customer(id: "f-1") { id name accounts { id }
      transactions(from: "2025-03-01T00:00:00Z", to: "2025-01-01T00:00:00Z") { totalCount }
      interactions(kind: "BOGUS") { totalCount }
      mentions(after: "not-a-cursor") { totalCount }
      ok: interactions { totalCount } } }"""
    body = await api.gql(query)
    customer = body["data"]["customer"]
    assert customer["id"] == "f-1" and customer["name"] and customer["accounts"], body
    assert customer["ok"]["totalCount"] == 2
    assert customer["transactions"] is None and customer["interactions"] is None
    assert customer["mentions"] is None
    errors = {tuple(e["path"]): e for e in body["errors"]}
    assert set(errors) == {
        ("customer", "transactions"),
        ("customer", "interactions"),
        ("customer", "mentions"),
    }
    assert all(e["extensions"]["code"] == "BAD_USER_INPUT" for e in errors.values()), errors
    assert errors[("customer", "transactions")]["message"] == "to must be after from"


async def test_a_refused_as_of_or_first_nulls_that_field_not_the_customer(
    store: GraphStore, api: Api
) -> None:
    # QA, session 22: lifecycleStage, churnRisk and recommendations were non-null, so a bad
    # asOf (or first) nulled the whole customer, as a bad page argument did.
    await seed_family(store, "f", transactions=3, interactions=2)
    query = """{ customer(id: "f-1") { id name accounts { id }
      lifecycleStage(asOf: "2999-01-01") churnRisk(asOf: "1899-12-31") { score }
      recommendations(first: 0) { score }
      stage: lifecycleStage(asOf: "2025-06-30") ok: interactions { totalCount } } }"""
    body = await api.gql(query)
    customer = body["data"]["customer"]
    assert customer["id"] == "f-1" and customer["name"] and customer["accounts"], body
    assert customer["stage"] and customer["ok"]["totalCount"] == 2, body
    assert customer["lifecycleStage"] is None and customer["churnRisk"] is None
    assert customer["recommendations"] is None
    errors = {tuple(e["path"]): e for e in body["errors"]}
    assert set(errors) == {
        ("customer", "lifecycleStage"),
        ("customer", "churnRisk"),
        ("customer", "recommendations"),
    }
    assert all(e["extensions"]["code"] == "BAD_USER_INPUT" for e in errors.values()), errors
    assert errors[("customer", "churnRisk")]["extensions"]["field"] == "asOf"
    assert errors[("customer", "recommendations")]["extensions"]["field"] == "first"
