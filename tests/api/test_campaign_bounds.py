"""Session 22's campaign gaps: an audience read every candidate with no ceiling (customer
searches stop at C360_SEARCH_MAX_CANDIDATES), and a campaign's ``from``/``to`` were stored
cut to the second (from 10:00:00.750 counted an account opened at 10:00:00.200), while
rounding ``from`` up had refused the contacts logged in the first second of a campaign
created "from now". On the demo book in the real graph with the real Rego engine."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import resolvers.context
from graph.repositories.accounts import upsert_accounts
from graph.repositories.interactions import upsert_interactions
from graph.store import GraphStore
from hub.demo import seed_demo
from hub.settings import Settings
from resolvers.analytics import iso
from tests.api.conftest import Api, serve
from tests.api.test_campaigns_qa import CONTACT, CREATE, groups, spec

CAP = 7
AUDIENCE = {"notHolds": "MMF-ZZB"}
CONTACTS = """
query Contacts($id: ID!, $group: CampaignGroup) { campaign(id: $id) {
  contacts(group: $group, first: 5) { totalCount edges { node { id } } } } }
"""
CONVERTED = """
query Figures($id: ID!) { campaign(id: $id) { from to contacted converted
  controlConversionRate } }
"""


def marketer(client: Any, make_token: Callable[..., str]) -> Api:
    token = make_token(["marketing_analyst"], sub="mk1", purpose="marketing", purposes=None)
    return Api(client, token)


def settings_with(data_dir: Path, ceiling: int) -> Settings:
    return Settings(
        data_dir=data_dir,
        introspection=False,
        search_candidate_cap=CAP,
        search_max_candidates=ceiling,
    )


async def candidates(store: GraphStore) -> int:
    """The customers the audience's filter reads (all of them are decided: consenting or not),
    counted in the graph: those without an open MMF-ZZB account."""
    (row,) = await store.read(
        "MATCH (c:Customer) WITH c, [(c)-[:OWNS]->(a:Account) WHERE a.status IS NULL "
        "OR toUpper(a.status) <> 'CLOSED' | a.product] AS held "
        "WHERE NOT 'MMF-ZZB' IN held RETURN count(c) AS n"
    )
    return int(row["n"])


async def test_an_audience_over_the_ceiling_is_refused_before_it_is_read_or_written(
    store: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    await seed_demo(store, customers=200, seed=42, progress=False)
    read = await candidates(store)
    assert read > 10 * CAP
    now = datetime.now(UTC)
    window = (now, now + timedelta(days=30))

    async def create(ceiling: int, **audience: Any) -> tuple[dict[str, Any], int]:
        async with serve(store, settings_with(data_dir, ceiling)) as client:
            before = store.stats.round_trips
            body = await marketer(client, make_token).gql(
                CREATE, {"input": spec(*window, **audience)}
            )
            return body, store.stats.round_trips - before

    spent: dict[int, int] = {}
    for ceiling in (10, read - 1):
        body, trips = await create(ceiling, **AUDIENCE)
        (error,) = body["errors"]
        assert error["extensions"] == {"code": "SEARCH_TOO_BROAD", "maxCandidates": ceiling}
        assert f"the audience would read more than {ceiling} customers" in error["message"]
        assert "narrow the audience" in error["message"], error
        assert body.get("data") is None, body
        # Nothing half-made: no campaign, no member, no contact.
        assert not await store.read("MATCH (k:Campaign) RETURN k.id")
        assert not await store.read("MATCH ()-[t:TARGETS]->() RETURN t LIMIT 1")
        spent[ceiling] = trips
    # Refused once ceiling + 1 are read, not after reading every batch: the batches to 11
    # (two of 7) cost what the batches to the book's last candidate less the ones between.
    batches = math.ceil(read / CAP)
    assert spent[10] == spent[read - 1] - (batches - math.ceil(11 / CAP)), spent
    made, _ = await create(read, **AUDIENCE)  # the book's candidates exactly: made
    assert not made.get("errors"), made
    assert made["data"]["createCampaign"]["audienceCount"] > 0


async def test_a_contact_list_over_the_ceiling_is_refused(
    store: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    """A campaign made under a larger ceiling (or before audiences were bounded) is not read
    whole: its contact list and its contacts are refused as its audience would be."""
    await seed_demo(store, customers=200, seed=42, progress=False)
    now = datetime.now(UTC)
    async with serve(store, settings_with(data_dir, 200_000)) as client:
        made = await marketer(client, make_token).gql(
            CREATE, {"input": spec(now - timedelta(days=1), now + timedelta(days=30), **AUDIENCE)}
        )
    assert not made.get("errors"), made
    campaign = made["data"]["createCampaign"]["id"]
    members = await groups(store, campaign)
    treatment, control = len(members["TREATMENT"]), len(members["CONTROL"])
    assert treatment > control > 0
    async with serve(store, settings_with(data_dir, control)) as client:
        api = marketer(client, make_token)
        for group in (None, "TREATMENT"):
            body = await api.gql(CONTACTS, {"id": campaign, "group": group})
            (error,) = body["errors"]
            assert error["extensions"] == {"code": "SEARCH_TOO_BROAD", "maxCandidates": control}
            assert "narrower audiences" in error["message"], error
        logged = await api.gql(CONTACT, {"id": campaign})
        assert [e["extensions"]["code"] for e in logged["errors"]] == ["SEARCH_TOO_BROAD"]
        assert not await store.read(
            "MATCH (i:Interaction) WHERE i.campaignId = $id RETURN i.id", {"id": campaign}
        )
        # A group within the ceiling is read.
        body = await api.gql(CONTACTS, {"id": campaign, "group": "CONTROL"})
        assert not body.get("errors"), body
        assert body["data"]["campaign"]["contacts"]["totalCount"] > 0


class Clock(datetime):
    """``datetime`` whose ``now`` is :attr:`at`: the instant a request takes as its ``now``."""

    at: datetime = datetime.now(UTC)

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return cls.at if tz is None else cls.at.astimezone(tz)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[Clock]]:
    """The hub's request clock (resolvers.context reads datetime.now) set by the test."""
    monkeypatch.setattr(resolvers.context, "datetime", Clock)
    yield Clock


