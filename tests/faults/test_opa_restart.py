"""An OPA server restarted empty gets the hub's policies again, by a decision or by the
periodic check, without restarting the hub. Against the OPA stand-in, really restarted."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from privacy.engines.opa import OpaServerEngine
from privacy.policy_admin import PolicyAdmin
from privacy.policy_set import load_policy_set
from privacy.types import Principal, Resource
from tests.standins.opa_server import OpaState, build_app

OFFICER = Principal("po1", ("privacy_officer",), "compliance")
CUSTOMER = [Resource("Customer", "C1", {"advisorId": "A1", "branchId": "B1"})]


class RestartableOpa:
    """The stand-in on one port; ``restart()`` stops it and starts an empty one there."""

    def __init__(self) -> None:
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.state = OpaState()

    def start(self) -> None:
        self.state = OpaState()
        config = uvicorn.Config(
            build_app(self.state), host="127.0.0.1", port=self.port, log_level="warning",
            lifespan="off",
        )  # fmt: skip
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        for _ in range(500):
            if self._server.started:
                return
            threading.Event().wait(0.01)
        raise RuntimeError("the OPA stand-in did not start")

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def opa() -> Iterator[RestartableOpa]:
    server = RestartableOpa()
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_a_decision_after_an_empty_restart_pushes_the_policies_again(
    opa: RestartableOpa,
) -> None:
    engine = OpaServerEngine(opa.url, load_policy_set(None), check_interval_s=0)
    try:
        await engine.start()
        assert (await engine.decide(OFFICER, "read", CUSTOMER))["C1"].allow
        opa.restart()
        assert opa.state.policies == {}
        decided = await engine.decide(OFFICER, "read", CUSTOMER)
        assert decided["C1"].allow
        assert engine.pushes == 2
        assert set(opa.state.policies) == set(load_policy_set(None).decision_modules)
    finally:
        await engine.close()


async def test_the_periodic_check_pushes_to_an_empty_opa_without_any_request(
    opa: RestartableOpa,
) -> None:
    policy_set = load_policy_set(None)
    engine = OpaServerEngine(opa.url, policy_set, check_interval_s=0.2)
    try:
        await engine.start()
        assert await engine.loaded_revision() == policy_set.revision
        opa.restart()
        for _ in range(100):  # a bound, not a timing assertion
            if "hub_revision" in opa.state.data.get("c360", {}):  # pushed last
                break
            await asyncio.sleep(0.1)
        assert await engine.loaded_revision() == policy_set.revision
        assert engine.pushes == 2
    finally:
        await engine.close()


async def test_the_check_leaves_an_opa_holding_this_revision_alone(opa: RestartableOpa) -> None:
    engine = OpaServerEngine(opa.url, load_policy_set(None), check_interval_s=0)
    try:
        await engine.start()
        assert await engine.check() is False
        assert engine.pushes == 1
    finally:
        await engine.close()


async def test_a_worker_behind_an_approval_does_not_push_the_old_policy_back(
    opa: RestartableOpa, tmp_path: Path
) -> None:
    """Two hub workers share one OPA: the one that approved pushes the new policy; the other,
    whose periodic check then finds OPA holding another revision, loads the newest from the
    data dir instead of pushing its own older one back over it."""
    first = OpaServerEngine(opa.url, load_policy_set(tmp_path), check_interval_s=0)
    second = OpaServerEngine(opa.url, load_policy_set(tmp_path), check_interval_s=0)
    approver = PolicyAdmin(first, tmp_path, two_person=False, test_timeout_s=120)
    PolicyAdmin(second, tmp_path, two_person=False, test_timeout_s=120)
    try:
        await first.start()
        await second.start()
        data = load_policy_set(tmp_path).data
        data["c360"]["tables"]["mask_profiles"]["marketing"]["ADDRESS"] = "redact"
        report = await approver.put_policy("data", json.dumps(data))
        assert report.activated and await first.loaded_revision() == report.new_revision

        assert not await second.check()  # nothing pushed: it took the newer one
        assert second.revision == report.new_revision
        assert await second.loaded_revision() == report.new_revision
    finally:
        await first.close()
        await second.close()
