"""The privacy layer end to end: real HTTP (ASGI), real embedded FalkorDB, real Rego engine.

Who sees what (masks, row access), that masked values are no search/sort/filter oracle and
never appear in errors or aggregates, that the hub fails closed when the policy engine or the
audit log is down, and that every request touching customers leaves one verifiable record.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from graph.repositories.customer360 import customers_by_id
from graph.repositories.households import upsert_households
from graph.store import GraphStore
from hub.app import create_app
from hub.cli import app as cli
from hub.settings import Settings
from privacy.audit import AuditLog
from privacy.keyring import KeyRing, KeyRingError
from privacy.policy_set import PACKAGED_DIR, load_policy_set
from privacy.principal import issue_token
from tests.api.conftest import Api
from tests.api.privacy_seed import (
    ADVISOR_1,
    HIDDEN_HOUSEHOLD,
    HOUSEHOLD,
    OUYANG,
    PEOPLE,
    SHANGGUAN,
    SIMA,
    ZHUGE,
    Person,
    seed_privacy_book,
)

PERSONAL = "id name phone idNumber email address birthDate totalAssets maskedFields"
ONE = "query One($id: ID!) { customer(id: $id) { " + PERSONAL + " } }"
SEARCH = """query Search($q: String, $segment: Segment, $order: CustomerOrder) {
  customers(search: $q, segment: $segment, orderBy: $order, first: 50) {
    totalCount edges { node { id name phone totalAssets } }
  }
}"""


@pytest.fixture
async def book(store: GraphStore) -> GraphStore:
    await seed_privacy_book(store)
    return store


async def raw(api: Api, query: str, variables: dict[str, Any] | None = None) -> str:
    """The response body as sent, for asserting what it does not contain."""
    response = await api.client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=api.headers
    )
    assert response.status_code == 200, response.text
    return response.text


def assert_absent(text: str, *people: Person) -> None:
    for person in people:
        for secret in person.secrets:
            assert secret not in text, f"{person.id}'s {secret!r} leaked"


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def search(api: Api, **variables: Any) -> dict[str, Any]:
    return await api.gql(SEARCH, variables)


def listed(body: dict[str, Any]) -> tuple[int, list[str]]:
    conn = body["data"]["customers"]
    return conn["totalCount"], [e["node"]["id"] for e in conn["edges"]]


@asynccontextmanager
async def serve(store: GraphStore, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A hub of its own (other settings or data dir) over the session's graph."""
    app = create_app(settings, store=store)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as c:
            yield c


# --- authentication ---------------------------------------------------------------------


async def test_no_or_bad_token_is_401_json(client: httpx.AsyncClient, data_dir: Path) -> None:
    query = {"query": ONE, "variables": {"id": OUYANG.id}}
    foreign = issue_token(b"k" * 32, "x", ["privacy_officer"], purpose="compliance")
    for headers in (
        {},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": f"Bearer {foreign}"},
    ):
        response = await client.post("/graphql", json=query, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]


# --- masks and row access ---------------------------------------------------------------


async def test_marketing_sees_a_consenting_customer_partially(
    book: GraphStore, marketing: Api
) -> None:
    text = await raw(marketing, ONE, {"id": OUYANG.id})
    c = json.loads(text)["data"]["customer"]
    assert re.fullmatch(r"1\d\d\*{4}\d{4}", c["phone"]) and c["phone"] == "138****5678"
    assert c["idNumber"] is None
    assert c["name"] == "欧***"
    assert c["birthDate"] == "1985"
    assert c["email"] != OUYANG.email and c["email"]  # a stable hash token
    assert {"name", "phone", "idNumber", "email", "totalAssets"} <= set(c["maskedFields"])
    assert_absent(text, OUYANG)


async def test_marketing_is_denied_a_non_consenting_customer(
    book: GraphStore, marketing: Api
) -> None:
    text = await raw(marketing, ONE, {"id": SIMA.id})
    body = json.loads(text)
    assert body["data"]["customer"] is None
    assert codes(body) == ["FORBIDDEN"]
    assert "consent" in body["errors"][0]["message"]
    assert_absent(text, SIMA)