def opened(customer: str, at: datetime, n: int) -> dict[str, Any]:
    return {"id": f"CONV-{customer}-{n}", "customerId": customer,
            "props": {"type": "WEALTH", "product": "MMF-ZZB", "balance": 5000.0,
                      "currency": "CNY", "openedAt": iso(at), "status": "ACTIVE"}}  # fmt: skip


async def test_a_window_counts_from_its_true_start_and_the_first_second_contacts(
    store: GraphStore, marketing: Api, clock: type[Clock]
) -> None:
    """A campaign created "from now" at 10:00:00.500 takes the contacts logged at
    10:00:00.800 (stored at 10:00:00): they are logged and counted. Openings stored at
    10:00:00 may have been at .200, before the campaign: no conversion; at 10:00:01 one."""
    await seed_demo(store, customers=300, seed=42, progress=False)
    day = (datetime.now(UTC) - timedelta(days=2)).replace(hour=10, minute=0, second=0)
    start = day.replace(microsecond=500_000)
    end = start + timedelta(days=30)
    clock.at = start
    body = await marketing.gql(CREATE, {"input": spec(start, end, **AUDIENCE)})
    assert not body.get("errors"), body
    made = body["data"]["createCampaign"]
    members = await groups(store, made["id"])
    treatment, control = members["TREATMENT"], members["CONTROL"]
    assert len(treatment) > 2 and len(control) > 4

    clock.at = start + timedelta(milliseconds=300)  # the same second
    logged = await marketing.gql(CONTACT, {"id": made["id"]})
    assert not logged.get("errors"), logged
    assert logged["data"]["logCampaignContacts"] == len(treatment)
    (stored,) = await store.read(
        "MATCH (i:Interaction) WHERE i.campaignId = $id RETURN DISTINCT i.time AS t",
        {"id": made["id"]},
    )
    assert stored["t"] == iso(day)

    whole = start.replace(microsecond=0)
    second = timedelta(seconds=1)
    await upsert_accounts(store, [
        opened(treatment[0], whole, 0),  # in the contact's second, maybe before from
        opened(treatment[1], whole + second, 0),
        opened(control[0], whole, 0),
        opened(control[1], whole + second, 0),
        opened(control[2], end.replace(microsecond=0), 0),  # to 10:00:00.500 takes 10:00:00
        opened(control[3], end.replace(microsecond=0) + second, 0),
    ])  # fmt: skip
    clock.at = start + timedelta(days=1)
    figures = (await marketing.gql(CONVERTED, {"id": made["id"]}))["data"]["campaign"]
    assert figures["contacted"] == len(treatment)
    assert figures["converted"] == 1
    assert figures["controlConversionRate"] == round(2 / len(control), 4)
    # Kept to the fraction (stored cut, from read 10:00:00; rounded up, 10:00:01).
    assert datetime.fromisoformat(figures["from"]) == start
    assert datetime.fromisoformat(figures["to"]) == end


async def test_a_window_counts_contacts_and_openings_in_from_to_exactly(
    store: GraphStore, marketing: Api, clock: type[Clock]
) -> None:
    """from 10:00:00.750 counts what is stored from 10:00:01 (a contact about the product or
    an opening stored at 10:00:00 may have been at .200); to is exclusive, as every window."""
    await seed_demo(store, customers=300, seed=42, progress=False)
    whole = (datetime.now(UTC) - timedelta(days=5)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    start, end = whole.replace(microsecond=750_000), whole + timedelta(days=1)
    clock.at = whole + timedelta(days=2)  # ended: only what was stored counts
    body = await marketing.gql(CREATE, {"input": spec(start, end, **AUDIENCE)})
    assert not body.get("errors"), body
    campaign = body["data"]["createCampaign"]["id"]
    members = await groups(store, campaign)
    treatment, control = members["TREATMENT"], members["CONTROL"]
    second = timedelta(seconds=1)
    # Contacts another system logged about the product (no campaignId).
    await upsert_interactions(store, [
        {"id": f"MK-{n}", "customerId": cid, "productCode": "MMF-ZZB",
         "props": {"kind": "MARKETING", "channel": "APP", "time": iso(at)}}
        for n, (cid, at) in enumerate(((treatment[0], whole), (treatment[1], whole + second),
                                       (treatment[2], end)))
    ])  # fmt: skip
    await upsert_accounts(store, [
        opened(control[0], whole, 1),
        opened(control[1], whole + second, 1),
        opened(control[2], end, 1),  # at to: outside [from, to)
        opened(treatment[1], end - second, 1),
    ])  # fmt: skip
    figures = (await marketing.gql(CONVERTED, {"id": campaign}))["data"]["campaign"]
    assert figures["contacted"] == 1
    assert figures["converted"] == 1
    assert figures["controlConversionRate"] == round(1 / len(control), 4)
