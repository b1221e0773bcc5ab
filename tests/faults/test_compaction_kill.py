"""Log compaction whose rewrite process is killed (attacker findings, item 7): the error says
what failed, in the graph server's words, instead of guessing "disk full?"."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

from graph.embedded import EmbeddedFalkorDB
from graph.errors import GraphUnavailable
from graph.falkordb import FalkorDBStore, rewrite_failure


def _children(pid: int) -> list[int]:
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]


async def _kill_the_rewrite(server: int) -> int | None:
    """SIGKILL the server's forked rewrite process as soon as it appears."""
    while True:
        children = _children(server)
        if children:
            os.kill(children[0], signal.SIGKILL)
            return children[0]
        await asyncio.sleep(0.0005)


async def _compact_with_the_rewrite_killed(
    store: FalkorDBStore, server: int
) -> GraphUnavailable | None:
    """One compaction with its rewrite process killed; None when the rewrite finished first
    (a busy machine: the watcher saw it too late)."""
    killer = asyncio.create_task(_kill_the_rewrite(server))
    try:
        await store.compact()
    except GraphUnavailable as exc:
        return exc
    finally:
        killer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await killer
    return None


async def test_a_killed_compaction_says_what_failed(short_dir: Path) -> None:
    embedded = EmbeddedFalkorDB(short_dir)
    store = await asyncio.to_thread(FalkorDBStore.embedded, embedded)
    try:
        server = embedded.server_pid()
        assert server is not None
        failed = None
        for _ in range(5):
            # Enough log that its rewrite usually outlives the watcher's first look.
            for _ in range(20):
                await store.write("UNWIND range(1, 20000) AS i CREATE (:Filler {n: i, s: 'x'})")
            failed = await _compact_with_the_rewrite_killed(store, server)
            if failed is not None:
                break
        assert failed is not None, "the rewrite always finished before it could be killed"
        message = str(failed)
        assert "log compaction failed" in message
        assert "terminated by signal 9" in message and "disk full" not in message
        # The graph itself is fine, and the next compaction goes through.
        await store.compact()
    finally:
        await store.close()


def test_the_reason_is_the_servers_last_rewrite_line(tmp_path: Path) -> None:
    log = tmp_path / "falkordb.log"
    log.write_text(
        "1:M 30 Nov 2026 19:32:24.758 * Background AOF rewrite finished successfully\n"
        "1:M 30 Nov 2026 19:32:25.561 * Background append only file rewriting started by pid 9\n"
        "1:M 30 Nov 2026 19:32:25.662 # Background AOF rewrite terminated by signal 9\n"
    )
    assert rewrite_failure(log) == "Background AOF rewrite terminated by signal 9"
    log.write_text("1:M 30 Nov 2026 19:32:24.758 * Background AOF rewrite finished successfully\n")
    assert rewrite_failure(log) is None
    assert rewrite_failure(tmp_path / "missing.log") is None
