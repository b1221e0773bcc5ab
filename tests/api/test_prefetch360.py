"""The 360 prefetch (resolvers/prefetch360.py): a full 360 view costs a few round trips,
answers exactly what the same fields asked a few at a time answer (those stay below the
projection's threshold and go through the loaders), and reveals nothing the caller's
decisions do not: linked customers it read but the caller may not see stay out, and a denied
customer's view carries no values."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from graph.store import GraphStore
from resolvers.prefetch360 import MIN_PARTS
from tests.api.conftest import Api
from tests.api.privacy_seed import ADVISOR_1, ADVISOR_2, OUYANG, SIMA, seed_privacy_book
from tests.api.seed import seed_family
from tests.api.test_customer360 import FULL_360
from tests.api.test_privacy_access import assert_absent, codes, raw

# FULL_360's fields in groups that each read fewer than MIN_PARTS parts: no projection.
PIECES = (
    "id name gender birthDate idNumber phone email address occupation incomeBand riskProfile "
    "createdAt maskedFields consents { marketing dataSharing updatedAt } "
    "accounts { id type product balance currency openedAt status role coOwners { id name } } "
    "totalAssets segment ageBand daysToNextBirthday",
    "household { id name members { role customer { id name } } } "
    "advisor { id name branch { id name city } }",
    "relatedCustomers { kind customer { id name } } "
    "transactions(first: 5) { totalCount pageInfo { hasNextPage endCursor } "
    "edges { cursor node { id amount time accountId } } }",
    "interactions(first: 5) { totalCount pageInfo { hasNextPage endCursor } "
    "edges { node { id kind time products { code name } } } } "
    "lifecycleStage churnRisk { score reasons }",
)


def _piece(fields: str) -> str:
    return "query($id: ID!) { customer(id: $id) { " + fields + " } }"


async def _pieces(api: Api, customer_id: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for fields in PIECES:
        body = await api.gql(_piece(fields), {"id": customer_id})
        assert "errors" not in body, body
        merged.update(body["data"]["customer"])
    return merged


async def _round_trips(store: GraphStore, api: Api, query: str, customer_id: str) -> int:
    before = store.stats.round_trips
    body = await api.gql(query, {"id": customer_id})
    assert "errors" not in body, body
    return store.stats.round_trips - before


def test_pieces_stay_below_the_threshold() -> None:
    # Each piece reads at most two parts (the accounts piece: accounts alone), so the
    # comparison below really is projection against loaders.
    assert MIN_PARTS >= 3


@pytest.fixture
async def book(store: GraphStore) -> GraphStore:
    await seed_privacy_book(store)
    return store


@pytest.mark.parametrize(
    ("role", "purpose", "subject"),
    [
        ("privacy_officer", "compliance", "po"),
        ("marketing_analyst", "marketing", "ma"),
        ("advisor", "service", ADVISOR_1),
        ("service_agent", "service", "sa"),
    ],
)
async def test_full_view_answers_like_the_loaders(
    book: GraphStore, as_role: Callable[..., Api], role: str, purpose: str, subject: str
) -> None:
    api = as_role(role, purpose, subject)
    full = await api.gql(FULL_360, {"id": OUYANG.id})
    assert "errors" not in full, full
    assert full["data"]["customer"] == await _pieces(api, OUYANG.id)


async def test_full_view_costs_four_round_trips(book: GraphStore, officer: Api) -> None:
    # The projection (linked customers included) and the three heavy parts beside it.
    full = await _round_trips(book, officer, FULL_360, OUYANG.id)
    pieces = 0
    for fields in PIECES:
        pieces += await _round_trips(book, officer, _piece(fields), OUYANG.id)
    assert full <= 4 < pieces


async def test_linked_customers_read_but_not_visible_stay_out(
    book: GraphStore, marketing: Api
) -> None:
    # Marketing sees consenting OUYANG only: SIMA (his spouse, household member and joint
    # owner) is read by the projection, then decided and left out everywhere.
    text = await raw(marketing, FULL_360, {"id": OUYANG.id})
    body = json.loads(text)
    assert "errors" not in body, body
    c = body["data"]["customer"]
    assert c["relatedCustomers"] == []
    assert [m["customer"]["id"] for m in c["household"]["members"]] == [OUYANG.id]
    assert all(a["coOwners"] == [] for a in c["accounts"])
    assert SIMA.id not in text
    assert_absent(text, SIMA)
    # OUYANG's own personal fields are masked for marketing, as their decision says.
    assert c["name"] != OUYANG.name and c["idNumber"] != OUYANG.id_number
    assert "name" in c["maskedFields"] and "idNumber" in c["maskedFields"]


async def test_denied_customer_view_carries_no_values(
    book: GraphStore, as_role: Callable[..., Api]
) -> None:
    other = as_role("advisor", "service", ADVISOR_2)
    text = await raw(other, FULL_360, {"id": OUYANG.id})
    body = json.loads(text)
    assert body["data"]["customer"] is None and codes(body) == ["FORBIDDEN"]
    assert_absent(text, OUYANG, SIMA)


FRAGMENT_360 = (
    "query($id: ID!) { customer(id: $id) { ...View } }\n"
    + "fragment View on Customer { "
    + " ".join(PIECES)
    + " }"
)
TWO_PAGES = """query($id: ID!, $after: String) { customer(id: $id) {
  accounts { id } household { id } advisor { id }
  transactions(first: 1) { edges { cursor node { id amount } } }
  later: transactions(first: 2, after: $after) { edges { node { id amount } } }
  interactions(first: 1, kind: "COMPLAINT") { totalCount edges { node { id kind } } }
} }"""


async def test_fragments_are_read_through(book: GraphStore, officer: Api) -> None:
    assert await _round_trips(book, officer, FRAGMENT_360, OUYANG.id) <= 4
    body = await officer.gql(FRAGMENT_360, {"id": OUYANG.id})
    assert body["data"]["customer"] == await _pieces(officer, OUYANG.id)


async def test_aliased_pages_and_arguments_answer_like_the_loaders(
    store: GraphStore, officer: Api
) -> None:
    await seed_family(store, "pf", accounts=2, transactions=3, interactions=2)
    first = await officer.gql(TWO_PAGES, {"id": "pf-1"})
    assert "errors" not in first, first
    cursor = first["data"]["customer"]["transactions"]["edges"][0]["cursor"]
    body = await officer.gql(TWO_PAGES, {"id": "pf-1", "after": cursor})
    c = body["data"]["customer"]
    alone = await officer.gql(
        "query($id: ID!, $after: String) { customer(id: $id) { "
        "later: transactions(first: 2, after: $after) { edges { node { id amount } } } "
        'interactions(first: 1, kind: "COMPLAINT") { totalCount edges { node { id kind } } }'
        " } }",
        {"id": "pf-1", "after": cursor},
    )
    assert c["later"] == alone["data"]["customer"]["later"]
    assert c["interactions"] == alone["data"]["customer"]["interactions"]
    assert len(c["later"]["edges"]) == 2
    assert c["later"]["edges"][0]["node"]["id"] != c["transactions"]["edges"][0]["node"]["id"]


async def test_a_repeated_document_reads_each_request_s_variables(
    store: GraphStore, officer: Api
) -> None:
    """The selection's shape is kept per parsed document (schema/customer.py); the page
    arguments still come from each request's variables."""
    query = (
        "query($id: ID!, $n: Int) { customer(id: $id) { id accounts { id } "
        "household { id } advisor { id } transactions(first: $n) { totalCount "
        "edges { node { id } } } } }"
    )
    await seed_family(store, "rd", accounts=2, transactions=3)
    for n in (1, 3, 2):
        before = store.stats.round_trips
        body = await officer.gql(query, {"id": "rd-1", "n": n})
        assert "errors" not in body, body
        page = body["data"]["customer"]["transactions"]
        assert page["totalCount"] >= 3 and len(page["edges"]) == n
        assert store.stats.round_trips - before <= 4  # the prefetch answered the page
