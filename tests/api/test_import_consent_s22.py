"""Session 22 (QA): a stale CRM import gave back a marketing consent the customer withdrew
through upsertCustomer, dated with the withdrawal's own time, and a marketing analyst could
read the customer again. An import never overrides a consent changed after its evidence (the
row's consentUpdatedAt, else the import's --as-of); the rest of the row still imports, and
the line is warned of. Real embedded FalkorDB, the real import and the real mutation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from graph.store import GraphStore
from ingest.crm import _as_of, import_file
from ingest.summary import ImportRefused
from tests.api.conftest import Api

WITHDRAW = """mutation { upsertCustomer(input: {id: "Q5", consentMarketing: false}) {
  id consents { marketing updatedAt } } }"""
READ = '{ customer(id: "Q5") { name consents { marketing dataSharing updatedAt } } }'
# The CRM export as it was before the withdrawal: its consent column says yes, undated.
EXPORT = "id,name,consentMarketing\nQ5,王芳,是\n"


def _file(tmp_path: Path, text: str, name: str = "crm.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def _consents(api: Api) -> dict[str, Any]:
    body = await api.gql(READ)
    assert "errors" not in body, body
    return body["data"]["customer"]


async def test_a_stale_import_does_not_give_back_a_withdrawn_consent(
    store: GraphStore, api: Api, agent: Api, marketing: Api, tmp_path: Path
) -> None:
    export = _file(tmp_path, EXPORT)
    assert (await import_file(store, "customers", export)).inserted == 1
    # Undated evidence, nothing stored before: the consent is set, with no date invented.
    assert (await _consents(api))["consents"] == {
        "marketing": True, "dataSharing": None, "updatedAt": None}  # fmt: skip
    body = await agent.gql(WITHDRAW)
    withdrawn = body["data"]["upsertCustomer"]["consents"]
    assert withdrawn["marketing"] is False and withdrawn["updatedAt"], body

    # The same file again, a new name besides: the name imports, the consent stays withdrawn.
    renamed = _file(tmp_path, EXPORT.replace("王芳", "王芳芳"))
    summary = await import_file(store, "customers", renamed)
    assert (summary.updated, summary.stale_consents, summary.rejected) == (1, 1, 0)
    assert len(summary.warnings) == 1 and summary.warnings[0].startswith("line 2: consents not")
    assert withdrawn["updatedAt"] in summary.warnings[0]
    assert await _consents(api) == {
        "name": "王芳芳",
        "consents": {"marketing": False, "dataSharing": None, "updatedAt": withdrawn["updatedAt"]},
    }
    hidden = await marketing.gql('{ customer(id: "Q5") { id } }')
    assert (hidden.get("data") or {}).get("customer") is None, hidden

    # A dated row older than the withdrawal, and an --as-of before it: not applied either.
    dated = "id,consentMarketing,consentUpdatedAt\nQ5,是,2025-03-01 08:00\n"
    summary = await import_file(store, "customers", _file(tmp_path, dated))
    assert (summary.stale_consents, summary.unchanged) == (1, 1)
    summary = await import_file(store, "customers", export, as_of="2025-03-01 08:00")
    assert summary.stale_consents == 1
    assert (await _consents(api))["consents"]["marketing"] is False

    # Evidence newer than the withdrawal applies, dated with that evidence (within the
    # clock skew allowed: later than that is a dead letter, tests/api/test_consent_ahead_s22).
    later = f"{datetime.now(UTC) + timedelta(minutes=2):%Y-%m-%dT%H:%M:%SZ}"
    newer = f"id,consentMarketing,consentUpdatedAt\nQ5,是,{later}\n"
    summary = await import_file(store, "customers", _file(tmp_path, newer))
    assert (summary.updated, summary.stale_consents) == (1, 0)
    assert (await _consents(api))["consents"] == {
        "marketing": True, "dataSharing": None, "updatedAt": later}  # fmt: skip


async def test_as_of_dates_an_undated_file_and_wins_over_older_imports(
    store: GraphStore, api: Api, tmp_path: Path
) -> None:
    dated = "id,name,consentMarketing,consentUpdatedAt\nQ5,王芳,否,2025-01-01T00:00:00Z\n"
    await import_file(store, "customers", _file(tmp_path, dated))
    export = _file(tmp_path, EXPORT)
    # Undated and no --as-of: a stored consent is not flipped.
    summary = await import_file(store, "customers", export)
    assert summary.stale_consents == 1
    assert (await _consents(api))["consents"]["marketing"] is False
    # Exported after the stored evidence: applied, and dated as of the export.
    summary = await import_file(store, "customers", export, as_of="2025-06-01 10:00")
    assert (summary.updated, summary.stale_consents) == (1, 0)
    assert (await _consents(api))["consents"] == {
        "marketing": True, "dataSharing": None, "updatedAt": "2025-06-01T02:00:00Z"}  # fmt: skip
    # The same file again changes nothing and warns of nothing.
    summary = await import_file(store, "customers", export, as_of="2025-06-01 10:00")
    assert (summary.unchanged, summary.stale_consents, summary.warnings) == (1, 0, [])


async def test_as_of_must_be_a_time_not_later_than_now(store: GraphStore, tmp_path: Path) -> None:
    export = _file(tmp_path, EXPORT)
    later = f"{datetime.now(UTC) + timedelta(hours=2):%Y-%m-%dT%H:%M:%SZ}"
    for wrong, why in ((later, "later than now"), ("yesterday", "not a time")):
        with pytest.raises(ImportRefused, match=f"^--as-of: {why}"):
            await import_file(store, "customers", export, as_of=wrong)
    assert await store.read("MATCH (c:Customer) RETURN c.id AS id") == []


def test_as_of_today_in_shanghai_is_not_later_than_now_after_16_utc() -> None:
    # Review, session 22: a date was compared with today's UTC date, so from 16:00 UTC on
    # (already tomorrow in Shanghai) the local date of the export was "later than now". That
    # local date starts at 16:00 UTC: before 17:00 UTC, an export time of the past.
    now = (datetime.now(UTC) - timedelta(days=1)).replace(
        hour=17, minute=0, second=0, microsecond=0
    )
    local_today = (now + timedelta(hours=8)).date()
    assert _as_of(local_today.isoformat(), now=now) == local_today.isoformat()
    assert _as_of(f"{local_today} 00:30", now=now) == f"{now:%Y-%m-%d}T16:30:00Z"
    with pytest.raises(ImportRefused, match=r"^--as-of: later than now"):
        _as_of(f"{local_today} 01:30", now=now)  # 17:30 UTC
