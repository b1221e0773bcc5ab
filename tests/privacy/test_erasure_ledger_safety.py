"""What a restore must not erase, and the keys it audits with: an approval that failed on a
ledger mirror (then rejected) erases nobody on a restore; another hub's ledger is not applied
to this hub's customers; the `reapply erasures` records go under the archived hub's own audit
key ring, whatever C360_AUDIT_KEYS the shell holds, and the restored chain verifies."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app as cli
from privacy.audit import AuditLog
from privacy.erasure import ErasureStore
from privacy.erasure_ledger import (
    LEDGER_FILE,
    Cancelled,
    Erased,
    ErasureLedger,
    LedgerError,
    merge,
    read_ledger,
    read_records,
)
from privacy.keyring import KEYRING_FILE, KeyRing
from shared.hub_id import HUB_ID_FILE, hub_id, read_hub_id
from tests.privacy.test_erasure_backups import PASSPHRASE, has_key
from tests.privacy.test_subject_requests import (
    CID,
    EXAMPLES,
    PROPOSE,
    REJECT,
    Officer,
    hub,
    imported,
)

UNWRITABLE = "/proc/nope/ledger.jsonl"  # a directory nobody can create


@pytest.fixture
def root() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="c360l-", dir="/tmp"))  # short: the graph's socket
    shutil.copytree(EXAMPLES, path / "crm")
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def c360(data: Path, *args: str, code: int = 0, **env: str) -> str:
    full = {"C360_DATA_DIR": str(data), "COLUMNS": "200", "C360_BACKUP_PASSPHRASE": PASSPHRASE,
            "C360_ERASURE_LEDGER": "", "C360_AUDIT_KEYS": "", **env}  # fmt: skip
    done = await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=full)
    assert done.exit_code == code, done.output
    return done.output


def request_id(out: str) -> str:
    found = re.search(r"erasure request (er-[0-9a-f]+)", out)
    assert found is not None, out
    return found.group(1)


def env_keys(data: Path) -> str:
    """The data dir's audit key ring as a C360_AUDIT_KEYS value (active key first)."""
    doc = json.loads((data / "keys" / KEYRING_FILE).read_text())
    order = [doc["active"], *(k for k in doc["keys"] if k != doc["active"])]
    return ",".join(f"{kid}:{doc['keys'][kid]}" for kid in order)


def other_keys() -> str:
    """Another hub's C360_AUDIT_KEYS: its key is named k1 too."""
    return f"k1:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def test_an_entry_cancelled_in_one_ledger_is_cancelled_in_all(tmp_path: Path) -> None:
    """A backup taken between an entry's write and its cancellation holds the entry; the live
    ledger's cancellation still wins. A later approval of the same request writes a new
    entry, which no earlier cancellation names."""
    live = tmp_path / "live"
    ledger = ErasureLedger(live)
    first = ledger.record(Erased.of(CID, ["H1"], "er-1", []))
    archived = tmp_path / "archived.jsonl"
    shutil.copy(live / LEDGER_FILE, archived)
    assert ledger.cancel("er-1", CID) == 1
    assert merge([read_records(archived), read_records(live / LEDGER_FILE)]) == []
    assert ledger.entries() == [] and ledger.cancel("er-1", CID) == 0  # nothing left to cancel
    again = ledger.record(Erased.of(CID, ["H1"], "er-1", []))
    assert again.entry != first.entry and again.hub == read_hub_id(live)
    assert [e.entry for e in merge([read_records(archived), read_records(live / LEDGER_FILE)])] == [
        again.entry
    ]


def test_a_ledger_line_written_before_entry_ids_is_cancelled_by_its_request(
    tmp_path: Path,
) -> None:
    path = tmp_path / LEDGER_FILE
    path.write_text(json.dumps({"customer_id": CID, "households": [], "request": "er-9"}) + "\n")
    assert [e.customer_id for e in read_ledger(path)] == [CID]
    assert ErasureLedger(tmp_path).cancel("er-9", CID) == 1
    assert read_ledger(path) == []
    assert isinstance(read_records(path)[-1], Cancelled)


