"""An OPA server that accepts connections and never answers: /readyz and the hub log say
"no answer within N s" (they said "unavailable: " and "OPA policy check failed: ", empty)."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from graph.store import GraphStore
from hub.app import READY_PING_S, create_app
from hub.settings import Settings
from privacy.engines.opa import OpaServerEngine
from privacy.policy_set import load_policy_set
from privacy.types import PolicyUnavailable


@pytest.fixture
def silent_opa() -> Iterator[str]:
    """A listening socket nobody accepts on: the kernel completes each connection, and no
    byte ever comes back."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


async def test_readyz_names_the_silence(
    store: GraphStore, data_dir: Path, silent_opa: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="c360")
    # A decision timeout above the probe's own: the probe's wait is what runs out.
    settings = Settings(data_dir=data_dir, opa_url=silent_opa, policy_timeout_s=READY_PING_S + 1)
    app = create_app(settings, store=store)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            ready = await client.get("/readyz")
    assert ready.status_code == 503, ready.text
    assert ready.json() == {"policy": f"unavailable: no answer within {READY_PING_S:g} s"}
    pushed = [r.getMessage() for r in caplog.records if "could not push" in r.getMessage()]
    assert pushed and "no answer within" in pushed[0], pushed
    assert not [r.getMessage() for r in caplog.records if r.getMessage().rstrip().endswith(":")]


async def test_the_periodic_check_names_the_silence(
    silent_opa: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="c360")
    engine = OpaServerEngine(silent_opa, load_policy_set(None), 0.2, check_interval_s=0.05)
    try:
        with pytest.raises(PolicyUnavailable, match=r"no answer within 0\.8 s"):
            await engine.start()
        while not any("policy check failed" in r.getMessage() for r in caplog.records):
            await asyncio.sleep(0.05)
    finally:
        await engine.close()
    checks = [r.getMessage() for r in caplog.records if "policy check failed" in r.getMessage()]
    assert checks[0] == "OPA policy check failed: no answer within 0.2 s", checks
