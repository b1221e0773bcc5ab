"""Cursors of the customer list in a personal order (NAME, TOTAL_ASSETS) are sealed keysets:
the next page follows the cursor's (value, id) even after its customer has left the listing,
nothing of the value is readable in the cursor, and a cursor opens only for the caller (subject,
roles, purpose), the order and the filter it was made for, and only until it expires."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import ValidationError

from graph.repositories.accounts import upsert_accounts
from graph.repositories.customers import upsert_customers
from graph.repositories.erasure import delete_customer
from graph.store import GraphStore
from hub.settings import Settings
from privacy.secrets import load_or_create_secret
from resolvers.pagination import CURSOR_KEY_NAME, SEALED_V1, CursorSeal
from tests.api.conftest import Api, codes, serve
from tests.api.seed import profile, ts

# Ids against the names' order, so a page by id and a page by name differ.
NAMES = {"c5": "Alice An", "c4": "Bo Bai", "c3": "Chen Cai", "c2": "Dan Du", "c1": "Eve Ex"}
ASSETS = {"c1": 30_000.5, "c2": 10_000.25, "c3": 20_000.75, "c4": 40_000.0, "c5": 5_000.125}

LIST = """query($a: String, $o: CustomerOrder!, $s: String, $g: Segment) {
  customers(first: 2, after: $a, orderBy: $o, search: $s, segment: $g) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } }
} }"""
START_AGAIN = "start again from the first page"


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


async def _page(api: Api, order: str, after: str | None, **filters: str) -> dict[str, Any]:
    body = await api.gql(LIST, {"a": after, "o": order, **filters})
    assert "errors" not in body, body
    page: dict[str, Any] = body["data"]["customers"]
    return page


def _ids(page: dict[str, Any]) -> list[str]:
    return [e["node"]["id"] for e in page["edges"]]


def _opened(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor)


def _refused(body: dict[str, Any]) -> str:
    """The message of a refused cursor (BAD_USER_INPUT on ``after``, start again)."""
    assert codes(body) == ["BAD_USER_INPUT"], body
    error = body["errors"][0]
    assert error["extensions"]["field"] == "after"
    assert START_AGAIN in error["message"], error
    message: str = error["message"]
    return message


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
    _refused(await theirs.gql(LIST, {"a": cursor, "o": "NAME"}))
    # The same caller's cursor for another order.
    by_name = (await _page(officer, "NAME", None))["pageInfo"]["endCursor"]
    _refused(await officer.gql(LIST, {"a": by_name, "o": "TOTAL_ASSETS"}))
    # Nor is a sealed cursor an id or createdAt cursor.
    for order in ("ID", "CREATED_AT"):
        body = await officer.gql(LIST, {"a": by_name, "o": order})
        assert codes(body) == ["BAD_USER_INPUT"], body


async def test_a_cursor_does_not_follow_its_subject_to_another_role_or_purpose(
    store: GraphStore, client: httpx.AsyncClient, make_token: Callable[..., str]
) -> None:
    """One subject under other roles or another purpose may see other customers and fields:
    the cursor it was given under the first is a position in a listing it is no longer
    asking for."""
    await _book(store)
    both = ["privacy_officer", "service_agent"]
    token = make_token(both, sub="u7", purpose=None, purposes=["compliance", "service"])

    def caller(token: str, purpose: str) -> Api:
        api = Api(client, token)
        api.headers["X-Purpose"] = purpose
        return api

    given = caller(token, "compliance")
    cursor = (await _page(given, "NAME", None))["pageInfo"]["endCursor"]
    assert _ids(await _page(given, "NAME", cursor)) == ["c3", "c2"]
    others = (
        caller(token, "service"),  # the same roles, another purpose
        caller(make_token(["privacy_officer"], sub="u7", purpose="compliance"), "compliance"),
        caller(make_token(["service_agent"], sub="u7", purpose="service"), "service"),
    )
    for other in others:
        assert _ids(await _page(other, "NAME", None)) == ["c5", "c4"]  # it may list them
        _refused(await other.gql(LIST, {"a": cursor, "o": "NAME"}))


async def test_a_cursor_does_not_carry_over_to_another_filter(
    store: GraphStore, officer: Api
) -> None:
    await _book(store)
    cursor = (await _page(officer, "NAME", None))["pageInfo"]["endCursor"]
    for filters in ({"s": "a"}, {"g": "MASS"}, {"s": "a", "g": "MASS"}):
        _refused(await officer.gql(LIST, {"a": cursor, "o": "NAME", **filters}))
    # A filtered listing's cursor opens for that filter only, and not unfiltered.
    searched = await _page(officer, "NAME", None, s="a")  # Bo Bai, Chen Cai, Dan Du
    assert _ids(searched) == ["c4", "c3"]
    more = searched["pageInfo"]["endCursor"]
    assert _ids(await _page(officer, "NAME", more, s="a")) == ["c2"]
    _refused(await officer.gql(LIST, {"a": more, "o": "NAME"}))
    _refused(await officer.gql(LIST, {"a": more, "o": "NAME", "s": "A"}))


async def test_a_cursor_expires(store: GraphStore, data_dir: Path, make_token: Any) -> None:
    """C360_CURSOR_TTL_S: past it, the cursor's own caller is told it expired."""
    await _book(store)
    settings = Settings(data_dir=data_dir, introspection=False, cursor_ttl_s=1)
    async with serve(store, settings) as client:
        officer = Api(client, make_token(["privacy_officer"], sub="po1", purpose="compliance"))
        cursor = (await _page(officer, "NAME", None))["pageInfo"]["endCursor"]
        await asyncio.sleep(2.2)  # whole seconds: older than 1 s whatever the rounding
        message = _refused(await officer.gql(LIST, {"a": cursor, "o": "NAME"}))
        assert "expired" in message and "1 s" in message, message
        # Another caller's expired cursor is just not theirs (no oracle on its age).
        other = Api(client, make_token(["privacy_officer"], sub="po2", purpose="compliance"))
        assert "expired" not in _refused(await other.gql(LIST, {"a": cursor, "o": "NAME"}))


