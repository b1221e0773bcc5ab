"""What one process of a data dir changes, every other process (``c360 serve --workers N``,
the CLI beside a running hub) notices before its next use: the active policy, destroyed data
keys, the audit key and the cursor-seal key. Each test runs two instances over one data dir,
as two processes hold them: nothing in memory is shared between them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from privacy.datakeys import DataKeyStore, erasure_signal
from privacy.engines import EmbeddedEngine
from privacy.keyprovider import LocalKeyFileProvider
from privacy.policy_admin import PolicyAdmin
from privacy.policy_set import load_policy_set
from privacy.secrets import SECRETS_DIR, load_or_create_secret
from privacy.services import PrivacyServices
from privacy.types import PolicyUnavailable, Principal, Resource
from resolvers.errors import BadUserInput
from resolvers.pagination import CURSOR_KEY_NAME, CursorSeal

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


def test_a_key_destroyed_elsewhere_opens_nothing_here(data_dir: Path) -> None:
    """The data key one process destroys (approveErasure on another worker, `c360 erase` beside
    a running hub) is not served from another process's cache of unwrapped keys."""
    hub, eraser = _key_store(data_dir), _key_store(data_dir)
    owner, other = "customer:C000001", "customer:C000002"
    made = hub.get_or_create_many([owner, other])
    assert eraser.get_many([owner]) == {owner: made[owner]}
    assert hub.get_many([owner, other]) == made  # now in the hub's cache

    assert eraser.destroy(owner)
    assert hub.get_many([owner, other]) == {other: made[other]}
    assert eraser.get_many([owner]) == {}


def _key_store(data_dir: Path) -> DataKeyStore:
    return DataKeyStore.in_data_dir(data_dir, LocalKeyFileProvider.in_data_dir(data_dir))


def test_an_erasure_rekeys_the_cursor_seal_everywhere(data_dir: Path) -> None:
    """A sealed customers cursor (it carries a name) given out before an erasure opens in no
    process after it, nor with the data dir's key files: the seal's key follows the erasure
    signal. One given after opens in every process."""
    key = load_or_create_secret(data_dir, CURSOR_KEY_NAME)
    signal = data_dir / SECRETS_DIR
    first, second = CursorSeal(key, erasure_signal(signal)), CursorSeal(key, erasure_signal(signal))
    bound = "customers|NAME|ma1"
    before = first.seal(bound, "李四光", "C000001")
    assert second.open(before, 2, bound, ttl_s=3600) == ("李四光", "C000001")

    _key_store(data_dir).destroy("customer:C000001")
    for seal in (first, second, CursorSeal(key, erasure_signal(signal))):
        with pytest.raises(BadUserInput, match="start again from the first page"):
            seal.open(before, 2, bound, ttl_s=3600)
    after = second.seal(bound, "王五", "C000002")
    assert first.open(after, 2, bound, ttl_s=3600) == ("王五", "C000002")
