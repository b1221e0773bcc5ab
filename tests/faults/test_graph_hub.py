"""kill -9 of a `c360 serve` hub in the middle of writes: after a restart every acknowledged
write is there, and one graph server runs for the data dir."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from graph.connect import open_store
from tests.faults.graph_support import Hub, redis_servers, upsert, wait_for, writer_token
from tests.live import free_port

WRITERS = 4


async def test_kill9_hub_mid_write_keeps_acknowledged_writes(short_dir: Path) -> None:
    data_dir = short_dir / "data"
    data_dir.mkdir()
    sock = data_dir / "falkordb" / "falkordb.sock"
    token = writer_token(data_dir)
    hub = Hub(data_dir, free_port())  # a fixed port fails when another hub holds it
    hub.start()
    acked: list[str] = []
    stop = threading.Event()

    def write(name: str) -> None:
        with httpx.Client() as client:
            n = 0
            while not stop.is_set():
                customer_id = f"{name}-{n}"
                n += 1
                if upsert(client, hub.url, token, customer_id) == "ok":
                    acked.append(customer_id)

    try:
        hub.wait_ready()
        threads = [threading.Thread(target=write, args=(f"h{i}",)) for i in range(WRITERS)]
        for t in threads:
            t.start()
        wait_for(lambda: len(acked) >= 100, 60, "100 acknowledged writes")
        hub.kill()  # SIGKILL, mid-write
        stop.set()
        for t in threads:
            t.join()
        # The orphaned child shuts down cleanly (it gets SIGTERM when its owner dies).
        wait_for(lambda: not redis_servers(sock), 30, "the orphaned graph server to exit")
        hub.start()
        seconds = hub.wait_ready()
        print(f"hub ready {seconds:.2f}s after restart; {len(acked)} writes acknowledged")
        assert len(redis_servers(sock)) == 1
    finally:
        stop.set()
        hub.stop()
    assert redis_servers(sock) == []
    store = await open_store(data_dir)
    try:
        rows = await store.read(
            "UNWIND $ids AS id MATCH (c:Customer {id: id}) RETURN count(c) AS n", {"ids": acked}
        )
    finally:
        await store.close()
    assert rows[0]["n"] == len(acked), "acknowledged writes lost"