async def test_a_failed_then_rejected_erasure_erases_nobody_on_a_restore(root: Path) -> None:
    data = root / "d"
    await imported(data)
    out = await c360(data, "erase", "--customer", CID, "--reason", "t", "--by", "po1",
                     "--approved-by", "po2", code=2, C360_ERASURE_LEDGER=UNWRITABLE)  # fmt: skip
    assert "cannot be written" in out and "nothing was erased" in out
    assert "could not be cancelled" not in out
    rid = request_id(out)
    # Failed, not yet rejected (pending again): the ledgers erase nobody.
    out = await c360(data, "erase", "--reapply")
    assert "0 erased customers in the ledgers; erased again: 0" in out
    assert has_key(data, f"Customer:{CID}")
    out = await c360(data, "erase", "--reject", rid, "--by", "po2", "--reason", "retention")
    assert "rejected" in out

    archive = root / "b.c360bak"
    await c360(data, "backup", "--to", str(archive))
    restored = root / "new"
    out = await c360(data, "restore", str(archive), "--to", str(restored))
    assert "erased again" not in out
    assert has_key(restored, f"Customer:{CID}")
    out = await c360(restored, "erase", "--reapply", "--erasures", str(data / LEDGER_FILE))
    assert "erased again: 0" in out
    assert has_key(restored, f"Customer:{CID}")
    # The data dir's ledger got the entry (written first) and its cancellation.
    records = read_records(data / LEDGER_FILE)
    assert [type(r) for r in records] == [Erased, Cancelled]
    assert read_ledger(data / LEDGER_FILE) == []


async def test_rejecting_cancels_an_entry_a_failed_approval_left(root: Path) -> None:
    """An approval's cancellation that could not be written (the entry left in the data dir's
    ledger): rejecting the request cancels it."""
    data = root / "d"
    await imported(data)
    out = await c360(data, "erase", "--customer", CID, "--reason", "t", "--by", "po1")
    rid = request_id(out)
    left = ErasureLedger(data).record(Erased.of(CID, [], rid, []))  # as a failed run leaves it
    assert [e.entry for e in read_ledger(data / LEDGER_FILE)] == [left.entry]
    await c360(data, "erase", "--reject", rid, "--by", "po2", "--reason", "retention")
    assert read_ledger(data / LEDGER_FILE) == []
    out = await c360(data, "erase", "--reapply")
    assert "0 erased customers in the ledgers; erased again: 0" in out
    assert has_key(data, f"Customer:{CID}")