async def test_privacy_officer_sees_everything(book: GraphStore, officer: Api) -> None:
    c = (await officer.gql(ONE, {"id": SIMA.id}))["data"]["customer"]
    assert (c["name"], c["phone"], c["idNumber"]) == (SIMA.name, SIMA.phone, SIMA.id_number)
    assert c["maskedFields"] == []


async def test_advisor_sees_own_customers_only(
    book: GraphStore, as_role: Callable[..., Api]
) -> None:
    advisor = as_role("advisor", "service", ADVISOR_1)
    own = (await advisor.gql(ONE, {"id": OUYANG.id}))["data"]["customer"]
    assert (own["name"], own["phone"], own["idNumber"]) == (
        OUYANG.name, OUYANG.phone, OUYANG.id_number,
    )  # fmt: skip
    text = await raw(advisor, ONE, {"id": ZHUGE.id})
    body = json.loads(text)
    assert body["data"]["customer"] is None and codes(body) == ["FORBIDDEN"]
    assert_absent(text, ZHUGE)
    # The wrong purpose for the role: no access at all.
    wrong = as_role("advisor", "marketing", ADVISOR_1)
    assert codes(await wrong.gql(ONE, {"id": OUYANG.id})) == ["FORBIDDEN"]


# --- attacker: search, filters, ordering --------------------------------------------------


async def test_masked_name_or_phone_is_no_search_oracle(
    book: GraphStore, marketing: Api, officer: Api
) -> None:
    # Names are partial for marketing: the text matches ids only (the name clause is dropped).
    for q in (OUYANG.name, "欧阳"):
        text = await raw(marketing, SEARCH, {"q": q})
        assert listed(json.loads(text)) == (0, []), q
        assert_absent(text, OUYANG)
        assert listed(await search(officer, q=q)) == (1, [OUYANG.id]), q
    # A phone number is refused up front: marketing never sees phones revealed.
    for q in (OUYANG.phone, OUYANG.national, "138 1234 5678"):
        text = await raw(marketing, SEARCH, {"q": q})
        body = json.loads(text)
        assert body["data"] is None and codes(body) == ["FORBIDDEN_FILTER"], q
        assert body["errors"][0]["extensions"]["field"] == "search"
        assert_absent(text, OUYANG)
        assert listed(await search(officer, q=q)) == (1, [OUYANG.id]), q
    # An id is not personal: row access is enough.
    assert listed(await search(marketing, q=OUYANG.id)) == (1, [OUYANG.id])


async def test_denied_customers_are_neither_listed_nor_counted(
    book: GraphStore, marketing: Api, officer: Api
) -> None:
    assert listed(await search(marketing, q=SIMA.id)) == (0, [])
    assert listed(await search(officer, q=SIMA.id)) == (1, [SIMA.id])
    assert listed(await search(marketing)) == (2, [OUYANG.id, ZHUGE.id])
    assert listed(await search(officer)) == (4, [p.id for p in PEOPLE])


async def test_ordering_by_a_masked_field_is_refused(
    book: GraphStore, marketing: Api, officer: Api, as_role: Callable[..., Api]
) -> None:
    body = await search(marketing, order="NAME")
    assert body["data"] is None and codes(body) == ["FORBIDDEN_FILTER"]
    assert body["errors"][0]["extensions"]["field"] == "orderBy"
    agent = as_role("service_agent", "service", "sa1")
    body = await search(agent, order="TOTAL_ASSETS")
    assert body["data"] is None and codes(body) == ["FORBIDDEN_FILTER"]
    # Ordering by a field the caller sees revealed works.
    body = await search(officer, order="TOTAL_ASSETS")
    assets = [float(e["node"]["totalAssets"]) for e in body["data"]["customers"]["edges"]]
    assert len(assets) == 4 and assets == sorted(assets)
    assert listed(await search(agent, order="CREATED_AT"))[0] == 4


