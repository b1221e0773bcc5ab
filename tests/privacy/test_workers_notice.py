"""What one process of a data dir changes, every other process (``c360 serve --workers N``,
the CLI beside a running hub) notices before its next use: the active policy, destroyed data
keys, the audit key and the cursor-seal key. Each test runs two instances over one data dir,
as two processes hold them: nothing in memory is shared between them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from privacy.engines import EmbeddedEngine
from privacy.policy_admin import PolicyAdmin
from privacy.policy_set import load_policy_set
from privacy.services import PrivacyServices
from privacy.types import PolicyUnavailable, Principal, Resource

ANALYST = Principal("ma1", ("marketing_analyst",), "marketing")
CONSENTED = Resource("Customer", "C000001", {"consentMarketing": True})


def _worker(data_dir: Path) -> PrivacyServices:
    """One hub process's privacy services, as hub/services.py opens them."""
    engine = EmbeddedEngine(load_policy_set(data_dir))
    admin = PolicyAdmin(engine, data_dir, two_person=False, test_timeout_s=120)
    return PrivacyServices(engine=engine, audit=None, hmac_key=b"k" * 32, admin=admin)


async def test_a_policy_change_reaches_the_other_workers(data_dir: Path) -> None:
    first, second = _worker(data_dir), _worker(data_dir)
    before = await second.decide(ANALYST, "read", [CONSENTED])
    assert before["C000001"].mode_for("ADDRESS") == "partial"  # kept in second's cache too

    data = load_policy_set(data_dir).data
    data["c360"]["tables"]["mask_profiles"]["marketing"]["ADDRESS"] = "redact"
    assert first.admin is not None
    report = await first.admin.put_policy("data", json.dumps(data))
    assert report.activated

    for worker in (first, second):
        after = await worker.decide(ANALYST, "read", [CONSENTED])
        assert after["C000001"].mode_for("ADDRESS") == "redact"
        assert worker.revision == report.new_revision


async def test_a_policy_that_cannot_be_loaded_fails_closed(data_dir: Path) -> None:
    """A change the other worker cannot load is not answered under the old policy."""
    first, second = _worker(data_dir), _worker(data_dir)
    data = load_policy_set(data_dir).data
    data["c360"]["tables"]["mask_profiles"]["marketing"]["ADDRESS"] = "redact"
    assert first.admin is not None
    await first.admin.put_policy("data", json.dumps(data))
    (data_dir / "policies" / "data.json").write_text("[]")  # damaged after the approval
    for _ in range(2):  # and stays refused until it loads
        with pytest.raises(PolicyUnavailable, match="cannot be loaded"):
            await second.decide(ANALYST, "read", [CONSENTED])
