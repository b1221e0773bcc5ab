"""Request ids the hub makes (hub/middleware/request_log.py): unique, also across forked
workers (the generator is seeded once per process, so a fork must reseed it)."""

from __future__ import annotations

import os

from hub.middleware.request_log import request_id_from


def test_ids_are_unique_and_a_forked_child_draws_its_own() -> None:
    ids = {request_id_from(None) for _ in range(10_000)}
    assert len(ids) == 10_000
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, then out without running the parent's cleanup
        os.write(write, request_id_from(None).encode())
        os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    assert status == 0
    assert len(child) == 32
    assert child != request_id_from(None)