async def test_segment_filter_respects_row_access_and_amount_masks(
    book: GraphStore, marketing: Api, officer: Api, as_role: Callable[..., Api]
) -> None:
    # SHANGGUAN is HIGH too, but marketing may not see her: not listed, not counted.
    assert listed(await search(officer, segment="HIGH")) == (3, [OUYANG.id, SIMA.id, SHANGGUAN.id])
    assert listed(await search(marketing, segment="HIGH")) == (1, [OUYANG.id])
    # A role without customer access is refused, filtered or not (before any graph read).
    brand = as_role("brand_analyst", "marketing", "ba1")
    for body in (await search(brand, segment="HIGH"), await search(brand)):
        assert body["data"] is None and codes(body) == ["FORBIDDEN"]


# A role that may list every customer but sees no amounts or birth dates: set in the data
# dir's policy data, the way a privacy officer changes who sees what.
TELLER_MASKS = {"NAME": "reveal", "PHONE": "partial", "NATIONAL_ID": "redact", "EMAIL": "redact",
                "ADDRESS": "redact", "BIRTH_DATE": "redact", "AMOUNT": "redact",
                "SOCIAL_HANDLE": "redact"}  # fmt: skip


@pytest.fixture
async def teller(book: GraphStore, data_dir: Path, make_token: Callable[..., str]) -> Api:
    data = json.loads((PACKAGED_DIR / "data.json").read_text())
    tables = data["c360"]["tables"]
    tables["mask_profiles"]["teller"] = TELLER_MASKS
    tables["resources"]["Customer"]["teller"] = {
        "service": {"actions": ["read"], "scope": "any", "masks": "teller"}
    }
    (data_dir / "policies").mkdir()
    (data_dir / "policies" / "data.json").write_text(json.dumps(data))
    async with serve(book, Settings(data_dir=data_dir)) as c:
        yield Api(c, make_token(["teller"], sub="t1", purpose="service", purposes=None))


async def test_segment_filter_needs_amounts(teller: Api) -> None:
    assert listed(await search(teller)) == (4, [p.id for p in PEOPLE])
    for segment in ("HIGH", "MASS"):
        body = await search(teller, segment=segment)
        assert body["data"] is None and codes(body) == ["FORBIDDEN_FILTER"]
        assert body["errors"][0]["extensions"]["field"] == "segment"


DERIVED = """query D($id: ID!) { customer(id: $id) {
  totalAssets segment ageBand daysToNextBirthday churnRisk { score reasons } maskedFields
} }"""


async def test_derived_fields_follow_their_source_kind(
    book: GraphStore, marketing: Api, officer: Api, teller: Api
) -> None:
    full = (await officer.gql(DERIVED, {"id": OUYANG.id}))["data"]["customer"]
    assert full["segment"] == "HIGH" and full["ageBand"] and full["daysToNextBirthday"] is not None
    assert full["churnRisk"]["reasons"] is not None
    # AMOUNT band, BIRTH_DATE year: segment and age band show; exact figures do not.
    m = (await marketing.gql(DERIVED, {"id": OUYANG.id}))["data"]["customer"]
    assert m["segment"] == "HIGH" and m["ageBand"] == full["ageBand"]
    assert m["daysToNextBirthday"] is None and m["churnRisk"]["reasons"] is None
    assert m["totalAssets"] != full["totalAssets"]
    assert {"daysToNextBirthday", "totalAssets"} <= set(m["maskedFields"])
    assert "segment" not in m["maskedFields"]
    # AMOUNT and BIRTH_DATE redacted: nothing derived from them either.
    t = (await teller.gql(DERIVED, {"id": OUYANG.id}))["data"]["customer"]
    assert (t["totalAssets"], t["segment"], t["ageBand"], t["daysToNextBirthday"]) == (None,) * 4
    assert t["churnRisk"]["reasons"] is None
    assert {"segment", "ageBand", "daysToNextBirthday", "totalAssets"} <= set(t["maskedFields"])


# --- attacker: errors and aggregates ------------------------------------------------------

UPSERT = "mutation U($input: CustomerInput!) { upsertCustomer(input: $input) { id name } }"


