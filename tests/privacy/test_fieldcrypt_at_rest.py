"""Personal values never reach the data dir in plain text: a CRM import (CLI) and API writes,
then every file under the data dir (the FalkorDB append-only log and snapshot included) is
searched for the phone, ID number, e-mail and name; the privacy officer still reads them."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from hub.app import create_app
from hub.cli import app as cli
from hub.settings import Settings
from ingest.validators import cn_id_checksum
from privacy.principal import issue_token
from privacy.secrets import load_or_create_secret

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "crm"
IMPORTED = {"name": "张伟", "phone": "+8613812345678", "idNumber": "110105198503121234",
            "email": "zhang.wei@example.cn", "address": "北京市朝阳区建国路88号"}  # fmt: skip
ID17 = "44030419920808123"
WRITTEN = {"name": "欧阳娜娜", "phone": "+8613700001111", "idNumber": ID17 + cn_id_checksum(ID17),
           "email": "nana.ouyang@example.cn", "address": "深圳市南山区科技园1号"}  # fmt: skip
ONE = "query($id: ID!) { customer(id: $id) { id name phone idNumber email address } }"
SEARCH = "query($q: String) { customers(search: $q) { totalCount } }"
UPSERT = "mutation($input: CustomerInput!) { upsertCustomer(input: $input) { id } }"


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="c360f-", dir="/tmp"))  # short: the graph's socket
    shutil.copytree(EXAMPLES, path / "crm")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def files_containing(root: Path, needle: str) -> list[str]:
    return [
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink() and needle.encode() in p.read_bytes()
    ]


async def officer_reads(settings: Settings, customer_id: str) -> dict[str, str]:
    app = create_app(settings)
    token = issue_token(
        load_or_create_secret(settings.resolved_data_dir, "jwt"), "po1", ["privacy_officer"],
        purpose="compliance",
    )  # fmt: skip
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as c:
            r = await c.post(
                "/graphql",
                json={"query": ONE, "variables": {"id": customer_id}},
                headers={"Authorization": f"Bearer {token}"},
            )
    body = r.json()
    assert "errors" not in body, body
    return body["data"]["customer"]


async def test_import_and_api_writes_leave_no_plain_value_in_the_data_dir(workdir: Path) -> None:
    data = workdir / "d"
    env = {"C360_DATA_DIR": str(data), "COLUMNS": "200"}
    runner = CliRunner()
    for kind in ("advisors", "customers", "households"):
        args = ["import", kind, str(workdir / "crm" / f"{kind}.csv")]
        done = await asyncio.to_thread(runner.invoke, cli, args, env=env)  # its own event loop
        assert done.exit_code == 0, done.output
    shutil.rmtree(workdir / "crm")  # the source files are not the data dir's business
    settings = Settings(data_dir=data, introspection=False)
    app = create_app(settings)
    token = issue_token(
        load_or_create_secret(data, "jwt"), "sa1", ["service_agent"], purpose="service"
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as c:
            r = await c.post(
                "/graphql",
                json={"query": UPSERT, "variables": {"input": {"id": "C900777", **WRITTEN}}},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert "errors" not in r.json(), r.json()
            # Searches send their text to the graph: none of it may be kept there either.
            officer = issue_token(
                load_or_create_secret(data, "jwt"), "po1", ["privacy_officer"],
                purpose="compliance",
            )  # fmt: skip
            for text in ("13700001111", WRITTEN["idNumber"], WRITTEN["email"], "娜娜"):
                r = await c.post(
                    "/graphql",
                    json={"query": SEARCH, "variables": {"q": text}},
                    headers={"Authorization": f"Bearer {officer}"},
                )
                assert r.json()["data"]["customers"]["totalCount"] == 1, (text, r.json())
            # FalkorDB's query telemetry (now off) kept each query's parameters in a stream,
            # filled by a background pass about once a second, that the snapshot persisted:
            # give that pass time to run, then compact while the server runs.
            await asyncio.sleep(3)
            await (await app.state.graph.get()).compact()

    # The graph's files are there and were searched (ids are not personal values).
    assert any("appendonly" in f or f.endswith(".rdb") for f in files_containing(data, "C900777"))
    for person in (IMPORTED, WRITTEN):
        for field, value in person.items():
            assert files_containing(data, value) == [], f"{field} {value!r} found at rest"
    for text in ("13812345678", "13700001111", "娜娜"):
        assert files_containing(data, text) == [], text
    assert files_containing(data, "张李家庭") == []  # the household, named after its members

    assert await officer_reads(settings, "C900001") == {"id": "C900001", **IMPORTED}
    assert await officer_reads(settings, "C900777") == {"id": "C900777", **WRITTEN}
