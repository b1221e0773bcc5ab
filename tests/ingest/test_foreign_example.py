"""The README's worked example, run as written: the commands of its bash block through the CLI,
then its 360 query through the ASGI app; both compared with the outputs the README shows."""

from __future__ import annotations

import asyncio
import re
import shlex
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from graph.connect import store_session
from hub.app import create_app
from hub.cli import app
from hub.settings import Settings
from privacy.principal import issue_token
from privacy.secrets import load_or_create_secret

ROOT = Path(__file__).resolve().parents[2]
SECTION = (
    ROOT.joinpath("README.md")
    .read_text(encoding="utf-8")
    .split("<!-- foreign-example:commands -->")[1]
)


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def _tables(output: str) -> list[dict[str, str]]:
    """The summary tables of an output as {figure: value} (dead-letter paths as file names)."""
    tables: list[dict[str, str]] = []
    for line in output.splitlines():
        if line.startswith("┌"):
            tables.append({})
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if line.startswith("│") and len(cells) == 2:
            key, value = cells
            tables[-1][key] = Path(value).name if key == "dead letters" else value
    return tables


@pytest.fixture
def workdir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="c360f-", dir="/tmp"))  # short: FalkorDB's unix socket
    shutil.copytree(ROOT / "examples" / "foreign", path / "examples" / "foreign")
    monkeypatch.chdir(path)
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def test_readme_worked_example_runs_as_written(workdir: Path) -> None:
    commands = _blocks(SECTION, "bash")[0].strip().splitlines()
    shown_output, shown_json = _blocks(SECTION, "text")[0], _blocks(SECTION, "json")[0]
    data_dir = workdir / "d"  # stands for /tmp/berka
    env = {"C360_DATA_DIR": str(data_dir), "COLUMNS": "100"}
    output = ""
    runner = CliRunner()
    for line in commands:
        words = shlex.split(line)
        if words[0] == "export":
            continue
        if words[0] == "cat":
            output += workdir.joinpath(words[1]).read_text(encoding="utf-8")
            continue
        assert words[:2] == ["c360", "import"], line
        # The CLI runs its own event loop: give it a thread of its own.
        result = await asyncio.to_thread(runner.invoke, app, [*words[1:], "--no-progress"], env=env)
        assert result.exit_code == 0, result.output
        output += result.output
    assert _tables(output) == _tables(shown_output)
    dead_letter = shown_output.strip().splitlines()[-1]
    assert orjson.loads(output.strip().splitlines()[-1]) == orjson.loads(dead_letter)

    # The query of the README's curl line, against the imported graph, as of 1998-12-31.
    request = SECTION.split("<<'JSON'\n")[1].split("\nJSON")[0]
    settings = Settings(data_dir=data_dir, as_of=date(1998, 12, 31), introspection=False)
    token = issue_token(
        load_or_create_secret(data_dir, "jwt"), "po-1", ["privacy_officer"],
        purpose="compliance", ttl=timedelta(hours=1),
    )  # fmt: skip
    async with store_session(data_dir) as store:
        hub = create_app(settings, store=store)
        async with hub.router.lifespan_context(hub):
            transport = httpx.ASGITransport(app=hub)
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                response = await client.post(
                    "/graphql",
                    content=request,
                    headers={"Authorization": f"Bearer {token}",
                             "Content-Type": "application/json"},
                )  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json() == orjson.loads(shown_json)
    k2, k6 = response.json()["data"]["k2"], response.json()["data"]["k6"]
    assert (k2["gender"], k2["birthDate"], k2["lifecycleStage"], k2["today"]) == (
        "M", "1945-02-04", "LOYAL", "CHURNED",
    )  # fmt: skip
    assert (k6["totalAssets"], k6["segment"], k6["accounts"][0]["balance"]) == (None, None, None)
