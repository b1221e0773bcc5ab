"""A transaction's booking text (``Transaction.description``) quoting a phone number, an ID
number, a card number, an e-mail address and the customer's own name: masked exactly as the
same text in an interaction's summary (one QuotingField), on the field's ordinary path, the
360 view's prefetch and compiled plans, and a list's page; and after the customer's erasure
the booking texts of every account they held (a joint one too) are gone, as is the name of
a household they headed. Real HTTP (ASGI), real embedded FalkorDB, real Rego engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from graph.repositories.accounts import upsert_holdings, upsert_transactions
from graph.repositories.households import upsert_households
from graph.repositories.interactions import upsert_interactions
from graph.store import GraphStore
from privacy.erasure import erase_customer
from privacy.erasure_ledger import ErasureLedger
from resolvers.analytics import iso
from tests.api.conftest import Api
from tests.api.privacy_seed import (
    HIDDEN_HOUSEHOLD,
    HOUSEHOLD,
    OUYANG,
    SHANGGUAN,
    SIMA,
    ZHUGE,
    seed_privacy_book,
)

# The QA probe's text, about OUYANG (his name, a counterpart's phone, ID, card, e-mail).
TEXT = ("转账给欧阳明轩 13812345678 身份证110101199003077777 卡号6222021234567890128 "
        "邮箱chen.ml@example.com")  # fmt: skip
SECRETS = ("欧阳明轩", "13812345678", "110101199003077777", "6222021234567890128",
           "chen.ml@example.com")  # fmt: skip
ACCOUNT = f"{OUYANG.id}-acc"  # joint with SIMA (privacy_seed)
PAGES = """transactions(first: 10) { edges { node { id amount description } } }
  interactions(first: 10) { edges { node { summary } } }"""
ONE = "query($id: ID!) { customer(id: $id) { PAGES } }".replace("PAGES", PAGES)
# Enough of the 360 view for its prefetch (resolvers/prefetch360.py), every object plain
# but the pages' masked leaves: the compiled plans' path (schema/extensions/field_plans.py).
VIEW = """query($id: ID!) { customer(id: $id) { name accounts { id balance }
  household { id name } members: household { id } advisor { id } PAGES } }""".replace(
    "PAGES", PAGES
)
LISTED = "{ customers(first: 20) { edges { node { id PAGES } } } }".replace("PAGES", PAGES)


async def seed(store: GraphStore) -> None:
    """The privacy book, TEXT as a booking text on OUYANG's joint account and as a note."""
    await seed_privacy_book(store)
    made = iso(datetime.now(UTC) - timedelta(days=3))
    await upsert_transactions(
        store,
        [{"id": "pv-tx", "accountId": ACCOUNT,
          "props": {"amount": 100.0, "currency": "CNY", "time": made, "channel": "ONLINE",
                    "kind": "TRANSFER_OUT", "description": TEXT}},
         {"id": "pv-tx-other", "accountId": f"{ZHUGE.id}-acc",
          "props": {"amount": 5.0, "currency": "CNY", "time": made, "channel": "POS",
                    "kind": "PAYMENT", "description": "诸葛云飞超市购物"}}],
    )  # fmt: skip
    await upsert_interactions(
        store,
        [{"id": "pv-note", "customerId": OUYANG.id,
          "props": {"channel": "PHONE", "kind": "INQUIRY", "time": made, "summary": TEXT}}],
    )  # fmt: skip


def pages(customer: dict[str, Any]) -> tuple[str | None, str | None]:
    """(the booking text, the note) as one customer's answer shows them."""
    (tx,) = customer["transactions"]["edges"]
    (note,) = customer["interactions"]["edges"]
    return tx["node"]["description"], note["node"]["summary"]


async def shown(api: Api) -> list[tuple[str | None, str | None]]:
    """(booking text, note) of OUYANG as ``api`` reads them alone, in the 360 view and in
    the customer list."""
    out = []
    for query in (ONE, VIEW):
        body = await api.gql(query, {"id": OUYANG.id})
        assert not body.get("errors"), body
        out.append(pages(body["data"]["customer"]))
    body = await api.gql(LISTED)
    assert not body.get("errors"), body
    edges = body["data"]["customers"]["edges"]
    (listed,) = [e["node"] for e in edges if e["node"]["id"] == OUYANG.id]
    out.append(pages(listed))
    return out


