"""Caller input an error quotes back (an id asked for, a purpose, an erasure request id) is
capped by one helper (shared/echo.py): the first 64 characters and the length, never a 100 KB
id repeated whole in the answer."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from shared.echo import ECHO_MAX, echo
from tests.api.conftest import Api, codes

HUGE = "C" + "x" * 99_999  # a 100 000-character id
CAPPED = f"{HUGE[:ECHO_MAX]}…(100000 chars)"


def test_echo_keeps_short_input_and_caps_long_input() -> None:
    assert echo("C000001") == "C000001"
    assert echo("x" * ECHO_MAX) == "x" * ECHO_MAX
    assert echo(HUGE) == CAPPED
    assert len(echo("客" * 1000)) < 100


async def test_an_unknown_huge_customer_id_is_echoed_capped(officer: Api, marketing: Api) -> None:
    """NOT_FOUND for a caller who may see every customer, FORBIDDEN for one who may not: both
    name the id in ``extensions.id``, capped; nothing else in the answer repeats it."""
    query = "query($id: ID!) { customer(id: $id) { id } }"
    for api, code in ((officer, "NOT_FOUND"), (marketing, "FORBIDDEN")):
        body = await api.gql(query, {"id": HUGE})
        assert codes(body) == [code], str(body)[:500]
        assert body["errors"][0]["extensions"]["id"] == CAPPED
        assert len(str(body)) < 1_000


async def test_an_unknown_huge_household_id_is_echoed_capped(officer: Api) -> None:
    body = await officer.gql("query($id: ID!) { household(id: $id) { name } }", {"id": HUGE})
    assert codes(body) == ["NOT_FOUND"], str(body)[:500]
    assert body["errors"][0]["extensions"]["id"] == CAPPED


async def test_an_unknown_huge_erasure_request_id_is_echoed_capped(officer: Api) -> None:
    body = await officer.gql(
        "mutation($r: String!) { withdrawErasure(requestId: $r) { id } }", {"r": HUGE}
    )
    assert codes(body) == ["BAD_USER_INPUT"], str(body)[:500]
    assert CAPPED in body["errors"][0]["message"]
    assert len(str(body)) < 1_000


async def test_a_huge_unknown_purpose_is_echoed_capped(
    client: httpx.AsyncClient, make_token: Callable[..., str]
) -> None:
    headers = {"Authorization": f"Bearer {make_token()}", "X-Purpose": HUGE}
    response = await client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    assert response.status_code == 403
    error = response.json()["error"]
    assert CAPPED.lower() in error and len(error) < 500, error[:500]


async def test_a_huge_unknown_operation_name_is_echoed_capped(
    client: httpx.AsyncClient, make_token: Callable[..., str]
) -> None:
    headers = {"Authorization": f"Bearer {make_token()}"}
    sent = {"query": "query A { __typename }", "operationName": HUGE}
    response = await client.post("/graphql", json=sent, headers=headers)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["message"] == f'Unknown operation named "{CAPPED}".'


async def test_graphql_cores_own_messages_cut_a_huge_variable(officer: Api) -> None:
    """A variable's value graphql-core cannot coerce is quoted by its ``inspect`` (240
    characters at most): not ours to cap, but it must stay short too."""
    body = await officer.gql("query($n: Int) { customers(first: $n) { totalCount } }", {"n": HUGE})
    assert codes(body) == ["BAD_USER_INPUT"], str(body)[:500]
    assert len(body["errors"][0]["message"]) < 600, body["errors"][0]["message"][:700]
