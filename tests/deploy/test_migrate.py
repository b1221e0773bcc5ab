"""`c360 migrate` between two embedded FalkorDB graphs (each data dir its own server), and
the clear failure when the target is a Neo4j URL where no server listens."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph.connect import store_session
from graph.errors import GraphUnavailable
from graph.migrate import count_graph, migrate_graph, node_pages
from graph.store import NATURAL_KEYS, GraphStore
from hub.cli import app
from hub.cli.common import graph
from hub.settings import Settings
from tests.contract.small_graph import EXPECTED_COUNTS, build_small_graph

ENV = {"COLUMNS": "200", "NO_COLOR": "1"}


@pytest.fixture
def dirs() -> Iterator[tuple[Path, Path]]:
    # Short paths: each embedded FalkorDB's unix socket lives inside its data dir.
    with (
        tempfile.TemporaryDirectory(prefix="c360a-", dir="/tmp") as a,
        tempfile.TemporaryDirectory(prefix="c360b-", dir="/tmp") as b,
    ):
        yield Path(a), Path(b)


async def _all_props(store: GraphStore) -> dict[str, list[dict[str, object]]]:
    return {
        label: [row async for page in node_pages(store, label, 100) for row in page]
        for label in NATURAL_KEYS
    }


async def test_migrate_copies_everything_and_rerunning_adds_nothing(
    dirs: tuple[Path, Path],
) -> None:
    async with store_session(dirs[0]) as source, store_session(dirs[1]) as target:
        await build_small_graph(source)
        report = await migrate_graph(source, target, batch_size=2)
        assert report.ok, report.mismatches
        assert await count_graph(target) == EXPECTED_COUNTS
        assert await _all_props(target) == await _all_props(source)

        again = await migrate_graph(source, target, batch_size=1000)
        assert again.ok
        assert await count_graph(target) == EXPECTED_COUNTS


async def test_a_target_with_other_data_is_reported(dirs: tuple[Path, Path]) -> None:
    async with store_session(dirs[0]) as source, store_session(dirs[1]) as target:
        await build_small_graph(source)
        await target.write("MERGE (c:Customer {id: 'ONLY-IN-TARGET'})")
        report = await migrate_graph(source, target)
        assert [(r.name, r.source, r.target) for r in report.mismatches] == [("Customer", 3, 4)]


def _build(data_dir: Path) -> None:
    async def build() -> None:
        async with store_session(data_dir) as store:
            await build_small_graph(store)

    asyncio.run(build())


def test_cli_migrates_between_data_dirs(dirs: tuple[Path, Path]) -> None:
    _build(dirs[0])
    args = ["migrate", "--from", str(dirs[0]), "--to", str(dirs[1]), "--batch-size", "3"]
    result = CliRunner().invoke(app, args, env=ENV)
    assert result.exit_code == 0, result.output
    assert "every count matches" in result.output
    assert "(:Post)-[:MENTIONS]->(:Brand)" in result.output


def test_cli_refuses_a_source_that_is_not_a_data_dir(dirs: tuple[Path, Path]) -> None:
    args = ["migrate", "--from", str(dirs[0] / "nope"), "--to", str(dirs[1])]
    result = CliRunner().invoke(app, args, env=ENV)
    assert result.exit_code == 2
    assert "no embedded graph" in result.output


def test_graph_url_selects_neo4j_and_no_server_is_one_clear_sentence(
    dirs: tuple[Path, Path], free_port: int
) -> None:
    _build(dirs[0])
    url = f"bolt://127.0.0.1:{free_port}"
    env = ENV | {"C360_GRAPH_URL": url, "C360_DATA_DIR": str(dirs[0])}
    result = CliRunner().invoke(app, ["migrate"], env=env)
    assert result.exit_code == 2, result.output
    assert f"the graph is unreachable: {url} is unreachable" in result.output
    assert "Check C360_GRAPH_URL" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


async def test_open_store_on_a_missing_neo4j_fails_fast(data_dir: Path, free_port: int) -> None:
    settings = Settings(graph_url=f"neo4j://127.0.0.1:{free_port}", data_dir=data_dir)
    with pytest.raises(GraphUnavailable, match=r"neo4j://127\.0\.0\.1:\d+ is unreachable"):
        async with graph(settings) as store:
            pytest.fail(f"opened {store!r} with no server there")
