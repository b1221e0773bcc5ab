"""Cursors and dates at the edges: a cursor decoded to something our cursors never hold, and
``asOf`` near the calendar's ends, are bad input, never a server error."""

from __future__ import annotations

import base64

import orjson
import pytest

from graph.cypher_params import params_header
from graph.repositories.customers import upsert_customers
from graph.store import GraphStore
from tests.api.conftest import Api, codes
from tests.api.seed import profile, seed_family, ts


def b64(parts: list[str]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(parts)).decode()


@pytest.mark.parametrize("ctl", ["\x00", "\x1b"])
async def test_a_control_character_in_a_cursor_is_bad_input(
    store: GraphStore, agent: Api, ctl: str
) -> None:
    await seed_family(store, "a")
    listing = await agent.gql(
        "query($a: String) { customers(first: 2, after: $a) { totalCount } }",
        {"a": b64([f"a-1{ctl}"])},
    )
    assert codes(listing) == ["BAD_USER_INPUT"], listing
    for field in ("transactions", "interactions"):
        query = f'customer(id: "a-1") {{ {field}(after: $a) {{ totalCount }} }}'
        nested = await agent.gql(
            f"query($a: String) {{ {query} }}",
            {"a": b64([f"2026{ctl}", "T1"])},
        )
        assert codes(nested) == ["BAD_USER_INPUT"], nested
        assert nested["errors"][0]["extensions"]["field"] == "after"


async def test_a_nul_parameter_is_refused_before_the_graph(store: GraphStore) -> None:
    """A NUL written into the query text ends it: FalkorDB reported a syntax error about the
    header, far from the cause. Any path that reaches the graph with one gets a clear error."""
    with pytest.raises(ValueError, match="'ids' holds a NUL"):
        params_header({"ids": ["ok", "C1\x00"]})
    with pytest.raises(ValueError, match="'row' holds a NUL"):
        await store.read("RETURN $row AS r", {"row": {"k\x00": 1}})
    # Other control characters still travel (the client encodes them).
    assert await store.read("RETURN $v AS v", {"v": "a\x01\x1bb"}) == [{"v": "a\x01\x1bb"}]


AS_OF = """query($d: Date) { customer(id: "a-1") {
    id lifecycleStage(asOf: $d) daysToNextBirthday(asOf: $d) churnRisk(asOf: $d) { score }
} }"""


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "9999-12-31", "2999-01-01"])
async def test_as_of_far_from_today_is_bad_input(store: GraphStore, officer: Api, day: str) -> None:
    await seed_family(store, "a")
    body = await officer.gql(AS_OF, {"d": day})
    assert set(codes(body)) == {"BAD_USER_INPUT"}, body
    assert {e["extensions"]["field"] for e in body["errors"]} == {"asOf"}
    assert "from 1900-01-01 to 10 years after today" in body["errors"][0]["message"]


@pytest.mark.parametrize("day", ["1900-01-01", "1998-12-31", None])
async def test_as_of_a_historical_book_still_answers(
    store: GraphStore, officer: Api, day: str | None
) -> None:
    await seed_family(store, "a")
    body = await officer.gql(AS_OF, {"d": day})
    assert "errors" not in body, body
    assert body["data"]["customer"]["lifecycleStage"]


def test_birthday_math_at_the_calendar_ends() -> None:
    from datetime import date

    from resolvers.analytics import days_to_next_birthday

    assert days_to_next_birthday(date(1985, 6, 15), date(9999, 12, 31)) is None
    assert days_to_next_birthday(date(1985, 12, 31), date(9999, 12, 31)) == 0
    assert days_to_next_birthday(date(1984, 2, 29), date(9999, 3, 1)) is None
    assert days_to_next_birthday(date(1984, 2, 29), date(1, 1, 1)) == 58


BY_CREATED = """query($a: String) { customers(first: 2, after: $a, orderBy: CREATED_AT) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id createdAt } }
} }"""


