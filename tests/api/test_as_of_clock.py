"""Session 23 (QA): with ``C360_AS_OF`` set, writes were stamped with the end of the as-of day
instead of the real time. A hub as of a future day logged interactions and campaign contacts
hours ahead and refused a consent withdrawal ("consentUpdatedAt: later than now", a field the
caller never sent); one as of a past day dated the withdrawal then, so an older CRM export
re-imported later reversed it. ``C360_AS_OF`` is the analytics' day only: a write reads the
real clock. Hubs as of a past and a future day, over the real embedded graph and Rego engine."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from graph.store import GraphStore
from hub.demo import seed_demo
from hub.settings import Settings
from ingest.crm import import_file
from resolvers.analytics import parse_time
from tests.api.conftest import Api, serve
from tests.api.test_care_tasks_qa import COMPLETE, _tasks_with, tasks_of

PAST = date(2020, 6, 30)
TODAY = datetime.now(UTC).date()  # its end is hours ahead: the QA's case
FUTURE = TODAY + timedelta(days=40)

WITHDRAW = """mutation { upsertCustomer(input: {id: "C000019", consentMarketing: false}) {
  id consents { marketing updatedAt } } }"""
LOG = """mutation($input: InteractionInput!) { logInteraction(input: $input) { id time } }"""
READ = '{ customer(id: "C000019") { ageBand consents { marketing updatedAt } } }'
CREATE = """mutation($input: CampaignInput!) { createCampaign(input: $input) { id } }"""
CONTACT = "mutation($id: ID!) { logCampaignContacts(id: $id) }"


@pytest.fixture(params=[PAST, TODAY, FUTURE], ids=["past", "today", "future"])
async def hub(
    request: pytest.FixtureRequest,
    store: GraphStore,
    data_dir: Path,
    make_token: Callable[..., str],
) -> AsyncIterator[tuple[date, Callable[..., Api]]]:
    """A hub with ``C360_AS_OF`` a past day, today or a future day; a maker of an Api by role."""
    settings = Settings(data_dir=data_dir, introspection=False, as_of=request.param)
    async with serve(store, settings) as client:

        def as_role(role: str, purpose: str, sub: str) -> Api:
            return Api(client, make_token([role], sub=sub, purpose=purpose, purposes=None))

        yield request.param, as_role


def _near_now(stamp: str | None, before: datetime) -> None:
    """``stamp`` is a time between ``before`` (less the second it is truncated to) and now."""
    moment = parse_time(stamp)
    assert moment is not None, stamp
    assert before - timedelta(seconds=1) <= moment <= datetime.now(UTC), (stamp, before)


async def test_writes_read_the_real_clock_and_analytics_the_as_of_day(
    store: GraphStore, hub: tuple[date, Callable[..., Api]], tmp_path: Path
) -> None:
    as_of, as_role = hub
    agent = as_role("service_agent", "service", "sa1")
    first = tmp_path / "first.csv"
    first.write_text(
        "id,name,birthDate,consentMarketing,consentUpdatedAt\n"
        "C000019,李娜,2000-01-01,是,2019-01-01T00:00:00Z\n",
        encoding="utf-8",
    )
    assert (await import_file(store, "customers", first)).inserted == 1

    # The advisor withdraws consent: accepted (refused as "later than now" as of a future
    # day), and dated now (the end of the as-of day before).
    before = datetime.now(UTC)
    body = await agent.gql(WITHDRAW)
    assert not body.get("errors"), body
    consents = body["data"]["upsertCustomer"]["consents"]
    assert consents["marketing"] is False
    _near_now(consents["updatedAt"], before)

    before = datetime.now(UTC)
    body = await agent.gql(
        LOG, {"input": {"customerId": "C000019", "kind": "complaint", "channel": "phone"}}
    )
    assert not body.get("errors"), body
    _near_now(body["data"]["logInteraction"]["time"], before)

    # A CRM export of 2024-01-01 still saying yes is older than the withdrawal: it stays.
    export = tmp_path / "export.csv"
    export.write_text("id,consentMarketing\nC000019,是\n", encoding="utf-8")
    await import_file(store, "customers", export, as_of="2024-01-01 08:00")
    read = await agent.gql(READ)
    assert read["data"]["customer"]["consents"] == consents, read

    # The figures are still as of the as-of day: born 2000-01-01, 20 in mid-2020.
    assert read["data"]["customer"]["ageBand"] == ("18-24" if as_of == PAST else "25-34"), read


async def test_campaign_contacts_are_logged_at_the_real_time(
    store: GraphStore, hub: tuple[date, Callable[..., Api]]
) -> None:
    """A campaign running now takes contacts now, whatever day the figures are as of (as of
    a past or future day they were refused as outside its window, or dated that day)."""
    _, as_role = hub
    await seed_demo(store, customers=120, seed=42, progress=False)
    marketing = as_role("marketing_analyst", "marketing", "mk1")
    now = datetime.now(UTC)
    spec = {
        "name": "朝朝宝 新客推介",
        "audience": {"notHolds": "MMF-ZZB"},
        "product": "MMF-ZZB",
        "channel": "APP",
        "controlShare": 0.2,
        "from": (now - timedelta(days=1)).isoformat(),
        "to": (now + timedelta(days=30)).isoformat(),
    }
    made = await marketing.gql(CREATE, {"input": spec})
    assert not made.get("errors"), made
    campaign_id = made["data"]["createCampaign"]["id"]

    before = datetime.now(UTC)
    body = await marketing.gql(CONTACT, {"id": campaign_id})
    assert not body.get("errors"), body
    assert body["data"]["logCampaignContacts"] > 0, body
    rows = await store.read(
        "MATCH (k:Campaign {id: $id}) OPTIONAL MATCH (i:Interaction {campaignId: $id}) "
        "RETURN k.createdAt AS created, collect(i.time) AS times",
        {"id": campaign_id},
    )
    _near_now(rows[0]["created"], now)
    assert len(rows[0]["times"]) == body["data"]["logCampaignContacts"], rows
    for stamp in rows[0]["times"]:
        _near_now(stamp, before)


async def test_a_task_completed_under_an_as_of_day_is_dated_now(
    store: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    """completeTask's CARE interaction is dated now, not the end of the as-of day (today's:
    hours ahead); the task is still done in the listing as of that day."""
    await seed_demo(store, customers=300, seed=42, progress=False)
    settings = Settings(data_dir=data_dir, introspection=False, as_of=TODAY)
    async with serve(store, settings) as client:

        def as_role(role: str, purpose: str, sub: str) -> Api:
            return Api(client, make_token([role], sub=sub, purpose=purpose, purposes=None))

        advisor, task = await _tasks_with(store, as_role, "COMPLAINT", TODAY)
        before = datetime.now(UTC)
        done = await advisor.gql(COMPLETE, {"id": task["id"], "note": "已电话联系客户"})
        assert not done.get("errors"), done
        assert task["id"] not in [t["id"] for t in await tasks_of(advisor)]
    rows = await store.read(
        "MATCH (i:Interaction {id: $id}) RETURN i.time AS time",
        {"id": done["data"]["completeTask"]["id"]},
    )
    assert len(rows) == 1, rows
    _near_now(rows[0]["time"], before)
