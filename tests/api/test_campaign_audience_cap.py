"""QA finding G: a campaign's audience was cut at C360_SEARCH_CANDIDATE_CAP without a word
(the candidates read ORDER BY id LIMIT cap); they are now walked in batches of the cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from graph.store import GraphStore
from hub.demo import seed_demo
from hub.settings import Settings
from tests.api.conftest import Api
from tests.opened import opened as opened_rows

CAP = 25

CREATE = """
mutation Create($input: CampaignInput!) { createCampaign(input: $input) { id audienceCount } }
"""


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, introspection=False, search_candidate_cap=CAP)


async def test_the_audience_is_not_cut_at_the_candidate_cap(
    store: GraphStore, marketing: Api
) -> None:
    await seed_demo(store, customers=200, seed=42, progress=False)
    now = datetime.now(UTC)
    made = await marketing.gql(CREATE, {"input": {
        "name": "全量", "audience": {"notHolds": "MMF-ZZB"}, "product": "MMF-ZZB",
        "channel": "APP", "controlShare": 0.0, "from": now.isoformat(),
        "to": (now + timedelta(days=30)).isoformat(),
    }})  # fmt: skip
    assert not made.get("errors"), made
    rows = opened_rows(
        store,
        await store.read(
            "MATCH (c:Customer) RETURN c.id AS id, c.consentMarketing AS consent, "
            # What is held: the open accounts' products (a CLOSED account is no holding).
            "[(c)-[:OWNS]->(a:Account) WHERE a.status <> 'CLOSED' | a.product] AS products"
        ),
    )
    expected = {r["id"] for r in rows if r["consent"] is True and "MMF-ZZB" not in r["products"]}
    assert len(expected) > 2 * CAP
    members = await store.read(
        "MATCH (:Campaign {id: $id})-[:TARGETS]->(c:Customer) RETURN c.id AS id",
        {"id": made["data"]["createCampaign"]["id"]},
    )
    assert {m["id"] for m in members} == expected
    assert made["data"]["createCampaign"]["audienceCount"] == len(expected)
