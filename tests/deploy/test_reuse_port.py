"""`c360 serve --workers N` listens with a socket per worker (hub/cli/reuse_port.py); the port
must still be refused while anything else listens on it, as uvicorn's own bind refuses it."""

from __future__ import annotations

import pickle
import socket

import pytest

from hub.cli.reuse_port import listener, supported

pytestmark = pytest.mark.skipif(not supported(), reason="SO_REUSEPORT balancing is Linux's")


def test_a_second_hub_on_the_same_port_is_refused() -> None:
    first = listener("127.0.0.1", 0)
    try:
        port = first.getsockname()[1]
        # A worker's socket is what the supervisor's unpickles as: it listens.
        worker = pickle.loads(pickle.dumps(first))
        worker.listen()
        try:
            with pytest.raises(OSError, match="in use"):
                listener("127.0.0.1", port)
        finally:
            worker.close()
    finally:
        first.close()


def test_a_port_held_by_another_program_is_refused() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        with pytest.raises(OSError, match="in use"):
            listener("127.0.0.1", other.getsockname()[1])


def test_workers_share_the_port_the_supervisor_bound() -> None:
    first = listener("127.0.0.1", 0)
    try:
        workers = [pickle.loads(pickle.dumps(first)) for _ in range(2)]
        for w in workers:
            w.listen()
        assert {w.getsockname() for w in workers} == {first.getsockname()}
        for w in workers:
            w.close()
    finally:
        first.close()
