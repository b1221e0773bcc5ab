"""A transactions window or an interactions kind that can match nothing is bad input (as for
``mentions``), not an empty answer."""

from __future__ import annotations

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
