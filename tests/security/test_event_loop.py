"""A large legitimate query does not stop /healthz (issue 11, item 1; issue 16).

Against a real `c360 serve --demo` (500 customers): 15 aliases x customers(first: 100) x
transactions(first: 5), within the cost limit, while another thread probes /healthz. The probes
keep answering (the median; long stretches remain, see README Known gaps). Wall-clock bound as
the issue asks: a median over many samples, with a generous margin.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.event_loop import large_query
from privacy.principal import issue_token
from privacy.secrets import load_or_create_secret
from tests.live import free_port, stop, wait_ready


@pytest.fixture(scope="module")
def demo_hub() -> Iterator[tuple[str, Path]]:
    with tempfile.TemporaryDirectory(prefix="c360l-", dir="/tmp") as d:
        data_dir = Path(d) / "data"
        port = free_port()
        log_path = Path(d) / "server.log"
        env = {"C360_DATA_DIR": str(data_dir), "C360_GRAPH_URL": "", "PATH": "/usr/bin:/bin"}
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-c", "from hub.cli import main; main()", "serve", "--demo",
                 "--host", "127.0.0.1", "--port", str(port)],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            url = f"http://127.0.0.1:{port}"
            try:
                wait_ready(url, process, 180.0, log_tail=lambda: log_path.read_text()[-3000:])
                yield url, data_dir
            finally:
                stop(process)


def _probe(url: str, stop: threading.Event, out: list[float]) -> None:
    with httpx.Client(base_url=url, timeout=60) as client:
        while not stop.is_set():
            started = time.perf_counter()
            assert client.get("/healthz").status_code == 200
            out.append(time.perf_counter() - started)
            time.sleep(0.005)


def test_healthz_answers_while_a_large_query_runs(demo_hub: tuple[str, Path]) -> None:
    url, data_dir = demo_hub
    token = issue_token(
        load_or_create_secret(data_dir, "jwt"), "t", ["privacy_officer"], purpose="compliance"
    )
    query = large_query(15)
    with httpx.Client(base_url=url, timeout=120, headers={"Authorization": f"Bearer {token}"}) as c:
        body = c.post("/graphql", json={"query": query}).json()
        assert not body.get("errors"), body.get("errors")
        assert len(body["data"]["a0"]["edges"]) == 100
        assert sum(len(e["node"]["transactions"]["edges"]) for e in body["data"]["a0"]["edges"])
        stop, probes = threading.Event(), []
        prober = threading.Thread(target=_probe, args=(url, stop, probes))
        prober.start()
        took = []
        try:
            for _ in range(3):
                started = time.perf_counter()
                assert c.post("/graphql", json={"query": query}).status_code == 200
                took.append(time.perf_counter() - started)
        finally:
            stop.set()
            prober.join()
    # Each query ran far longer than a probe: the probes saw it running.
    assert len(probes) >= 10 and min(took) > 5 * statistics.median(probes), (took, probes)
    # The issue's measure: the median probe over many samples, with a generous margin. (Single
    # units remain, a page of 100 customers completed in one go: p90 37-44 ms, max 157-257 ms
    # at load 7-9 on this shared machine, against 331-391 / 691-860 ms on main; see
    # docs/benchmarks.md.)
    assert statistics.median(probes) < 0.1, sorted(probes)
