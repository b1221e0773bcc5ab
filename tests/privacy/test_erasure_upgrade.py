"""Data dirs written by older versions: erasures done before the erasure ledger existed go into
it when the dir is opened (or restored), so the customer stays out of imports, restores and
`erase --reapply`; cancellation lines an older reader would take for erasures are written so
that it refuses them; and a dir a newer c360 marked is refused by this one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hub.cli import app as cli
from privacy.audit import AuditLog
from privacy.erasure_ledger import (
    LEDGER_FILE,
    Cancelled,
    Erased,
    ErasureLedger,
    read_ledger,
    read_records,
)
from privacy.erasure_upgrade import UPGRADE_OPERATION
from privacy.keyring import KeyRing
from shared.dataformat import FORMAT, FORMAT_FILE
from shared.hub_id import HUB_ID_FILE
from shared.settings import DataDirError
from tests.privacy.test_erasure_backups import has_key, not_found
from tests.privacy.test_erasure_ledger_safety import c360, request_id
from tests.privacy.test_subject_requests import CID, EXAMPLES, imported

# The fields of a request as e977530 (the last version before the ledger) wrote them, and of
# its "erased" summary.
OLD_REQUEST = ("id", "customer_id", "reason", "proposer", "created_at", "status", "approver",
               "done_at", "erased")  # fmt: skip
OLD_ERASED = ("customer_id", "fields", "key_destroyed", "households_erased", "households_left",
              "interactions_deleted", "accounts_unlinked", "social_accounts_unlinked",
              "relations_removed")  # fmt: skip


@pytest.fixture
def root() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="c360u-", dir="/tmp"))  # short: the graph's socket
    shutil.copytree(EXAMPLES, path / "crm")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def as_before_the_ledger(data: Path) -> None:
    """Leave ``data`` as e977530's erasure left it: the node and the data key gone, the
    request done in erasure-requests.json (its fields only), no ledger, no hub id, no format
    marker."""
    for name in (LEDGER_FILE, HUB_ID_FILE, FORMAT_FILE):
        (data / name).unlink(missing_ok=True)
    path = data / "erasure-requests.json"
    doc = json.loads(path.read_text())
    old: list[dict[str, Any]] = []
    for r in doc["requests"]:
        request = {k: r[k] for k in OLD_REQUEST}
        request["erased"] = {k: r["erased"][k] for k in OLD_ERASED}
        old.append(request)
    path.write_text(json.dumps({"requests": old}, indent=1))


async def test_an_erasure_done_before_the_ledger_stays_done_after_an_upgrade(root: Path) -> None:
    data = root / "d"
    await imported(data)
    older = root / "older.c360bak"
    await c360(data, "backup", "--to", str(older))
    out = await c360(data, "erase", "--customer", CID, "--reason", "t", "--by", "po1",
                     "--approved-by", "po2")  # fmt: skip
    rid = request_id(out)
    as_before_the_ledger(data)
    assert not has_key(data, f"Customer:{CID}")

    # The older backup restored beside the upgraded live dir: its migrated entry names no hub
    # (the dir had none), so the restore asks first; told it is this hub's, the customer is
    # erased again.
    r1 = root / "r1"
    out = " ".join((await c360(data, "restore", str(older), "--to", str(r1), code=2)).split())
    assert "cannot be tied to this hub" in out and "nothing was restored" in out, out
    out = await c360(data, "restore", str(older), "--to", str(r1), "--untied-erasures", "apply")
    assert "erased again in the restored dir: 1" in out and CID in out, out
    assert not has_key(r1, f"Customer:{CID}")
    await not_found(r1)

    # The live dir's ledger now holds the request, as an approval writes it, marked migrated.
    (entry,) = read_ledger(data / LEDGER_FILE)
    assert (entry.customer_id, entry.request, entry.migrated) == (CID, rid, True)
    assert entry.entry and entry.at
    ring = KeyRing.load(data)
    records = AuditLog(data / "audit", ring).read(customer=CID)
    upgrades = [r for r in records if r["operation"] == UPGRADE_OPERATION]
    assert [r["details"]["erasure_ledger_upgrade"]["requests"] for r in upgrades] == [[rid]]
    assert AuditLog(data / "audit", ring).verify().ok
    marker = json.loads((data / FORMAT_FILE).read_text())
    assert marker["format"] == FORMAT

    # Opened again (any command): nothing is added twice.
    await c360(data, "erase", "--list", "--status", "all")
    assert len(read_records(data / LEDGER_FILE)) == 1

    # The import guard keeps the customer out.
    done = await c360(data, "import", "customers", str(root / "crm" / "customers.csv"), "--json")
    assert json.loads(done[done.index("{") :])["erased"] == 1, done
    await not_found(data)


async def test_reapply_on_a_dir_from_before_the_ledger_knows_its_erasures(root: Path) -> None:
    """`c360 erase --reapply` on such a dir (a restored archive of it, its files put in place
    by hand) finds the done request: the entry names no hub (the dir has no hub id, as an
    archive from before hub ids), so every restore applies it."""
    data = root / "d"
    await imported(data)
    out = await c360(data, "erase", "--customer", CID, "--reason", "t", "--by", "po1",
                     "--approved-by", "po2")  # fmt: skip
    rid = request_id(out)
    as_before_the_ledger(data)
    out = await c360(data, "erase", "--reapply")
    assert "1 erased customers in the ledgers" in out, out
    (entry,) = read_ledger(data / LEDGER_FILE)
    assert (entry.request, entry.migrated, entry.hub) == (rid, True, "")


def test_a_cancellation_is_no_erasure_to_an_older_reader(tmp_path: Path) -> None:
    """4f53eb3's reader takes every line with a ``customer_id`` for an erasure and skips a
    last line that does not parse as one (a torn append). A cancelled entry must make it
    refuse the ledger, not erase the customer."""
    ledger = ErasureLedger(tmp_path)
    ledger.record(Erased.of(CID, [], "er-1", []))
    assert ledger.cancel("er-1", CID) == 1
    path = tmp_path / LEDGER_FILE
    lines = path.read_text().splitlines()
    cancels = [json.loads(x) for x in lines if x.strip() and "cancelled" in json.loads(x)]
    assert cancels and all("customer_id" not in c for c in cancels)
    assert all(c["cancelled_customer"] == CID for c in cancels)
    # What such a reader does with each line (4f53eb3 privacy/erasure_ledger.read_ledger).
    refused = False
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if "customer_id" not in json.loads(line) and n != len(lines):
            refused = True  # "line n is not an erasure ledger entry"
    assert refused
    assert read_ledger(path) == []  # and this version reads it as a cancellation


def test_a_cancellation_in_the_old_form_is_still_honoured(tmp_path: Path) -> None:
    path = tmp_path / LEDGER_FILE
    entry = {"customer_id": CID, "households": [], "request": "er-2", "entry": "e1"}
    old = {"cancelled": "er-2", "customer_id": CID, "entries": ["e1"], "at": ""}
    path.write_text(json.dumps(entry) + "\n" + json.dumps(old) + "\n")
    assert read_ledger(path) == []
    assert isinstance(read_records(path)[-1], Cancelled)


async def test_a_data_dir_of_a_newer_version_is_refused(root: Path) -> None:
    data = root / "d"
    await c360(data, "erase", "--list")
    assert json.loads((data / FORMAT_FILE).read_text())["format"] == FORMAT
    (data / FORMAT_FILE).write_text(json.dumps({"format": FORMAT + 1, "written_by": "9.9.9"}))
    said = f"has format {FORMAT + 1}, written by c360 9.9.9, and this c360"
    env = {"C360_DATA_DIR": str(data), "C360_AUDIT_KEYS": "", "C360_ERASURE_LEDGER": "",
           "COLUMNS": "300"}  # fmt: skip
    for args in (["erase", "--list"], ["audit", "verify"], ["keys", "status"]):
        done = CliRunner().invoke(cli, args, env=env)
        assert isinstance(done.exception, DataDirError), done.output
        assert said in str(done.exception) and f"knows formats up to {FORMAT}" in str(
            done.exception
        )
    # The installed command: one sentence, exit 2, no traceback.
    run = subprocess.run(
        [str(Path(sys.executable).with_name("c360")), "erase", "--list"],
        env={**os.environ, **env}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 2 and said in run.stderr and "Traceback" not in run.stderr
