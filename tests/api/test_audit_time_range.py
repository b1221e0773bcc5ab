"""auditEvents(filter: {since, until}) returns exactly [since, until), to the millisecond:
records carry millisecond times, and a bound given to the second once compared as text
("12:00:00.000Z" < "12:00:00Z"), dropping every record of the bound's first second."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from privacy.audit import AuditLog, make_record
from privacy.keyring import KeyRing
from privacy.types import Principal
from tests.api.conftest import Api

TIMES = (
    "2025-03-01T00:00:00.000Z",
    "2025-03-01T12:00:00.000Z",  # == since: in
    "2025-03-01T12:00:00.500Z",  # in the since second: in
    "2025-03-01T23:59:59.999Z",  # last moment before until: in
    "2025-03-02T00:00:00.000Z",  # == until: out
    "2025-03-03T00:00:00.000Z",
)
TRAIL = """query($filter: AuditFilter) {
  auditEvents(filter: $filter, first: 100) { totalCount edges { node { time operation } } }
}"""


async def seed_records(data_dir: Path) -> None:
    log = AuditLog(data_dir / "audit", KeyRing.load(data_dir))
    who = Principal("seed", ("privacy_officer",), "compliance")
    for n, at in enumerate(TIMES):
        record = make_record(principal=who, operation=f"op{n}", outcome="ok")
        await log.append(record | {"time": at})


async def times(api: Api, **window: Any) -> list[str]:
    body = await api.gql(TRAIL, {"filter": window})
    assert "errors" not in body, body
    nodes = [e["node"] for e in body["data"]["auditEvents"]["edges"]]
    return sorted(n["time"] for n in nodes if n["operation"].startswith("op"))


async def test_since_until_return_exactly_the_range(api: Api, data_dir: Path) -> None:
    await seed_records(data_dir)
    assert await times(api, since="2025-03-01T12:00:00Z", until="2025-03-02T00:00:00Z") == [
        TIMES[1],
        TIMES[2],
        TIMES[3],
    ]
    assert await times(api, since="2025-03-01T12:00:00.5Z", until="2025-03-01T23:59:59.999Z") == [
        TIMES[2]
    ]
    # Offsets are times, not text: 20:00 in Shanghai is 12:00 UTC.
    assert await times(
        api, since="2025-03-01T20:00:00+08:00", until="2025-03-01T12:00:00.001Z"
    ) == [TIMES[1]]
    assert await times(api, since="2025-03-02T00:00:00Z") == [TIMES[4], TIMES[5]]
    assert await times(api, until="2025-03-01T12:00:00Z") == [TIMES[0]]


async def test_an_empty_or_reversed_window_is_bad_input(api: Api) -> None:
    body = await api.gql(
        TRAIL, {"filter": {"since": "2025-03-02T00:00:00Z", "until": "2025-03-01T00:00:00Z"}}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_log_reads_iso_bounds_as_times(data_dir: Path) -> None:
    """`c360 audit --since` hands the log the user's text: read as a time too."""
    await seed_records(data_dir)
    log = AuditLog(data_dir / "audit", KeyRing.load(data_dir))
    found = log.read(since="2025-03-01T12:00:00Z", until="2025-03-02T00:00:00+00:00")
    assert [r["time"] for r in found] == list(TIMES[1:4])
