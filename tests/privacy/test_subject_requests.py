"""Erasure by crypto-shredding (two privacy officers) and access requests, end to end on a
data dir of its own: CLI import, the API, the embedded FalkorDB's files, the audit log."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from hub.app import create_app
from hub.cli import app as cli
from hub.services import field_crypto
from hub.settings import Settings
from privacy.audit import AuditLog
from privacy.fieldcrypt import PREFIX
from privacy.keyring import KeyRing
from privacy.principal import issue_token
from privacy.secrets import load_or_create_secret

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "crm"
CID = "C900001"
VALUES = {"name": "张伟", "phone": "+8613812345678", "idNumber": "110105198503121234",
          "email": "zhang.wei@example.cn", "address": "北京市朝阳区建国路88号"}  # fmt: skip
ONE = "query($id: ID!) { customer(id: $id) { id name phone idNumber email address } }"
PROPOSE = """mutation($id: ID!, $reason: String!) {
  proposeErasure(customerId: $id, reason: $reason) { id status proposer } }"""
APPROVE = """mutation($rid: String!) {
  approveErasure(requestId: $rid) { id status approver erased } }"""
EXPORT = "query($id: ID!) { customerExport(customerId: $id) }"


@pytest.fixture
def data() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="c360e-", dir="/tmp"))  # short: the graph's socket
    shutil.copytree(EXAMPLES, path / "crm")
    yield path / "d"
    shutil.rmtree(path, ignore_errors=True)


async def cli_run(data: Path, *args: str) -> str:
    env = {"C360_DATA_DIR": str(data), "COLUMNS": "200"}
    done = await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=env)
    assert done.exit_code == 0, done.output
    return done.output


async def imported(data: Path) -> None:
    for kind in ("advisors", "customers", "households", "accounts"):
        await cli_run(data, "import", kind, str(data.parent / "crm" / f"{kind}.csv"))


class Officer:
    def __init__(
        self,
        client: httpx.AsyncClient,
        data: Path,
        sub: str,
        role: str = "privacy_officer",
        purpose: str = "compliance",
    ) -> None:
        key = load_or_create_secret(data, "jwt")
        token = issue_token(key, sub, [role], purpose=purpose)
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    async def gql(self, query: str, **variables: Any) -> dict[str, Any]:
        r = await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=self.headers
        )
        return r.json()


@asynccontextmanager
async def hub(data: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(data_dir=data, introspection=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as c:
            yield c


def graph_files(data: Path) -> list[Path]:
    files = [p for p in (data / "falkordb").rglob("*") if p.is_file()]
    return [p for p in files if "aof" in p.name or p.suffix == ".rdb"]


def holding(paths: list[Path], needle: str) -> list[str]:
    return [p.name for p in paths if needle.encode() in p.read_bytes()]


def everything(data: Path) -> list[Path]:
    return [p for p in data.rglob("*") if p.is_file() and not p.is_symlink()]


def sealed_values(paths: list[Path]) -> set[str]:
    found: set[str] = set()
    for p in paths:
        text = p.read_bytes().decode("utf-8", "replace")
        found |= set(re.findall(re.escape(PREFIX) + r"[A-Za-z0-9+/]+=*", text))
    return found


async def test_erasure_by_two_officers_leaves_nothing_readable(data: Path) -> None:
    await imported(data)
    settings = Settings(data_dir=data)
    crypto = field_crypto(settings)
    phone_index = crypto.blind("phone", VALUES["phone"])
    assert phone_index is not None
    async with hub(data) as c:
        po1, po2 = Officer(c, data, "po1"), Officer(c, data, "po2")
        before = await po1.gql(ONE, id=CID)
        assert before["data"]["customer"] == {"id": CID, **VALUES}
        proposed = await po1.gql(PROPOSE, id=CID, reason="PIPL Art. 47 ticket 42")
        rid = proposed["data"]["proposeErasure"]["id"]
        # An old backup: a copy of the graph's files before the erasure (keys not in it).
        old_backup = data.parent / "old-backup"
        shutil.copytree(data / "falkordb", old_backup, ignore=shutil.ignore_patterns("*.sock"))
        assert holding(graph_files(data), phone_index), "the index entry was never there"

        own = await po1.gql(APPROVE, rid=rid)
        assert own["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        done = await po2.gql(APPROVE, rid=rid)
        assert "errors" not in done, done
        erased = done["data"]["approveErasure"]
        assert erased["status"] == "done" and erased["approver"] == "po2"
        assert erased["erased"]["key_destroyed"] is True
        assert {"name", "phone", "idNumber", "email", "address"} <= set(erased["erased"]["fields"])

        after = await po2.gql(ONE, id=CID)
        assert after["data"]["customer"] is None
        assert after["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        # The imports engineer's finding: a write brought an erased customer back.
        agent = Officer(c, data, "sa1", role="service_agent", purpose="service")
        upsert = "mutation U($i: CustomerInput!) { upsertCustomer(input: $i) { id } }"
        back = await agent.gql(upsert, i={"id": CID, "name": "复活"})
        assert back["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", back
        assert "erased" in back["errors"][0]["message"]
        assert (await po2.gql(ONE, id=CID))["data"]["customer"] is None

    # The graph's files (compacted) hold neither the customer nor their index entries.
    files = graph_files(data)
    assert files
    for needle in (CID, phone_index, *VALUES.values()):
        assert holding(files, needle) == [], needle
    for value in VALUES.values():
        assert holding(everything(data), value) == [], value
    assert holding(everything(data), f"Customer:{CID}") == []  # the key store forgot the key
    # The old backup still holds the customer's ciphertext, and nothing opens it any more.
    old = sealed_values(everything(old_backup))
    assert old
    opened = crypto.open_many("Customer", [(CID, {"name": v}) for v in old])
    assert all(o["name"] is None for o in opened)

    # The audit trail verifies and names the erasure by ids and field names only.
    log = AuditLog(data / "audit", KeyRing.load(data))
    assert log.verify().ok
    records = log.read()
    text = json.dumps(records, ensure_ascii=False)
    for value in VALUES.values():
        assert value not in text
    (erasure,) = [r for r in records if "erasure" in r.get("details", {})]
    assert erasure["subject"] == "po2" and erasure["customer_ids"] == [CID]
    assert erasure["details"]["erasure"]["proposer"] == "po1"


async def test_cli_erase_needs_a_second_officer(data: Path) -> None:
    await imported(data)
    env = {"C360_DATA_DIR": str(data), "COLUMNS": "200"}
    runner = CliRunner()
    same = await asyncio.to_thread(
        runner.invoke, cli,
        ["erase", "--customer", CID, "--reason", "t1", "--by", "po1", "--approved-by", "po1"],
        env=env,
    )  # fmt: skip
    assert same.exit_code == 2 and "cannot approve" in same.output
    out = await cli_run(
        data, "erase", "--customer", CID, "--reason", "t1", "--by", "po1", "--approved-by", "po2"
    )
    assert f"erased customer {CID}" in out and "data key destroyed=True" in out
    for needle in (CID, *VALUES.values()):
        assert holding(graph_files(data), needle) == [], needle
    assert AuditLog(data / "audit", KeyRing.load(data)).verify().ok


async def test_access_request_lists_data_and_who_read_it(data: Path) -> None:
    await imported(data)
    async with hub(data) as c:
        po1, po2 = Officer(c, data, "po1"), Officer(c, data, "po2")
        assert "errors" not in await po1.gql(ONE, id=CID)
        agent = Officer(c, data, "sa1", "service_agent", "service")
        for query, variables in (
            (EXPORT, {"id": CID}),
            (PROPOSE, {"id": CID, "reason": "x"}),
            (APPROVE, {"rid": "er-guessed"}),
        ):
            denied = await agent.gql(query, **variables)
            assert [e["extensions"]["code"] for e in denied["errors"]] == ["FORBIDDEN"], denied
            assert "张伟" not in json.dumps(denied, ensure_ascii=False)
        body = await po2.gql(EXPORT, id=CID)
        assert "errors" not in body, body
        exported = body["data"]["customerExport"]
    assert {k: exported["profile"][k] for k in VALUES} == VALUES
    assert exported["household"]["name"] == "张李家庭"
    assert exported["accounts"]
    (read,) = [h for h in exported["accessHistory"] if h["subject"] == "po1"]
    assert read["purpose"] == "compliance" and {"name", "phone"} <= set(read["revealed"])
    out = await cli_run(data, "export", "--customer", CID, "--by", "po3")
    cli_export = json.loads(out)
    assert cli_export["profile"]["phone"] == VALUES["phone"]
    assert {h["subject"] for h in cli_export["accessHistory"]} >= {"po1", "po2"}
    records = AuditLog(data / "audit", KeyRing.load(data)).read(customer=CID)
    assert records[-1]["subject"] == "po3" and records[-1]["operation"] == "cli export"