async def test_a_cancellation_torn_mid_write_still_counts_and_doctor_says_so(root: Path) -> None:
    """A crash while a reject's cancellation is appended leaves its last line torn. It is not
    honoured (fail closed: the entry an officer approved still counts), but no longer
    silently: doctor names the request and what to do, and says it again once the next
    append has cut the torn line off (the entry counts while its request is pending)."""
    data = root / "d"
    data.mkdir()
    rid = ErasureStore(data).propose(CID, "ticket 1", "po1").id
    left = ErasureLedger(data).record(Erased.of(CID, [], rid, []))  # a failed approval's
    path = data / LEDGER_FILE
    whole = json.dumps({"cancelled": rid, "cancelled_customer": CID, "entries": [left.entry]})
    with path.open("a") as f:
        f.write(whole[: len(whole) // 2])  # the crash
    assert [e.entry for e in read_ledger(path)] == [left.entry]

    out = await c360(data, "doctor", code=1)
    flat = " ".join(out.split())
    assert f"ends (line 2) in a cancellation of request {rid} cut off mid-write" in flat, out
    assert f"reject or withdraw request {rid} again" in flat
    assert f"the entry of request {rid} (customer {CID}) counts" in flat
    out = " ".join((await c360(data, "erase", "--reapply")).split())  # as a restore does
    assert "1 erased customers in the ledgers" in out and f"request {rid} cut off" in out, out

    ErasureLedger(data).record(Erased.of("C000999", [], "er-other", []))  # cuts the torn line
    assert "cut off mid-write" not in " ".join((await c360(data, "doctor", code=1)).split())
    assert f"the entry of request {rid} (customer {CID}) counts" in " ".join(
        (await c360(data, "doctor", code=1)).split()
    )
    await c360(data, "erase", "--reject", rid, "--by", "po2", "--reason", "retention")
    assert [e.request for e in read_ledger(path)] == ["er-other"]
    assert "erasure ledgers: nothing in doubt" in await c360(data, "doctor")


async def test_another_hubs_ledger_is_not_applied(root: Path) -> None:
    hub_a, hub_b = root / "a", root / "b"
    await imported(hub_a)
    archive = root / "a.c360bak"
    await c360(hub_a, "backup", "--to", str(archive))
    assert read_hub_id(hub_a) is not None  # the backup gave hub A its id
    # Hub B erased its own customer with the same id.
    ErasureLedger(hub_b).record(Erased.of(CID, [], "er-b", []))
    assert read_hub_id(hub_b) not in (None, read_hub_id(hub_a))

    restored = root / "new"
    out = await c360(hub_b, "restore", str(archive), "--to", str(restored))
    assert "erasure ledger entries of another hub skipped: 1" in out and CID in out
    assert "erased again in the restored dir" not in out
    assert has_key(restored, f"Customer:{CID}")
    assert (restored / HUB_ID_FILE).read_text() == (hub_a / HUB_ID_FILE).read_text()
    # Told to, it applies them.
    ledger_b = str(hub_b / LEDGER_FILE)
    out = await c360(restored, "erase", "--reapply", "--erasures", ledger_b, "--any-hub")
    assert "erased again: 1" in out
    assert not has_key(restored, f"Customer:{CID}")

    # Hub A's own later erasure, from its live ledger, is applied.
    await c360(hub_a, "erase", "--customer", CID, "--reason", "t", "--by", "po1",
               "--approved-by", "po2")  # fmt: skip
    again = root / "again"
    out = await c360(hub_a, "restore", str(archive), "--to", str(again))
    assert "erased again in the restored dir: 1" in out and "another hub" not in out
    assert not has_key(again, f"Customer:{CID}")


async def test_entries_no_hub_id_ties_to_this_hub_are_asked_about(root: Path) -> None:
    """Session 21: an entry that names no hub (migrated from a data dir that had no hub id,
    or written before hub ids) was applied by any hub's restore, erasing another hub's
    customer of the same id. Now the restore refuses before restoring anything, says why and
    what to run; --untied-erasures skip leaves them out (listed), apply erases them."""
    hub_a, hub_b = root / "a", root / "b"
    await imported(hub_a)
    archive = root / "a.c360bak"
    await c360(hub_a, "backup", "--to", str(archive))
    # Hub B, without a hub id, erased its own customer of the same id before the ledger
    # existed; its upgrade wrote the entry naming no hub.
    hub_b.mkdir()
    migrated = replace(Erased.of(CID, [], "er-b", []), migrated=True)
    ErasureLedger(hub_b).record(migrated, as_is=True)
    assert read_hub_id(hub_b) is None

    restored = root / "new"
    out = " ".join(
        (await c360(hub_b, "restore", str(archive), "--to", str(restored), code=2)).split()
    )
    ledger_b = hub_b / LEDGER_FILE
    assert f"1 erasure ledger entries cannot be tied to this hub ({CID} in {ledger_b})" in out
    assert f"this hub is {read_hub_id(hub_a)}" in out and "nothing was restored" in out
    assert "run the restore again with --untied-erasures apply" in out
    assert "--untied-erasures skip" in out
    assert not restored.exists() or not any(restored.iterdir())

    out = await c360(hub_b, "restore", str(archive), "--to", str(restored),
                     "--untied-erasures", "skip")  # fmt: skip
    out = " ".join(out.split())
    assert f"no hub id ties to this hub skipped (--untied-erasures skip): 1 ({CID})" in out, out
    assert "erased again in the restored dir" not in out
    assert has_key(restored, f"Customer:{CID}")
    # A reapply asks too; told they are this hub's, it erases them.
    out = await c360(restored, "erase", "--reapply", "--erasures", str(ledger_b), code=2)
    assert "cannot be tied to this hub" in out and has_key(restored, f"Customer:{CID}")
    out = await c360(restored, "erase", "--reapply", "--erasures", str(ledger_b),
                     "--untied-erasures", "apply")  # fmt: skip
    assert "erased again: 1" in out
    assert not has_key(restored, f"Customer:{CID}")


async def audited(data: Path, **env: str) -> None:
    """Imported, and an audited decision (a withdrawn request): an audit log and key ring."""
    await imported(data)
    out = await c360(data, "erase", "--customer", CID, "--reason", "t", "--by", "po1", **env)
    await c360(data, "erase", "--withdraw", request_id(out), "--by", "po1", **env)
    assert (data / "audit" / "audit.log").stat().st_size


async def erased_after_backup(root: Path) -> tuple[Path, Path]:
    """A data dir whose customer CID was erased after the backup returned."""
    data = root / "d"
    await audited(data)
    archive = root / "old.c360bak"
    await c360(data, "backup", "--to", str(archive))
    await c360(data, "erase", "--customer", CID, "--reason", "t", "--by", "po1",
               "--approved-by", "po2")  # fmt: skip
    return data, archive


async def test_restore_audits_with_the_archives_own_key_ring(root: Path) -> None:
    """C360_AUDIT_KEYS left set in the shell (another ring, key k1 too) is not what the
    restored log was written with: the restore appends under the archive's own ring."""
    data, archive = await erased_after_backup(root)
    restored = root / "new"
    out = await c360(data, "restore", str(archive), "--to", str(restored),
                     C360_AUDIT_KEYS=other_keys())  # fmt: skip
    assert "erased again in the restored dir: 1" in out
    assert "run the restored hub without C360_AUDIT_KEYS" in out
    log = AuditLog(restored / "audit", KeyRing.load(restored))
    assert log.verify().ok
    assert [r["operation"] for r in log.read(customer=CID)][-1] == "reapply erasures"


async def test_restore_of_a_hub_that_kept_its_audit_keys_in_the_environment(
    root: Path,
) -> None:
    data = root / "d"
    await audited(data)
    keys = env_keys(data)  # the hub moves its ring into C360_AUDIT_KEYS
    (data / "keys" / KEYRING_FILE).unlink()
    archive = root / "old.c360bak"
    await c360(data, "backup", "--to", str(archive), C360_AUDIT_KEYS=keys)
    await c360(data, "erase", "--customer", CID, "--reason", "t", "--by", "po1",
               "--approved-by", "po2", C360_AUDIT_KEYS=keys)  # fmt: skip

    # Without its keys (none set, or another hub's): refused, nothing put in place.
    for wrong in ("", other_keys()):
        target = root / f"refused{len(wrong)}"
        out = await c360(data, "restore", str(archive), "--to", str(target), code=2,
                         C360_AUDIT_KEYS=wrong)  # fmt: skip
        assert "Set C360_AUDIT_KEYS to that hub's keys" in out and "nothing was restored" in out
        assert not target.exists() or list(target.iterdir()) == []

    restored = root / "new"
    out = await c360(data, "restore", str(archive), "--to", str(restored), C360_AUDIT_KEYS=keys)
    assert "erased again in the restored dir: 1" in out
    assert "run the restored hub with the same C360_AUDIT_KEYS" in out
    assert not (restored / "keys" / KEYRING_FILE).exists()
    assert AuditLog(restored / "audit", KeyRing.from_env(keys)).verify().ok


async def test_rejecting_through_the_api_cancels_the_entry_in_the_mirrors_too(root: Path) -> None:
    """What a failed approval left in a mirror (its cancellation unwritten) must not erase the
    customer on a later restore from that mirror: rejectErasure cancels it there too."""
    data, mirror = root / "d", root / "mirror" / "ledger.jsonl"
    mirror.parent.mkdir()
    await imported(data)
    async with hub(data, erasure_ledger=str(mirror)) as c:
        po1, po2 = Officer(c, data, "po1"), Officer(c, data, "po2")
        rid = (await po1.gql(PROPOSE, id=CID, reason="t1"))["data"]["proposeErasure"]["id"]
        left = ErasureLedger(data, [mirror]).record(Erased.of(CID, [], rid, []))
        assert [e.entry for e in read_ledger(mirror)] == [left.entry]
        rejected = await po2.gql(REJECT, rid=rid, reason="retention: open loan")
        assert rejected["data"]["rejectErasure"]["status"] == "rejected", rejected
    assert read_ledger(data / LEDGER_FILE) == [] and read_ledger(mirror) == []


def test_a_rebuilt_data_dir_still_refuses_ids_its_mirror_names(root: Path) -> None:
    """The data dir was lost and rebuilt (a new hub id); the mirror kept outside it names the
    old hub. The import and upsertCustomer guards must still refuse those ids."""
    lost, rebuilt, mirror = root / "lost", root / "rebuilt", root / "mirror.jsonl"
    lost.mkdir()
    rebuilt.mkdir()
    ErasureLedger(lost, [mirror]).record(Erased.of(CID, [], "er-1", []))
    ledger = ErasureLedger(rebuilt, [mirror])
    assert hub_id(rebuilt) != read_hub_id(lost)  # the rebuilt dir has its own id
    assert [e.customer_id for e in ledger.entries()] == [CID]


def test_a_reject_is_refused_while_a_mirror_cannot_be_reached(root: Path) -> None:
    data, mirror = root / "d", root / "mnt" / "ledger.jsonl"
    data.mkdir()
    mirror.parent.mkdir()
    ErasureLedger(data, [mirror]).record(Erased.of(CID, [], "er-1", []))
    ErasureLedger(data).cancel("er-1", CID)  # the data dir's entry cancelled, the mirror's not
    mirror.rename(root / "elsewhere.jsonl")
    mirror.parent.rmdir()  # unmounted
    with pytest.raises(LedgerError, match="cannot be reached"):
        ErasureLedger(data, [mirror]).cancel("er-1", CID)
