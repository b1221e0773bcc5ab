"""Cursors of the customer list in a personal order (NAME, TOTAL_ASSETS) are sealed keysets:
the next page follows the cursor's (value, id) even after its customer has left the listing,
nothing of the value is readable in the cursor, and a cursor opens only for the caller and the
order it was made for."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from graph.repositories.accounts import upsert_accounts
from graph.repositories.customers import upsert_customers
from graph.repositories.erasure import delete_customer
from graph.store import GraphStore
from privacy.secrets import load_or_create_secret
from resolvers.pagination import CURSOR_KEY_NAME, CursorSeal
from tests.api.conftest import Api, codes
from tests.api.seed import profile, ts

# Ids against the names' order, so a page by id and a page by name differ.
NAMES = {"c5": "Alice An", "c4": "Bo Bai", "c3": "Chen Cai", "c2": "Dan Du", "c1": "Eve Ex"}
ASSETS = {"c1": 30_000.5, "c2": 10_000.25, "c3": 20_000.75, "c4": 40_000.0, "c5": 5_000.125}

LIST = """query($a: String, $o: CustomerOrder!) { customers(first: 2, after: $a, orderBy: $o) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } }
} }"""


async def _book(store: GraphStore) -> None:
    await upsert_customers(
        store,
        [
            {"id": cid, "props": profile(cid, name, f"+86138123456{i:02}")}
            for i, (cid, name) in enumerate(NAMES.items())
        ],
    )
    await upsert_accounts(
        store,
        [
            {
                "id": f"{cid}-acc",
                "customerId": cid,
                "props": {
                    "type": "SAVINGS",
                    "product": "p",
                    "balance": amount,
                    "currency": "CNY",
                    "openedAt": ts(100),
                    "status": "ACTIVE",
                },
            }
            for cid, amount in ASSETS.items()
        ],
    )


async def _page(api: Api, order: str, after: str | None) -> dict[str, Any]:
    body = await api.gql(LIST, {"a": after, "o": order})
    assert "errors" not in body, body
    page: dict[str, Any] = body["data"]["customers"]
    return page


def _ids(page: dict[str, Any]) -> list[str]:
    return [e["node"]["id"] for e in page["edges"]]


def _opened(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor)


async def test_a_name_cursor_survives_its_customer_being_erased(
    store: GraphStore, agent: Api
) -> None:
    await _book(store)
    first = await _page(agent, "NAME", None)
    assert _ids(first) == ["c5", "c4"]
    cursor = first["pageInfo"]["endCursor"]
    await delete_customer(store, "c4", [])  # the graph half of an erasure
    after = await _page(agent, "NAME", cursor)
    assert _ids(after) == ["c3", "c2"]
    assert after["totalCount"] == 4 and after["pageInfo"]["hasNextPage"]
    last = await _page(agent, "NAME", after["pageInfo"]["endCursor"])
    assert _ids(last) == ["c1"] and not last["pageInfo"]["hasNextPage"]


async def test_a_name_cursor_keeps_its_place_when_its_customer_is_renamed(
    store: GraphStore, agent: Api
) -> None:
    """Renamed to sort last, the cursor's customer moved; the next page still follows the
    place the cursor was given at (a cursor of the customer's id followed its new place)."""
    await _book(store)
    cursor = (await _page(agent, "NAME", None))["pageInfo"]["endCursor"]
    moved = await agent.gql(
        'mutation { upsertCustomer(input: {id: "c4", name: "Zoe Zhu"}) { id } }'
    )
    assert "errors" not in moved, moved
    assert _ids(await _page(agent, "NAME", cursor)) == ["c3", "c2"]


async def test_an_assets_cursor_survives_its_customer_leaving(
    store: GraphStore, officer: Api
) -> None:
    await _book(store)
    first = await _page(officer, "TOTAL_ASSETS", None)
    assert _ids(first) == ["c5", "c2"]
    cursor = first["pageInfo"]["endCursor"]
    await delete_customer(store, "c2", [])
    after = await _page(officer, "TOTAL_ASSETS", cursor)
    assert _ids(after) == ["c3", "c1"]
    assert _ids(await _page(officer, "TOTAL_ASSETS", after["pageInfo"]["endCursor"])) == ["c4"]


async def test_a_sealed_cursor_shows_no_name_no_amount_and_no_length(
    store: GraphStore, agent: Api, officer: Api
) -> None:
    await _book(store)
    cursors = [e["cursor"] for e in (await _page(agent, "NAME", None))["edges"]]
    cursors += [e["cursor"] for e in (await _page(officer, "TOTAL_ASSETS", None))["edges"]]
    for cursor in cursors:
        raw = _opened(cursor)
        # (Whole values: a two-byte id could turn up in random bytes by chance.)
        for name in NAMES.values():
            assert name.encode() not in raw
        for amount in ASSETS.values():
            assert str(amount).encode() not in raw and str(int(amount)).encode() not in raw
    # A short name and a long one give cursors of one length.
    assert len({len(c) for c in cursors}) == 1
    # Not the clear JSON list other listings use.
    assert not raw.startswith(b"[")


async def test_a_tampered_cursor_is_bad_input(store: GraphStore, agent: Api) -> None:
    await _book(store)
    cursor = (await _page(agent, "NAME", None))["pageInfo"]["endCursor"]
    raw = bytearray(_opened(cursor))
    for at in (0, 5, len(raw) // 2, len(raw) - 1):
        bad = bytearray(raw)
        bad[at] ^= 0x01
        body = await agent.gql(LIST, {"a": base64.urlsafe_b64encode(bad).decode(), "o": "NAME"})
        assert codes(body) == ["BAD_USER_INPUT"], body
        assert body["errors"][0]["extensions"]["field"] == "after"
        assert "start again from the first page" in body["errors"][0]["message"]
    # Cut short, or an id cursor of the former format (the customer's id in clear).
    for bad_cursor in (
        base64.urlsafe_b64encode(raw[:20]).decode(),
        base64.urlsafe_b64encode(orjson.dumps(["c4"])).decode(),
        "not base64 at all!",
    ):
        body = await agent.gql(LIST, {"a": bad_cursor, "o": "NAME"})
        assert codes(body) == ["BAD_USER_INPUT"], body
        assert "start again from the first page" in body["errors"][0]["message"]


async def test_a_cursor_opens_only_for_its_caller_and_order(
    store: GraphStore, as_role: Callable[..., Api], officer: Api
) -> None:
    await _book(store)
    mine = as_role("service_agent", "service", "sa1")
    theirs = as_role("service_agent", "service", "sa2")
    cursor = (await _page(mine, "NAME", None))["pageInfo"]["endCursor"]
    assert _ids(await _page(mine, "NAME", cursor)) == ["c3", "c2"]
    body = await theirs.gql(LIST, {"a": cursor, "o": "NAME"})
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert "start again from the first page" in body["errors"][0]["message"]
    # The same caller's cursor for another order.
    by_name = (await _page(officer, "NAME", None))["pageInfo"]["endCursor"]
    body = await officer.gql(LIST, {"a": by_name, "o": "TOTAL_ASSETS"})
    assert codes(body) == ["BAD_USER_INPUT"], body
    # Nor is a sealed cursor an id or createdAt cursor.
    for order in ("ID", "CREATED_AT"):
        body = await officer.gql(LIST, {"a": by_name, "o": order})
        assert codes(body) == ["BAD_USER_INPUT"], body


async def test_the_seal_key_lives_in_the_data_dir(
    store: GraphStore, agent: Api, data_dir: Path
) -> None:
    """Another process of the hub (``--workers``) reads the same key file and opens the
    cursor: the whole sort key, for this caller and order."""
    await _book(store)
    cursor = (await _page(agent, "NAME", None))["pageInfo"]["endCursor"]
    key = data_dir / "keys" / f"{CURSOR_KEY_NAME}.key"
    assert key.exists() and key.stat().st_mode & 0o777 == 0o600
    other = CursorSeal(load_or_create_secret(data_dir, CURSOR_KEY_NAME))
    bound = orjson.dumps(["customers", "NAME", "sa1"]).decode()
    assert other.open(cursor, 3, bound) == ("0", "Bo Bai", "c4")