async def test_a_created_at_cursor_survives_its_customer_leaving(
    store: GraphStore, marketing: Api, agent: Api
) -> None:
    """Marketing lists consenting customers oldest first; the last one of its page withdraws
    consent (leaves the listing): the next page still follows that position."""
    created = {"c1": ts(50), "c2": ts(40), "c3": ts(30), "c4": ts(20), "c5": ts(10)}
    await upsert_customers(
        store,
        [
            {"id": cid, "props": {**profile(cid, "张伟", f"+861381234567{i}"), "createdAt": at}}
            for i, (cid, at) in enumerate(sorted(created.items(), reverse=True))
        ],
    )
    first = await marketing.gql(BY_CREATED, {"a": None})
    assert [e["node"]["id"] for e in first["data"]["customers"]["edges"]] == ["c1", "c2"]
    cursor = first["data"]["customers"]["pageInfo"]["endCursor"]
    # The cursor carries the (never masked) createdAt and the id, nothing personal.
    assert orjson.loads(base64.urlsafe_b64decode(cursor)) == ["0", created["c2"], "c2"]
    left = await agent.gql(
        'mutation { upsertCustomer(input: {id: "c2", consentMarketing: false}) { id } }'
    )
    assert "errors" not in left, left
    after = await marketing.gql(BY_CREATED, {"a": cursor})
    assert "errors" not in after, after
    page = after["data"]["customers"]
    assert [e["node"]["id"] for e in page["edges"]] == ["c3", "c4"]
    assert page["totalCount"] == 4 and page["pageInfo"]["hasNextPage"]
    last = await marketing.gql(BY_CREATED, {"a": page["pageInfo"]["endCursor"]})
    assert [e["node"]["id"] for e in last["data"]["customers"]["edges"]] == ["c5"]
    # An id-order cursor is not one of this listing.
    wrong = await marketing.gql(BY_CREATED, {"a": b64(["c2"])})
    assert codes(wrong) == ["BAD_USER_INPUT"], wrong


async def test_customers_without_created_at_page_last(store: GraphStore, officer: Api) -> None:
    rows = [
        {"id": f"n{i}", "props": profile(f"n{i}", "李娜", f"+86139123456{i:02}")} for i in range(3)
    ]
    rows[1]["props"].pop("createdAt")  # type: ignore[attr-defined]
    await upsert_customers(store, rows)
    seen, cursor = [], None
    for _ in range(3):
        body = await officer.gql(BY_CREATED, {"a": cursor})
        assert "errors" not in body, body
        seen += [e["node"]["id"] for e in body["data"]["customers"]["edges"]]
        cursor = body["data"]["customers"]["pageInfo"]["endCursor"]
        if not body["data"]["customers"]["pageInfo"]["hasNextPage"]:
            break
    assert seen == ["n0", "n2", "n1"]


# A customer's mentions page by post (keyset), like the brand feed ``mentions``: a cursor is
# a post's place, and the one-part position cursors of before are refused
# (tests/api/test_customer_mentions_paging.py pages them).
MENTIONS = """query($a: String) { customer(id: "m-1") { mentions(first: 5, after: $a) {
    totalCount pageInfo { hasNextPage }
} } }"""


async def _customer(store: GraphStore) -> None:
    await upsert_customers(
        store, [{"id": "m-1", "props": profile("m-1", "李娜", "+8613912345678")}]
    )


@pytest.mark.parametrize("position", ["²", "١٢", "9" * 5000, "9" * 30, "-1", " 1", "999999999"])
async def test_a_position_cursor_is_bad_input(
    store: GraphStore, officer: Api, position: str
) -> None:
    await _customer(store)
    body = await officer.gql(MENTIONS, {"a": b64([position])})
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == "after"


async def test_a_post_cursor_past_the_end_is_an_empty_page(store: GraphStore, officer: Api) -> None:
    await _customer(store)
    body = await officer.gql(MENTIONS, {"a": b64(["1900-01-01T00:00:00Z", "x", "p"])})
    assert "errors" not in body, body
    assert body["data"]["customer"]["mentions"]["pageInfo"]["hasNextPage"] is False