async def test_errors_never_echo_personal_values(
    book: GraphStore, marketing: Api, as_role: Callable[..., Api]
) -> None:
    agent = as_role("service_agent", "service", "sa1")
    bad_phone, bad_id = "13912345679999", "110105199001029999"
    text = await raw(agent, UPSERT, {"input": {"id": SIMA.id, "phone": bad_phone}})
    body = json.loads(text)
    assert codes(body) == ["BAD_USER_INPUT"] and body["errors"][0]["extensions"]["field"] == "phone"
    assert bad_phone not in text and SIMA.national not in text
    text = await raw(agent, UPSERT, {"input": {"id": "pv-new", "idNumber": bad_id}})
    assert codes(json.loads(text)) == ["BAD_USER_INPUT"] and bad_id not in text
    text = await raw(marketing, SEARCH, {"q": bad_phone})
    assert listed(json.loads(text)) == (0, []) and bad_phone not in text
    # A denied write names no value of the customer, stored or given.
    text = await raw(marketing, UPSERT, {"input": {"id": SIMA.id, "name": "新名字"}})
    assert codes(json.loads(text)) == ["FORBIDDEN"] and "新名字" not in text
    assert_absent(text, SIMA)


AGGREGATES = """query A($id: ID!, $hh: ID!) {
  customer(id: $id) {
    household { members { role customer { id name phone } } }
    relatedCustomers { kind customer { id name } }
    accounts { id coOwners { id name } }
  }
  household(id: $hh) { members { customer { id name } } }
}"""


async def test_aggregates_leave_out_denied_customers(
    book: GraphStore, marketing: Api, officer: Api
) -> None:
    variables = {"id": OUYANG.id, "hh": HOUSEHOLD}
    text = await raw(marketing, AGGREGATES, variables)
    body = json.loads(text)
    assert "errors" not in body, body
    c = body["data"]["customer"]
    assert [m["customer"]["id"] for m in c["household"]["members"]] == [OUYANG.id]
    assert c["relatedCustomers"] == []
    assert [a["coOwners"] for a in c["accounts"]] == [[]]
    assert [m["customer"]["id"] for m in body["data"]["household"]["members"]] == [OUYANG.id]
    assert SIMA.id not in text
    assert_absent(text, SIMA, OUYANG)
    full = (await officer.gql(AGGREGATES, variables))["data"]
    assert {m["customer"]["id"] for m in full["household"]["members"]} == {OUYANG.id, SIMA.id}
    assert [r["customer"]["id"] for r in full["customer"]["relatedCustomers"]] == [SIMA.id]


HOUSEHOLD_ONLY = "query H($hh: ID!) { household(id: $hh) { id name members { customer { id } } } }"


async def test_a_household_without_visible_members_is_denied(
    book: GraphStore, marketing: Api, officer: Api
) -> None:
    # Its name is the head's surname: a caller who sees no member learns nothing of it.
    text = await raw(marketing, HOUSEHOLD_ONLY, {"hh": HIDDEN_HOUSEHOLD})
    body = json.loads(text)
    assert body["data"]["household"] is None and codes(body) == ["FORBIDDEN"]
    assert "上官" not in text
    full = (await officer.gql(HOUSEHOLD_ONLY, {"hh": HIDDEN_HOUSEHOLD}))["data"]["household"]
    assert full["name"] == "上官家"
    # An unknown household looks the same to a caller who may not see it (no existence
    # oracle); to one who sees every customer it is simply not found.
    unknown = await marketing.gql(HOUSEHOLD_ONLY, {"hh": "pv-nope"})
    assert codes(unknown) == ["FORBIDDEN"]
    assert unknown["errors"][0]["message"] == body["errors"][0]["message"]
    assert codes(await officer.gql(HOUSEHOLD_ONLY, {"hh": "pv-nope"})) == ["NOT_FOUND"]


