"""Search over sealed personal fields: exact phone, ID number and e-mail through the keyed
blind indexes, name through the keyed tokens (then decrypted and checked), the same answers
as over plain values; gating unchanged (FORBIDDEN_FILTER without the kind revealed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graph.fieldcipher import cipher_of
from graph.repositories.customers import upsert_customers
from graph.store import GraphStore
from tests.api.conftest import Api
from tests.api.privacy_seed import OUYANG, PEOPLE, SHANGGUAN, seed_privacy_book

SEARCH = """query($q: String) { customers(search: $q, first: 50) {
  totalCount edges { node { id name phone } } } }"""


def listed(body: dict[str, Any]) -> list[str]:
    assert "errors" not in body, body
    return [e["node"]["id"] for e in body["data"]["customers"]["edges"]]


async def test_exact_and_name_search_over_sealed_values(
    client: Any, api: Api, store: GraphStore
) -> None:
    await seed_privacy_book(store)  # the app is open: the store seals what it writes
    raw = await store.read("MATCH (c:Customer {id: $id}) RETURN c.phone AS p", {"id": OUYANG.id})
    assert raw[0]["p"].startswith("enc1:") and cipher_of(store).blind("phone", "x")
    assert listed(await api.gql(SEARCH, {"q": OUYANG.national})) == [OUYANG.id]
    assert listed(await api.gql(SEARCH, {"q": OUYANG.id_number})) == [OUYANG.id]
    assert listed(await api.gql(SEARCH, {"q": OUYANG.email.upper()})) == [OUYANG.id]
    assert listed(await api.gql(SEARCH, {"q": SHANGGUAN.name[:2]})) == [SHANGGUAN.id]
    assert listed(await api.gql(SEARCH, {"q": SHANGGUAN.name[-1]})) == [SHANGGUAN.id]
    assert listed(await api.gql(SEARCH, {"q": "上晴"})) == []  # tokens match, the text not
    assert listed(await api.gql(SEARCH, {"q": "13800000000"})) == []
    # The stored ciphertext is not searchable as text.
    assert listed(await api.gql(SEARCH, {"q": raw[0]["p"][5:12]})) == []
    everyone = listed(await api.gql(SEARCH, {}))
    assert everyone == sorted(p.id for p in PEOPLE)


async def test_exact_search_needs_the_kind_revealed(
    client: Any, as_role: Callable[..., Api], store: GraphStore
) -> None:
    await seed_privacy_book(store)
    agent = as_role("service_agent", "service", "sa1")  # ID numbers partial for agents
    # The old 15-digit form is an ID number search too (session 22): gated the same way.
    for q in (OUYANG.id_number, OUYANG.national, "110105850615001"):
        body = await agent.gql(SEARCH, {"q": q})
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN_FILTER"], q


async def test_an_id_number_is_searched_in_its_old_15_digit_form_too(
    client: Any, api: Api, store: GraphStore
) -> None:
    # Session 22: "110105850312123" (first-generation: area code, YYMMDD, sequence) is the
    # same person's number as "110105198503121234"; a search by either finds them, through
    # the one rule the hash token uses (shared/validators.cn_id_token).
    await seed_privacy_book(store)
    await upsert_customers(
        store,
        [
            {
                "id": "pv-old",
                "props": {"name": "钱老", "idNumber": "110105198503121234", "gender": "M"},
                "advisorId": OUYANG.advisor,
            }
        ],
    )
    for q in ("110105850312123", "110105-850312-123", "110105198503121234", "11010519850312123４"):
        assert listed(await api.gql(SEARCH, {"q": q})) == ["pv-old"], q
    # Fifteen digits of no date are no ID number: no one found, no error.
    assert listed(await api.gql(SEARCH, {"q": "110105850230123"})) == []


async def test_a_15_digit_id_number_is_read_as_one_before_a_phone_number(
    client: Any, api: Api, as_role: Callable[..., Api], store: GraphStore
) -> None:
    # Session 22 QA: "110105800101123" (area 110105, born 1980-01-01, sequence 123) is a
    # first-generation ID number that also parses as the CN number +865800101123. It is
    # searched as an ID number: an agent is refused naming the ID number (not the phone), a
    # privacy officer finds the holder and not a customer whose phone the digits would spell.
    await seed_privacy_book(store)
    await upsert_customers(
        store,
        [
            {
                "id": "pv-1980",
                "props": {"name": "钱一", "idNumber": "110105198001011238", "gender": "M"},
                "advisorId": OUYANG.advisor,
            },
            {
                "id": "pv-phone",
                "props": {"name": "钱二", "phone": "+865800101123", "gender": "F"},
                "advisorId": OUYANG.advisor,
            },
        ],
    )
    agent = as_role("service_agent", "service", "sa1")  # ID numbers and phones partial
    body = await agent.gql(SEARCH, {"q": "110105800101123"})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN_FILTER"]
    assert "ID number needs NATIONAL_ID revealed" in body["errors"][0]["message"], body
    officer = as_role("privacy_officer", "compliance", "po1")
    assert listed(await officer.gql(SEARCH, {"q": "110105800101123"})) == ["pv-1980"]
    # The same digits as a phone number still find the phone's holder.
    assert listed(await officer.gql(SEARCH, {"q": "+865800101123"})) == ["pv-phone"]