@pytest.mark.parametrize("value", ["0", "-5", "86401", "1h", ""])
def test_the_cursor_lifetime_setting_is_checked(
    value: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("C360_CURSOR_TTL_S", value)
    with pytest.raises(ValidationError, match="cursor_ttl_s"):
        Settings(data_dir=data_dir)


def test_the_cursor_lifetime_defaults_to_an_hour(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("C360_CURSOR_TTL_S", raising=False)
    assert Settings(data_dir=data_dir).cursor_ttl_s == 3600
    monkeypatch.setenv("C360_CURSOR_TTL_S", "900")
    assert Settings(data_dir=data_dir).cursor_ttl_s == 900


async def test_a_cursor_of_the_previous_format_is_refused(
    store: GraphStore, agent: Api, data_dir: Path
) -> None:
    """Format 1 (the parts, bound to the order and the subject, no issue time) under the same
    key: it authenticated before, and would never have expired; now it is refused."""
    await _book(store)
    await _page(agent, "NAME", None)  # the key exists
    key = load_or_create_secret(data_dir, CURSOR_KEY_NAME)
    plain = orjson.dumps(["0", "Bo Bai", "c4"])
    plain += b" " * (-len(plain) % 64)
    nonce = os.urandom(12)
    bound = orjson.dumps(["customers", "NAME", "sa1"])
    old = SEALED_V1 + nonce + AESGCM(key).encrypt(nonce, plain, bound)
    message = _refused(
        await agent.gql(LIST, {"a": base64.urlsafe_b64encode(old).decode(), "o": "NAME"})
    )
    assert "earlier version" in message


async def test_the_seal_key_lives_in_the_data_dir(
    store: GraphStore, agent: Api, data_dir: Path
) -> None:
    """Another process of the hub (``--workers``) reads the same key file and opens the
    cursor: the whole sort key, for this caller, order and filter."""
    await _book(store)
    cursor = (await _page(agent, "NAME", None))["pageInfo"]["endCursor"]
    key = data_dir / "keys" / f"{CURSOR_KEY_NAME}.key"
    assert key.exists() and key.stat().st_mode & 0o777 == 0o600
    other = CursorSeal(load_or_create_secret(data_dir, CURSOR_KEY_NAME))
    caller = ["sa1", ["service_agent"], None, "service"]
    bound = orjson.dumps(["customers", "NAME", caller, [None, None]]).decode()
    assert other.open(cursor, 3, bound, 3600) == ("0", "Bo Bai", "c4")