async def test_a_booking_text_is_masked_as_the_same_note_is(
    sealed_store: GraphStore, officer: Api, agent: Api, marketing: Api
) -> None:
    await seed(sealed_store)
    assert await shown(officer) == [(TEXT, TEXT)] * 3
    marketed = await shown(marketing)
    # Marketing masks: the name partial, phone partial, ID numbers and cards redacted, e-mail
    # hashed; the booking text exactly as the note.
    assert all(text == note for text, note in marketed), marketed
    text = marketed[0][0]
    assert text is not None and text.startswith("转账给欧*** 138****5678 身份证*** 卡号*** 邮箱h:")
    for secret in SECRETS:
        assert all(secret not in str(pair) for pair in marketed), secret
    served = await shown(agent)
    assert all(text == note for text, note in served), served
    text = served[0][0]
    assert text is not None and "6222021234567890128" not in text and "0128" in text


ERASED = """query($id: ID!) { customer(id: $id) {
  transactions(first: 10) { edges { node { id amount description } } } } }"""
HOUSEHOLD_NAME = "query($id: ID!) { household(id: $id) { name } }"


async def test_erasure_clears_the_booking_texts_of_every_account_they_held(
    sealed_store: GraphStore, officer: Api, data_dir: Path
) -> None:
    await seed(sealed_store)
    assert await erase_customer(sealed_store, OUYANG.id, ErasureLedger(data_dir), "er-t")
    # The joint account stays with SIMA, its transactions without their booking texts
    # (privacy first: the text may name the erased co-owner); other accounts keep theirs.
    body = await officer.gql(ERASED, {"id": SIMA.id})
    assert not body.get("errors"), body
    edges = body["data"]["customer"]["transactions"]["edges"]
    assert edges == [{"node": {"id": "pv-tx", "amount": "100.00", "description": None}}]
    rows = await sealed_store.read(
        "MATCH (t:Transaction) RETURN t.id AS id, t.description AS d ORDER BY id"
    )
    assert rows == [{"id": "pv-tx", "d": None}, {"id": "pv-tx-other", "d": "诸葛云飞超市购物"}]
    # OUYANG headed the household SIMA stays in: its name (his surname + 家) goes with him.
    body = await officer.gql(HOUSEHOLD_NAME, {"id": HOUSEHOLD})
    assert body["data"]["household"] == {"name": None}, body
    (kept,) = await sealed_store.read(
        "MATCH (h:Household {id: $id}) RETURN h.name AS name, h.address AS address",
        {"id": HOUSEHOLD},
    )
    assert kept == {"name": None, "address": None}


async def test_a_household_named_after_an_erased_head_shows_no_name(
    sealed_store: GraphStore, marketing: Api, officer: Api, data_dir: Path
) -> None:
    """QA session 23: the head hidden from marketing, the household's name was null; once the
    head was erased the next member governed it and their decision showed the erased head's
    surname ("上*")."""
    await seed_privacy_book(sealed_store)
    await upsert_households(
        sealed_store, [{"id": HIDDEN_HOUSEHOLD, "customerId": ZHUGE.id, "role": "SPOUSE"}]
    )
    body = await marketing.gql(HOUSEHOLD_NAME, {"id": HIDDEN_HOUSEHOLD})
    assert body["data"]["household"] == {"name": None}, body
    assert (await officer.gql(HOUSEHOLD_NAME, {"id": HIDDEN_HOUSEHOLD}))["data"]["household"] == {
        "name": "上官家"
    }
    assert await erase_customer(sealed_store, SHANGGUAN.id, ErasureLedger(data_dir), "er-h")
    for api in (marketing, officer):
        body = await api.gql(HOUSEHOLD_NAME, {"id": HIDDEN_HOUSEHOLD})
        assert not body.get("errors"), body
        assert body["data"]["household"] == {"name": None}, body
    # A household whose head stays keeps its name when another member is erased.
    assert await erase_customer(sealed_store, SIMA.id, ErasureLedger(data_dir), "er-s")
    body = await officer.gql(HOUSEHOLD_NAME, {"id": HOUSEHOLD})
    assert body["data"]["household"] == {"name": "欧阳家"}, body


