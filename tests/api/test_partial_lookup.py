"""Exact phone / ID number / e-mail search for callers who see those fields partially (a
call-centre agent who sees ``138****5678`` types the caller's whole number): through the keyed
blind indexes, exact only, the field still masked in the answer, each candidate decided, no
answer that tells a customer the caller may not see from no customer at all. Real HTTP (ASGI),
real embedded FalkorDB, real Rego (the packaged policy: service agents see PHONE, NATIONAL_ID
and EMAIL partial for every customer; marketing analysts PHONE partial, NATIONAL_ID redacted,
EMAIL hashed, consenting customers only)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from graph.store import GraphStore
from privacy.audit import AuditLog
from privacy.keyring import KeyRing
from tests.api.conftest import Api, codes
from tests.api.privacy_seed import OUYANG, PEOPLE, SIMA, ZHUGE, seed_privacy_book

SEARCH = """query Search($q: String) { customers(search: $q, first: 50) {
  totalCount edges { node { id phone idNumber email maskedFields } } } }"""
UNKNOWN_PHONE = "13800000000"  # a valid CN mobile no customer of the seed has


@pytest.fixture
async def book(store: GraphStore) -> GraphStore:
    await seed_privacy_book(store)
    return store


async def found(api: Api, q: str) -> tuple[int, list[dict[str, Any]]]:
    body = await api.gql(SEARCH, {"q": q})
    assert "errors" not in body, (q, body)
    conn = body["data"]["customers"]
    return conn["totalCount"], [e["node"] for e in conn["edges"]]


async def test_a_partial_caller_finds_a_customer_by_the_whole_value_still_masked(
    book: GraphStore, agent: Api
) -> None:
    # Service agents see phone, ID number and e-mail partially: each whole value, as typed
    # (national or E.164 phone, lower-case x, upper-case e-mail), finds its customer only.
    typed = (
        OUYANG.national, OUYANG.phone, "138 1234 5678", OUYANG.id_number.lower(),
        OUYANG.email, OUYANG.email.upper(),
    )  # fmt: skip
    for q in typed:
        total, nodes = await found(agent, q)
        assert (total, [n["id"] for n in nodes]) == (1, [OUYANG.id]), q
        node = nodes[0]
        # Masked as the caller's mode says: the value typed is not echoed back in full.
        assert node["phone"] != OUYANG.phone and node["phone"].endswith(OUYANG.phone[-4:])
        assert "*" in node["phone"] and "*" in node["idNumber"] and "*" in node["email"]
        assert OUYANG.id_number not in json.dumps(node) and OUYANG.email not in json.dumps(node)
        assert {"phone", "idNumber", "email"} <= set(node["maskedFields"])
    total, nodes = await found(agent, ZHUGE.id_number)
    assert (total, [n["id"] for n in nodes]) == (1, [ZHUGE.id])
    assert await found(agent, UNKNOWN_PHONE) == (0, [])


async def test_only_the_whole_value_matches(book: GraphStore, agent: Api) -> None:
    # Decided: a prefix, a fragment or the masked form of a value is no phone number, ID number
    # or e-mail address; it matches ids (and names, which agents see) only, so it finds nobody
    # by that field, without an error that would differ from any other unmatched text.
    assert (await found(agent, OUYANG.national))[0] == 1
    for q in (
        OUYANG.national[:7], OUYANG.national[:10], OUYANG.national[-4:], "138****5678",
        OUYANG.id_number[:17], OUYANG.id_number[:6], "mingxuan", "mingxuan@", "@example.cn",
        OUYANG.email[:-1] + "x",
    ):  # fmt: skip
        assert await found(agent, q) == (0, []), q


async def test_a_field_the_caller_does_not_see_partially_is_still_refused(
    book: GraphStore, marketing: Api, officer: Api
) -> None:
    # Marketing sees phones partially: an exact phone lookup, within its consent scope.
    total, nodes = await found(marketing, OUYANG.national)
    assert (total, [n["id"] for n in nodes]) == (1, [OUYANG.id])
    assert "*" in nodes[0]["phone"] and nodes[0]["idNumber"] is None
    # ID numbers are redacted and e-mails hashed for it: refused up front, as before.
    for q in (OUYANG.id_number, OUYANG.email, SIMA.id_number, "110105190001010000"):
        body = await marketing.gql(SEARCH, {"q": q})
        assert body["data"] is None and codes(body) == ["FORBIDDEN_FILTER"], q
        assert body["errors"][0]["extensions"]["field"] == "search"
        assert OUYANG.id_number not in json.dumps(body) and OUYANG.email not in json.dumps(body)
    assert (await found(officer, OUYANG.id_number))[0] == 1


async def test_a_customer_outside_the_scope_is_a_no_match(book: GraphStore, marketing: Api) -> None:
    # SIMA does not consent to marketing: her phone answers exactly as a number nobody has.
    assert (await found(marketing, ZHUGE.national))[0] == 1
    hidden = await marketing.client.post(
        "/graphql", json={"query": SEARCH, "variables": {"q": SIMA.national}},
        headers=marketing.headers,
    )  # fmt: skip
    nobody = await marketing.client.post(
        "/graphql", json={"query": SEARCH, "variables": {"q": UNKNOWN_PHONE}},
        headers=marketing.headers,
    )  # fmt: skip
    assert hidden.status_code == nobody.status_code == 200
    assert hidden.content == nobody.content
    assert hidden.json() == {"data": {"customers": {"totalCount": 0, "edges": []}}}


async def test_a_lookup_is_audited_without_the_value(
    book: GraphStore, data_dir: Path, agent: Api, marketing: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert (await found(agent, OUYANG.national))[0] == 1
    assert (await found(marketing, SIMA.national))[0] == 0
    records = AuditLog(data_dir / "audit", KeyRing.load(data_dir)).read()
    assert [(r["subject"], r["outcome"], r["customer_ids"]) for r in records] == [
        ("sa1", "ok", [OUYANG.id]),
        ("mk1", "ok", []),
    ]
    fields = records[0]["fields"][OUYANG.id]
    assert "phone" in fields["masked"] and "phone" not in fields["revealed"]
    # Records and logs hold field names and ids, never the searched-for values.
    text = json.dumps(records, ensure_ascii=False) + caplog.text
    for person in PEOPLE:
        for value in (person.phone, person.national, person.id_number, person.email):
            assert value not in text, value