async def test_a_household_name_shows_only_to_callers_who_see_its_head(
    book: GraphStore, marketing: Api, officer: Api
) -> None:
    # Security finding: the name (the head's surname + 家) was masked as the first visible
    # member's name, so a member's household told the surname of a head the caller may not see.
    await upsert_households(
        book, [{"id": HIDDEN_HOUSEHOLD, "props": {}, "customerId": ZHUGE.id, "role": "CHILD"}]
    )
    query = """query H($hh: ID!, $id: ID!) {
      household(id: $hh) { id name members { customer { id } } }
      customer(id: $id) { household { id name } }
    }"""
    variables = {"hh": HIDDEN_HOUSEHOLD, "id": ZHUGE.id}
    text = await raw(marketing, query, variables)
    body = json.loads(text)
    assert "errors" not in body, body
    assert body["data"]["household"]["name"] is None
    assert [m["customer"]["id"] for m in body["data"]["household"]["members"]] == [ZHUGE.id]
    assert body["data"]["customer"]["household"] == {"id": HIDDEN_HOUSEHOLD, "name": None}
    assert "上官" not in text
    full = (await officer.gql(query, variables))["data"]
    assert full["household"]["name"] == full["customer"]["household"]["name"] == "上官家"
    # A head the caller sees still names it, masked as the head's name is.
    mine = await marketing.gql(query, {"hh": HOUSEHOLD, "id": OUYANG.id})
    assert mine["data"]["household"]["name"] == mine["data"]["customer"]["household"]["name"]
    assert mine["data"]["household"]["name"] not in (None, "欧阳家")


# --- fail closed ---------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_unreachable_policy_engine_denies_everything(
    book: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    settings = Settings(
        data_dir=data_dir, opa_url=f"http://127.0.0.1:{closed_port()}", policy_timeout_s=0.5
    )
    async with serve(book, settings) as c:
        api = Api(c, make_token(["privacy_officer"], purpose="compliance", purposes=None))
        for query, variables in (
            (ONE, {"id": OUYANG.id}),
            (SEARCH, {"q": OUYANG.name}),
            (SEARCH, {}),
        ):
            text = await raw(api, query, variables)
            body = json.loads(text)
            assert codes(body) == ["POLICY_UNAVAILABLE"], body
            assert not any((body.get("data") or {}).values())
            assert_absent(text, *PEOPLE)
        # Nor is anything written without a decision.
        agent = Api(c, make_token(["service_agent"], purpose="service", purposes=None))
        body = await agent.gql(UPSERT, {"input": {"id": OUYANG.id, "name": "新名字"}})
        assert codes(body) == ["POLICY_UNAVAILABLE"]
    # Read through the repository: the stored name is sealed at rest, the repository opens it.
    rows = await customers_by_id(book, [OUYANG.id])
    assert rows[OUYANG.id]["name"] == OUYANG.name
    records = AuditLog(data_dir / "audit", KeyRing.load(data_dir)).read()
    assert [r["outcome"] for r in records] == ["error"] * 4