JOINT_TX = "transactions(first: 10) { edges { node { id description } } }"
JOINT_PATHS = (
    "query($id: ID!) { customer(id: $id) { JOINT_TX } }",
    # The 360 view (prefetched: co-owners decided with the root, no extra round trip).
    "query($id: ID!) { customer(id: $id) { name accounts { id } household { id } JOINT_TX } }",
    "{ customers(first: 20) { edges { node { id JOINT_TX } } } }",
)


async def joint_texts(api: Api, customer_id: str) -> list[dict[str, str | None]]:
    """{transaction id: booking text} of ``customer_id`` as ``api`` reads them alone, in the
    360 view and in the customer list."""
    out = []
    for query in JOINT_PATHS:
        body = await api.gql(query.replace("JOINT_TX", JOINT_TX), {"id": customer_id})
        assert not body.get("errors"), body
        data = body["data"]
        if "customer" in data:
            customer = data["customer"]
        else:
            edges = data["customers"]["edges"]
            (customer,) = [e["node"] for e in edges if e["node"]["id"] == customer_id]
        edges = customer["transactions"]["edges"]
        out.append({e["node"]["id"]: e["node"]["description"] for e in edges})
    return out


async def test_a_booking_text_masks_the_co_owners_names(
    sealed_store: GraphStore, marketing: Api, officer: Api
) -> None:
    """Review finding: a joint account's booking text showed a co-owner's name whole to a
    caller who sees that name partial (Account.coOwners{name}) or not at all."""
    await seed_privacy_book(sealed_store)
    # ZHUGE's account held jointly with OUYANG: both consent, marketing sees both partial.
    await upsert_holdings(
        sealed_store, [{"customerId": OUYANG.id, "accountId": f"{ZHUGE.id}-acc", "role": "JOINT"}]
    )
    made = iso(datetime.now(UTC) - timedelta(days=3))
    texts = {
        "co-tx-1": (f"{ZHUGE.id}-acc", "转账给欧阳明轩 诸葛云飞本人"),
        "co-tx-2": (f"{ZHUGE.id}-acc", "超市购物 13812345678"),
        # OUYANG's account, joint with SIMA, whom marketing may not see (no consent).
        "co-tx-3": (f"{OUYANG.id}-acc", "司马静怡代付房租"),
    }
    await upsert_transactions(
        sealed_store,
        [{"id": tid, "accountId": account,
          "props": {"amount": 5.0, "currency": "CNY", "time": made, "channel": "POS",
                    "kind": "PAYMENT", "description": text}}
         for tid, (account, text) in texts.items()],
    )  # fmt: skip
    whole = {tid: text for tid, (_, text) in texts.items()}
    on_zhuge = {t: whole[t] for t in ("co-tx-1", "co-tx-2")}
    assert await joint_texts(officer, ZHUGE.id) == [on_zhuge] * 3
    assert await joint_texts(officer, OUYANG.id) == [whole] * 3
    # Read through ZHUGE: OUYANG's name (the co-owner's) partial as Account.coOwners shows
    # it, ZHUGE's own partial as before; a text naming no one only has its number masked.
    zhuge = {"co-tx-1": "转账给欧*** 诸***本人", "co-tx-2": "超市购物 138****5678"}
    assert await joint_texts(marketing, ZHUGE.id) == [zhuge] * 3
    # Read through OUYANG: SIMA, hidden from marketing, is redacted; his own name partial.
    assert await joint_texts(marketing, OUYANG.id) == [{**zhuge, "co-tx-3": "***代付房租"}] * 3
    body = await marketing.gql(
        "query($id: ID!) { customer(id: $id) { accounts { id coOwners { name } } } }",
        {"id": ZHUGE.id},
    )
    assert body["data"]["customer"]["accounts"] == [
        {"id": f"{ZHUGE.id}-acc", "coOwners": [{"name": "欧***"}]}
    ], body
