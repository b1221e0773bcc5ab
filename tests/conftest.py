"""Session fixtures: one real embedded FalkorDB for the whole run, emptied per test."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from graph.connect import open_store
from graph.fieldcipher import PLAIN, attach_cipher, cipher_of
from graph.store import GraphStore
from hub.services import field_crypto
from hub.settings import Settings
from tests import live

if os.environ.get("PYTEST_XDIST_WORKER"):
    # An xdist worker starts with COLUMNS=80 and LINES=24 in its environment, which the serial
    # run has not: the CLI's rich consoles (made on import, hub/cli/consoles.py) would fix
    # their width at 80 and ignore the COLUMNS a test's CliRunner env gives, so long messages
    # would wrap mid-phrase. Without them the worker sizes its output as a serial run does.
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)


@pytest.fixture(scope="session")
def session_data_dir() -> Iterator[Path]:
    # Short path: the FalkorDB unix socket lives inside and sun_path is 108 bytes.
    with tempfile.TemporaryDirectory(prefix="c360t-", dir="/tmp") as d:
        yield Path(d)


@pytest.fixture(scope="session")
async def session_store(session_data_dir: Path) -> AsyncIterator[GraphStore]:
    store = await open_store(session_data_dir, os.environ.get("C360_TEST_GRAPH_URL", ""))
    yield store
    await store.close()


@pytest.fixture
async def store(session_store: GraphStore) -> GraphStore:
    """The session's real graph, empty and without field encryption at the start of each test
    (a test that sealed it and did not undo that would seal the next test's rows: which test
    that is depends on the order, and on the worker under xdist)."""
    await session_store.clear()
    attach_cipher(session_store, PLAIN)
    return session_store


@pytest.fixture
async def sealed_store(store: GraphStore, data_dir: Path) -> AsyncIterator[GraphStore]:
    """The session graph with field encryption on (keys in a private data dir)."""
    before = cipher_of(store)
    attach_cipher(store, field_crypto(Settings(data_dir=data_dir)))
    yield store
    attach_cipher(store, before)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A private data dir for tests that need their own keys/audit files (not the graph)."""
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A short temp dir for a data dir whose graph server runs inside it: the server's unix
    socket path is limited to 107 bytes, which pytest's tmp_path (a long test name, a high
    pytest-N counter) can pass."""
    d = Path(tempfile.mkdtemp(prefix="c360-", dir="/tmp"))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def free_port() -> int:
    """A local TCP port nothing listens on (bound then released)."""
    return live.free_port()
