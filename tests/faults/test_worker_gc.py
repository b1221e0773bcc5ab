"""A ``serve --workers`` process tunes its garbage collector once started, as ``c360 serve``
does (hub/gc_tuning.py; hub.app.app_from_env is the factory each worker builds).

Runs in a fresh interpreter: the tuning freezes every object alive and sets the process's
thresholds, which must not leak into the test session. The graph URL points at a closed port:
the lifespan starts without a graph (GRAPH_UNAVAILABLE until one answers), which is all this
needs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import asyncio, gc
    from hub.app import app_from_env, create_app
    from hub.gc_tuning import GEN0_THRESHOLD
    from hub.settings import Settings

    async def main(app):
        before = gc.get_threshold()[0], gc.get_freeze_count()
        async with app.router.lifespan_context(app):
            during = gc.get_threshold()[0], gc.get_freeze_count()
        return before, during

    which = __import__("sys").argv[1]
    app = app_from_env() if which == "worker" else create_app(Settings())
    (t0, f0), (t1, f1) = asyncio.run(main(app))
    print(t0 == GEN0_THRESHOLD, f0 > 0, t1 == GEN0_THRESHOLD, f1 > 0)
    """
)


def _run(which: str, data_dir: Path) -> str:
    env = os.environ | {
        "C360_DATA_DIR": str(data_dir),
        "C360_GRAPH_URL": "redis://127.0.0.1:9",  # nothing listens: no graph, quickly
        "C360_GRAPH_START_GRACE_S": "0",
    }
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, which],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_a_worker_process_tunes_its_collector_once_started(tmp_path: Path) -> None:
    assert _run("worker", tmp_path / "w") == "False False True True"


def test_an_app_built_in_process_leaves_the_collector_alone(tmp_path: Path) -> None:
    # Tests and benches build the app in their own interpreter: no freeze behind their back.
    assert _run("app", tmp_path / "a") == "False False False False"