async def test_unwritable_audit_log_returns_no_data(
    book: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    (data_dir / "audit").write_text("not a directory")
    async with serve(book, Settings(data_dir=data_dir)) as c:
        api = Api(c, make_token(["privacy_officer"], purpose="compliance", purposes=None))
        for query, variables in ((ONE, {"id": OUYANG.id}), (SEARCH, {})):
            text = await raw(api, query, variables)
            body = json.loads(text)
            assert body["data"] is None and codes(body) == ["AUDIT_UNAVAILABLE"], body
            assert_absent(text, *PEOPLE)


async def test_a_lost_audit_key_ring_returns_no_data(
    book: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    # Security finding: with keys/audit-keyring.json deleted the hub made a new key under the
    # same id and served personal data, writing a log whose history nobody could read.
    log = AuditLog(data_dir / "audit", KeyRing.load(data_dir))
    await log.append({"operation": "before", "subject": "s", "customers": []})
    log.close()
    (data_dir / "keys" / "audit-keyring.json").unlink()
    async with serve(book, Settings(data_dir=data_dir)) as c:
        api = Api(c, make_token(["privacy_officer"], purpose="compliance", purposes=None))
        text = await raw(api, ONE, {"id": OUYANG.id})
        body = json.loads(text)
        assert body["data"] is None and codes(body) == ["AUDIT_UNAVAILABLE"], body
        assert_absent(text, *PEOPLE)
    # A key ring that cannot be read at all says which file and what to do.
    (data_dir / "keys" / "audit-keyring.json").write_text('{"garbage": true')
    with pytest.raises(KeyRingError, match=r"audit-keyring\.json cannot be read.*backup"):
        KeyRing.load(data_dir)


async def test_a_write_the_audit_log_cannot_record_does_not_happen(
    book: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    (data_dir / "audit").write_text("not a directory")
    upsert = 'mutation { upsertCustomer(input: {id: "w-1", name: "新客户"}) { id } }'
    async with serve(book, Settings(data_dir=data_dir)) as c:
        agent = Api(c, make_token(["service_agent"], purpose="service", purposes=None))
        text = await raw(agent, upsert, {})
        body = json.loads(text)
        assert body["data"] is None and codes(body) == ["AUDIT_UNAVAILABLE"], body
        assert str(data_dir) not in text  # the OS error's path stays in the server log
    assert not await book.read("MATCH (c:Customer {id: 'w-1'}) RETURN c.id AS id")


# --- audit -----------------------------------------------------------------------------


async def test_each_customer_request_leaves_one_verifiable_record(
    book: GraphStore, data_dir: Path, client: httpx.AsyncClient, marketing: Api, officer: Api
) -> None:
    await officer.gql(ONE, {"id": SIMA.id})
    await marketing.gql(ONE, {"id": OUYANG.id})
    await marketing.gql(ONE, {"id": SIMA.id})
    await marketing.gql("{ __typename }")  # touches no customer: no record
    await client.post("/graphql", json={"query": ONE, "variables": {"id": OUYANG.id}})  # 401
    log = AuditLog(data_dir / "audit", KeyRing.load(data_dir))
    result = log.verify()
    assert (result.ok, result.count) == (True, 3), result
    records = log.read()
    assert [r["outcome"] for r in records] == ["ok", "ok", "denied"]
    seen = records[1]
    assert seen["subject"] == "mk1" and seen["roles"] == ["marketing_analyst"]
    assert seen["purpose"] == "marketing" and seen["operation"] == "One"
    assert seen["query_sha256"] == hashlib.sha256(ONE.encode()).hexdigest()
    assert seen["customer_ids"] == [OUYANG.id]
    fields = seen["fields"][OUYANG.id]
    assert {"name", "phone", "idNumber", "email"} <= set(fields["masked"])
    assert "id" not in fields["masked"] and not {"name", "phone"} & set(fields["revealed"])
    assert seen["decision_ids"] and all(seen["decision_ids"])
    assert seen["policy_revision"] == load_policy_set(data_dir).revision
    assert set(records[0]["fields"][SIMA.id]["revealed"]) >= {"name", "phone", "idNumber"}
    denied = records[2]
    assert denied["customer_ids"] == [SIMA.id] and denied["subject"] == "mk1"
    # Records hold field names, never values.
    assert_absent(json.dumps(records, ensure_ascii=False), *PEOPLE)


def _flip_ct(lines: list[bytes], index: int) -> list[bytes]:
    entry = json.loads(lines[index])
    ct = bytearray(base64.b64decode(entry["ct"]))
    ct[0] ^= 1
    entry["ct"] = base64.b64encode(bytes(ct)).decode()
    return [*lines[:index], json.dumps(entry, separators=(",", ":")).encode(), *lines[index + 1 :]]


@pytest.mark.parametrize(
    ("tamper", "seq"),
    [
        (lambda lines: _flip_ct(lines, 1), 2),
        (lambda lines: lines[:1] + lines[2:], 2),
        (lambda lines: [lines[0], lines[2], lines[1]], 2),
    ],
    ids=["changed-byte", "deleted-line", "swapped-lines"],
)
async def test_cli_verify_names_the_first_broken_record(
    book: GraphStore,
    data_dir: Path,
    marketing: Api,
    tamper: Callable[[list[bytes]], list[bytes]],
    seq: int,
) -> None:
    for person in (OUYANG, ZHUGE, OUYANG):
        await marketing.gql(ONE, {"id": person.id})
    env = {"C360_DATA_DIR": str(data_dir)}
    ok = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert ok.exit_code == 0 and "OK 3 records" in ok.output, ok.output
    path = data_dir / "audit" / "audit.log"
    lines = path.read_bytes().split(b"\n")[:-1]
    path.write_bytes(b"\n".join(tamper(lines)) + b"\n")
    broken = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert broken.exit_code == 1, broken.output
    assert f"seq {seq}" in broken.output
