"""Session 22 (QA): a consent withdrawal was undone by re-importing a row whose
consentUpdatedAt lay in the future (tomorrow): stored as yes dated tomorrow, it outranked every
later withdrawal through the API. A consent's evidence time later than now (5 minutes of clock
skew allowed) is a dead letter. Real embedded FalkorDB, the real import and the real mutation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from graph.store import GraphStore
from ingest.crm import import_file
from shared.records import CONSENT_AHEAD
from tests.api.conftest import Api
from tests.dead_letters import dead_letters

WITHDRAW = """mutation { upsertCustomer(input: {id: "C000010", consentMarketing: false}) {
  id consents { marketing updatedAt } } }"""
READ = '{ customer(id: "C000010") { name consents { marketing updatedAt } } }'


def _at(delta: timedelta) -> str:
    return f"{datetime.now(UTC) + delta:%Y-%m-%dT%H:%M:%SZ}"


async def test_a_consent_dated_in_the_future_is_a_dead_letter(
    store: GraphStore, api: Api, agent: Api, tmp_path: Path
) -> None:
    first = tmp_path / "first.csv"
    first.write_text("id,name,consentMarketing\nC000010,王芳,是\n", encoding="utf-8")
    assert (await import_file(store, "customers", first)).inserted == 1
    body = await agent.gql(WITHDRAW)
    withdrawn = body["data"]["upsertCustomer"]["consents"]
    assert withdrawn["marketing"] is False, body

    ahead = tmp_path / "ahead.csv"
    ahead.write_text(
        f"id,name,consentMarketing,consentUpdatedAt\nC000010,王芳芳,是,{_at(timedelta(hours=20))}\n",
        encoding="utf-8",
    )
    summary = await import_file(store, "customers", ahead)
    # Stored as yes, dated tomorrow, before the fix.
    assert (summary.rejected, summary.updated) == (1, 0)
    dead = dead_letters(tmp_path / "ahead.dead.jsonl")
    assert [d["reasons"] for d in dead] == [[f"consentUpdatedAt: {CONSENT_AHEAD}"]]
    read = await api.gql(READ)
    assert read["data"]["customer"] == {"name": "王芳", "consents": withdrawn}, read

    # Within the skew allowed (a source clock a little ahead): applied.
    skewed = tmp_path / "skewed.csv"
    skewed.write_text(
        f"id,consentMarketing,consentUpdatedAt\nC000010,是,{_at(timedelta(minutes=2))}\n",
        encoding="utf-8",
    )
    assert (await import_file(store, "customers", skewed)).updated == 1
    read = await api.gql(READ)
    assert read["data"]["customer"]["consents"]["marketing"] is True, read
