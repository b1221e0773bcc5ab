"""Advisor names and numbers, interaction notes and social display names are sealed at rest:
after CLI imports, a social ingest and an API write, no file under the data dir holds them,
while the 360 query and the mention feed still show them; an erasure shreds the customer's
notes and the display name of the account they confirmed, in old copies too."""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app as cli
from hub.services import MASK_KEY_NAME, field_crypto
from hub.settings import Settings
from privacy.fieldcrypt import PREFIX
from privacy.masking import hash_token
from privacy.secrets import load_or_create_secret
from tests.privacy.test_subject_requests import Officer, hub

ROOT = Path(__file__).resolve().parents[2]
CID = "C900001"
ADVISOR = {"name": "刘洋", "phone": "13600001111", "email": "liu.yang@bank.example.cn"}
IMPORTED_NOTE = "信用卡年费扣费有异议"
API_NOTE = "客户来电说明搬家到杭州西湖区文三路"
AUTHOR = "王小明"  # the display name of weibo account 小王理财 in posts.jsonl
LOG = """mutation($input: InteractionInput!) { logInteraction(input: $input) { id summary } }"""
VIEW = """query($id: ID!) { customer(id: $id) {
  advisor { name } interactions(first: 20) { edges { node { id summary } } } } }"""
FEED = "{ mentions(first: 50) { edges { node { postId author { handle displayName } } } } }"


@pytest.fixture
def work() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="c360n-", dir="/tmp"))  # short: the graph's socket
    shutil.copytree(ROOT / "examples" / "crm", path / "crm")
    shutil.copy(ROOT / "examples" / "social" / "posts.jsonl", path / "posts.jsonl")
    (path / "links.csv").write_text(f"customerId,platform,handle\n{CID},weibo,小王理财\n")
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def cli_run(data: Path, *args: str) -> str:
    env = {"C360_DATA_DIR": str(data), "COLUMNS": "200"}
    done = await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=env)
    assert done.exit_code == 0, done.output
    return done.output


def files_with(root: Path, needle: str) -> list[str]:
    return [
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink() and needle.encode() in p.read_bytes()
    ]


async def test_notes_advisors_and_display_names_are_sealed(work: Path) -> None:
    data = work / "d"
    for kind in ("advisors", "customers", "households"):
        await cli_run(data, "import", kind, str(work / "crm" / f"{kind}.csv"))
    await cli_run(data, "import", "interactions", str(work / "crm" / "interactions.jsonl"))
    await cli_run(data, "ingest", "posts", str(work / "posts.jsonl"), "--platform", "weibo")
    await cli_run(data, "import", "social-accounts", str(work / "links.csv"))
    shutil.rmtree(work / "crm")
    (work / "posts.jsonl").unlink()

    async with hub(data) as c:
        agent = Officer(c, data, "sa1", role="service_agent", purpose="service")
        done = await agent.gql(LOG, input={"customerId": CID, "channel": "PHONE",
                                           "kind": "INQUIRY", "summary": API_NOTE})  # fmt: skip
        assert "errors" not in done, done
        po = Officer(c, data, "po1")
        view = (await po.gql(VIEW, id=CID))["data"]["customer"]
        assert view["advisor"]["name"] == ADVISOR["name"]
        notes = {e["node"]["summary"] for e in view["interactions"]["edges"]}
        assert {IMPORTED_NOTE, API_NOTE} <= notes
        analyst = Officer(c, data, "ba1", role="brand_analyst", purpose="marketing")
        feed = await analyst.gql(FEED)
        assert "errors" not in feed, feed
        names = {e["node"]["author"]["displayName"] for e in feed["data"]["mentions"]["edges"]
                 if e["node"]["author"]}  # fmt: skip
        # Masked for a brand analyst as before: the hash token of the opened (plain) name.
        mask_key = load_or_create_secret(data, MASK_KEY_NAME)
        assert hash_token(AUTHOR, "SOCIAL_HANDLE", mask_key) in names, names

    for value in (*ADVISOR.values(), IMPORTED_NOTE, API_NOTE, AUTHOR):
        assert files_with(data, value) == [], value
    assert files_with(data, CID)  # the graph's files were searched

    # An old copy of the graph's files, then the erasure: the copy's notes and the display
    # name of the account the customer confirmed no longer open.
    old = work / "old-graph"
    shutil.copytree(data / "falkordb", old, ignore=shutil.ignore_patterns("*.sock"))
    await cli_run(data, "erase", "--customer", CID, "--reason", "t9", "--by", "po1",
                  "--approved-by", "po2")  # fmt: skip
    crypto = field_crypto(Settings(data_dir=data))
    sealed = set()
    for p in old.rglob("*"):
        if p.is_file():
            text = p.read_bytes().decode("utf-8", "replace")
            sealed |= set(re.findall(re.escape(PREFIX) + r"[A-Za-z0-9+/]+=*", text))
    notes_open = crypto.open_many("Interaction", [(CID, {"summary": v}) for v in sealed])
    assert all(o["summary"] is None for o in notes_open)
    shown = crypto.open_many("SocialAccount", [("weibo:小王理财", {"name": v}) for v in sealed])
    assert all(o["name"] is None for o in shown)
    # The advisor's own key is untouched: their name still opens from the old copy.
    advisor = crypto.open_many("Advisor", [("ADV-EX1", {"name": v}) for v in sealed])
    assert any(o["name"] == ADVISOR["name"] for o in advisor)
