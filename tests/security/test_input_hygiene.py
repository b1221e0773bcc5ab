"""Bad input gets a clear 4xx/BAD_USER_INPUT, never a 500 (issue 11, item 6)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from datetime import UTC, datetime

import jwt
import pytest

from privacy.principal import AuthError, TokenVerifier
from tests.api.conftest import Api

SEARCH = "query S($q: String) { customers(search: $q) { totalCount } }"


def codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


@pytest.mark.parametrize("bad", ["a\x00b", "\x07", "x\x1b[31m", "\x7f", "\ud800"])
async def test_control_characters_in_variables_name_the_argument(api: Api, bad: str) -> None:
    # orjson refuses lone surrogates in a body it writes, so send the JSON text by hand.
    body = json.dumps({"query": SEARCH, "variables": {"q": bad}})
    response = await api.client.post(
        "/graphql", content=body, headers={**api.headers, "Content-Type": "application/json"}
    )
    assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        answer = response.json()
        assert codes(answer) == ["BAD_USER_INPUT"]
        assert "'search'" in answer["errors"][0]["message"]


async def test_control_character_in_a_literal_names_the_argument(api: Api) -> None:
    body = await api.gql('{ customers(search: "a\\u0000b") { totalCount } }')
    assert codes(body) == ["BAD_USER_INPUT"] and "'search'" in body["errors"][0]["message"]
    ok = await api.gql('{ customers(search: "tab\\tand\\nnewline") { totalCount } }')
    assert "errors" not in ok


@pytest.mark.parametrize(
    "content",
    [b"{not json", b'"a string"', b"123", b"[" * 5000 + b"]" * 5000, b'{"query":' * 200],
)
async def test_malformed_or_deep_json_is_400(api: Api, content: bytes) -> None:
    headers = {**api.headers, "Content-Type": "application/json"}
    response = await api.client.post("/graphql", content=content, headers=headers)
    assert response.status_code == 400, response.text


async def test_deep_variables_are_400(api: Api) -> None:
    deep: object = "x"
    for _ in range(200):
        deep = [deep]
    response = await api.client.post(
        "/graphql", json={"query": SEARCH, "variables": {"q": deep}}, headers=api.headers
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("abc-123_X.y", True), ("x" * 64, True), ("x" * 65, False), ("a b", False), ("é", False)],
)
async def test_request_id_is_kept_only_when_well_formed(api: Api, sent: str, kept: bool) -> None:
    headers = {**api.headers, "X-Request-Id": sent.encode()}
    response = await api.client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    echoed = response.headers["x-request-id"]
    assert (echoed == sent) is kept
    if not kept:
        # A fresh id of the hub's own (a UUID in hex), not the sent value cut or cleaned up.
        assert re.fullmatch(r"[0-9a-f]{32}", echoed), echoed
        assert echoed not in sent


def _forge(payload_json: str, key: bytes) -> str:
    """An HS256 token over a payload text as given (duplicate keys survive)."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(b'{"alg":"HS256","typ":"JWT"}')
    payload = b64(payload_json.encode())
    signing = f"{header}.{payload}".encode()
    return f"{header}.{payload}." + b64(hmac.new(key, signing, hashlib.sha256).digest())


KEY = b"k" * 32


def test_duplicate_claims_and_empty_subject_are_refused() -> None:
    verifier = TokenVerifier(algorithm="HS256", key=KEY)
    exp = int(time.time()) + 600
    good = f'{{"sub":"u1","roles":["auditor"],"exp":{exp}}}'
    assert verifier.verify(_forge(good, KEY))["sub"] == "u1"
    twice = f'{{"sub":"u1","roles":["auditor"],"roles":["privacy_officer"],"exp":{exp}}}'
    with pytest.raises(AuthError, match="twice"):
        verifier.verify(_forge(twice, KEY))
    for sub in ('""', '"  "'):
        with pytest.raises(AuthError, match="sub"):
            verifier.verify(_forge(f'{{"sub":{sub},"roles":[],"exp":{exp}}}', KEY))


def test_leeway_defaults_to_5_seconds() -> None:
    verifier = TokenVerifier(algorithm="HS256", key=KEY)
    now = int(datetime.now(UTC).timestamp())
    just = jwt.encode({"sub": "u1", "exp": now - 2}, KEY, algorithm="HS256")
    assert verifier.verify(just)["sub"] == "u1"
    stale = jwt.encode({"sub": "u1", "exp": now - 20}, KEY, algorithm="HS256")
    with pytest.raises(AuthError, match="expired"):
        verifier.verify(stale)


async def test_no_suggestions_with_introspection_off(api: Api) -> None:
    body = await api.gql('{ customr(id: "x") { id } }')
    message = body["errors"][0]["message"]
    assert "Did you mean" not in message and "customr" in message
    ordered = "query Q($o: CustomerOrder!) { customers(orderBy: $o) { totalCount } }"
    body = await api.gql(ordered, {"o": "NAMEE"})
    assert "NAMEE" in body["errors"][0]["message"]
    assert "Did you mean" not in body["errors"][0]["message"]


async def test_several_anonymous_operations_are_an_error(api: Api) -> None:
    response = await api.client.post(
        "/graphql", json={"query": "{ __typename } { __typename }"}, headers=api.headers
    )
    assert "data" not in response.json() or response.json()["data"] is None
    assert response.json().get("errors") or response.status_code == 400
