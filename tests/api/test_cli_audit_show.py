"""`c360 audit show` of a campaign's records (QA probe): every audience member's id filled the
customers column (hundreds of lines per record) and the time column was cut to
`2026-12-02T…`. The table now gives a count and a sample; `--json` keeps every id."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app
from privacy.audit import AuditLog, make_record
from privacy.keyring import KeyRing

AUDIENCE = [f"C{n:06d}" for n in range(1, 434)]


def write(data: Path, customers: list[list[str]]) -> None:
    """One record per list of customer ids, as createCampaign's request record names them."""
    log = AuditLog(data / "audit", KeyRing.load(data))

    async def go() -> None:
        for ids in customers:
            named = {cid: {"revealed": ["name"], "masked": ["phone"]} for cid in ids}
            await log.append(
                make_record(principal=None, operation="Create", outcome="ok", customers=named)
            )

    asyncio.run(go())


def show(data: Path, *args: str) -> str:
    env = {"C360_DATA_DIR": str(data), "COLUMNS": "80"}
    done = CliRunner().invoke(app, ["audit", "show", *args], env=env)
    assert done.exit_code == 0, done.output
    return done.output


def test_a_campaign_record_shows_a_count_and_a_sample(tmp_path: Path) -> None:
    data = tmp_path / "d"
    write(data, [AUDIENCE, ["C000001", "C000002"], []])
    out = show(data)
    # A few lines a record, not one per member.
    assert len(out.splitlines()) < 30, out
    # How many (a narrow column wraps "433 customers"), and how many past the sample.
    assert re.search(r"\b433\b", out) and "+430 more" in out, out
    for shown in (*AUDIENCE[:3], "C000002"):
        assert shown in out, out  # the sample, each id whole
    assert AUDIENCE[3] not in out, out  # past the sample
    # The time to the second, never cut to "2026-12-02T…"; every column shown at 80.
    rows = [json.loads(line) for line in show(data, "--json").splitlines()]
    for row in rows:
        assert row["time"][:19] + "Z" in out, out
    assert "outcome" in out and max(len(line) for line in out.splitlines()) <= 80, out
    # The whole list stays in the JSON.
    assert rows[0]["customer_ids"] == AUDIENCE
