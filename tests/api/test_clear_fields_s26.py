"""upsertCustomer clears a field given as null or blank text (QA, session 26: an e-mail the CRM
removed stayed forever; ``email: null`` and ``email: ""`` both kept it). Left out, a field
keeps its value; advisorId and the consents are not cleared by null."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from strawberry import UNSET
from strawberry.types.base import get_object_definition
from strawberry.utils.str_converters import to_camel_case

from graph.repositories.customers import CLEARABLE, CLEARABLE_PROPS
from graph.store import GraphStore
from privacy.audit import AuditLog
from privacy.keyring import KeyRing
from schema.inputs import CustomerInput
from tests.api.conftest import Api, codes
from tests.api.seed import seed_family

UPSERT = """mutation($input: CustomerInput!) {
  upsertCustomer(input: $input) { id name email phone address occupation consents { marketing } }
}"""
READ = """query($id: ID!) { customer(id: $id) { name email phone address occupation
  birthDate idNumber advisor { id } consents { marketing } } }"""
SEARCH = "query($q: String) { customers(search: $q) { totalCount } }"
EMAIL, PHONE = "ning.wang@example.cn", "+8613812345678"


async def _stored(store: GraphStore, customer_id: str) -> dict[str, Any]:
    rows = await store.read("MATCH (c:Customer {id: $id}) RETURN c {.*} AS c", {"id": customer_id})
    return dict(rows[0]["c"])


async def _write(api: Api, data: dict[str, Any]) -> dict[str, Any]:
    body = await api.gql(UPSERT, {"input": data})
    assert "errors" not in body, body
    return dict(body["data"]["upsertCustomer"])


async def test_null_or_blank_clears_a_field_and_its_search_index(
    store: GraphStore, data_dir: Path, agent: Api, officer: Api
) -> None:
    full = {"id": "cl-1", "name": "王宁", "email": EMAIL, "phone": PHONE}
    await _write(agent, {**full, "address": "北京市", "occupation": "teacher"})
    before = await _stored(store, "cl-1")
    assert {"emailBidx", "phoneBidx", "email", "phone"} <= before.keys(), before
    assert (await officer.gql(SEARCH, {"q": EMAIL}))["data"]["customers"]["totalCount"] == 1

    answer = await _write(agent, {"id": "cl-1", "email": None, "phone": "", "occupation": "  "})
    assert (answer["email"], answer["phone"], answer["occupation"]) == (None, None, None)
    read = (await officer.gql(READ, {"id": "cl-1"}))["data"]["customer"]
    # Cleared, and only those: the name and the address (left out) stay.
    assert (read["email"], read["phone"], read["occupation"]) == (None, None, None), read
    assert (read["name"], read["address"]) == ("王宁", "北京市"), read
    # The property and its blind index are gone from the graph: no search finds the old value.
    after = await _stored(store, "cl-1")
    assert not {"email", "emailBidx", "phone", "phoneBidx", "occupation"} & after.keys(), after
    for old in (EMAIL, PHONE):
        assert (await officer.gql(SEARCH, {"q": old}))["data"]["customers"]["totalCount"] == 0
    # ...and what was not cleared keeps its own: the name's search tokens (one FalkorDB update
    # removing several props dropped the wrong ones, the name's tokens among them).
    assert {"name", "nameTok", "address"} <= after.keys(), after
    assert (await officer.gql(SEARCH, {"q": "王宁"}))["data"]["customers"]["totalCount"] == 1
    # Audited like any write: the intent names the cleared fields, never a value.
    log = AuditLog(data_dir / "audit", KeyRing.load(data_dir))
    intents = [r["details"] for r in log.read() if r["outcome"] == "intent"]
    cleared = {"write": "Customer:cl-1", "fields": ["email", "occupation", "phone"]}
    assert cleared in intents, intents


async def test_advisor_and_consents_keep_their_values_on_null(
    store: GraphStore, agent: Api, officer: Api
) -> None:
    await seed_family(store, "k")
    await _write(agent, {"id": "k-1", "consentMarketing": True, "email": EMAIL})
    await _write(agent, {"id": "k-1", "advisorId": None, "consentMarketing": None, "name": None})
    read = (await officer.gql(READ, {"id": "k-1"}))["data"]["customer"]
    assert read["advisor"] == {"id": "k-adv"}, read
    assert read["consents"] == {"marketing": True}, read
    assert (read["name"], read["email"]) == (None, EMAIL), read


async def test_a_birth_date_the_id_number_fixes_is_cleared_with_it(
    store: GraphStore, agent: Api, officer: Api
) -> None:
    await _write(agent, {"id": "cl-2", "idNumber": "110105198506150022"})
    body = await agent.gql(UPSERT, {"input": {"id": "cl-2", "birthDate": None}})
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert "clear idNumber too" in body["errors"][0]["message"], body
    same = await agent.gql(
        UPSERT, {"input": {"id": "cl-2", "birthDate": None, "idNumber": "110105198506150022"}}
    )
    assert codes(same) == ["BAD_USER_INPUT"], same
    assert "leave birthDate out" in same["errors"][0]["message"], same
    read = (await officer.gql(READ, {"id": "cl-2"}))["data"]["customer"]
    assert (read["birthDate"], read["idNumber"]) == ("1985-06-15", "110105198506150022"), read
    await _write(agent, {"id": "cl-2", "birthDate": None, "idNumber": None})
    read = (await officer.gql(READ, {"id": "cl-2"}))["data"]["customer"]
    assert (read["birthDate"], read["idNumber"]) == (None, None), read


async def test_every_clearable_field_at_once_leaves_the_rest(
    store: GraphStore, agent: Api, officer: Api
) -> None:
    """All of them in one write (any two removed by one FalkorDB update could drop the wrong
    props): what is left is the id, the consents and the advisor."""
    await seed_family(store, "z")
    await _write(agent, {"id": "z-1", "email": EMAIL, "consentMarketing": True})
    await _write(agent, {"id": "z-1", **dict.fromkeys(CLEARABLE)})
    left = await _stored(store, "z-1")
    assert not set(left) & set(CLEARABLE_PROPS), left
    assert {"idKey", "consentMarketing", "consentDataSharing", "consentUpdatedAt"} <= set(left)
    read = (await officer.gql(READ, {"id": "z-1"}))["data"]["customer"]
    assert read["advisor"] == {"id": "z-adv"}, read


def test_the_input_clears_what_the_write_clears() -> None:
    """The fields the API takes null for (UNSET when left out) are those the write clears."""
    fields = get_object_definition(CustomerInput, strict=True).fields
    nullable = {
        f.graphql_name or to_camel_case(f.python_name) for f in fields if f.default is UNSET
    }
    assert nullable == set(CLEARABLE)
