"""A changed audit record makes the reads that come upon it fail with a clear error naming its
seq (GraphQL AUDIT_RECORD_UNREADABLE, the CLI one sentence, exit 2), never a bare InvalidTag
(INTERNAL_SERVER_ERROR, a Python traceback), and never a trail with a silent hole in it.
QA finding: one flipped base64 character in record 500's ``ct`` and the index rebuilt (as after
every restore) made `auditEvents`, `customerExport`, `c360 export` and `c360 audit show` fail
with InvalidTag."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from privacy.audit import AuditLog, AuditRecordUnreadable, make_record
from privacy.audit_index import INDEX_NAME
from privacy.keyring import KeyRing
from tests.api.test_privacy_access import _flip_ct
from tests.privacy.test_audit_checkpoints import one_line
from tests.privacy.test_audit_reanchor import c360
from tests.privacy.test_subject_requests import (
    CID,
    EXAMPLES,
    EXPORT,
    ONE,
    Officer,
    hub,
    imported,
)

AUDIT_EVENTS = "{ auditEvents(first: 2) { totalCount edges { node { seq operation } } } }"


def _damage(data: Path, seq: int) -> None:
    """Flip a bit of record ``seq``'s ciphertext and drop the index (a restore drops it too)."""
    path = data / "audit" / "audit.log"
    lines = path.read_bytes().split(b"\n")[:-1]
    path.write_bytes(b"\n".join(_flip_ct(lines, seq - 1)) + b"\n")
    for index in (data / "audit").glob(INDEX_NAME + "*"):
        index.unlink()


def _write(data: Path, n: int) -> AuditLog:
    log = AuditLog(data / "audit", KeyRing.load(data))

    async def go() -> None:
        for i in range(n):
            customers = {f"C{i % 3}": {"revealed": ["name"], "masked": []}}
            await log.append(
                make_record(principal=None, operation=f"op{i}", outcome="ok", customers=customers)
            )

    asyncio.run(go())
    log.close()
    return log


def test_reads_name_the_damaged_record(tmp_path: Path) -> None:
    data = tmp_path / "d"
    _write(data, 9)
    _damage(data, 5)
    log = AuditLog(data / "audit", KeyRing.load(data))
    for read in (
        lambda: log.query(limit=2),  # the index cannot be rebuilt: the scan comes upon it
        lambda: log.read(customer="C1"),
        log.read,
        log.reindex,
    ):
        with pytest.raises(AuditRecordUnreadable, match=r"seq 5 .*run `c360 audit verify`"):
            read()
    code, out = c360(data, "audit", "show", "--last", "2")
    assert code == 2 and "Traceback" not in out, out
    assert one_line(out).startswith("error: audit record seq 5 cannot be read"), out
    assert one_line(out).endswith("nothing was shown"), out
    code, out = c360(data, "audit", "reindex")
    assert code == 2 and "seq 5" in out and "not rebuilt" in out, out
    code, out = c360(data, "audit", "verify")
    assert code == 1 and "BROKEN at seq 5" in out, out


def test_a_page_through_an_intact_index_names_it_too(tmp_path: Path) -> None:
    data = tmp_path / "d"
    log = _write(data, 6)
    assert [r["seq"] for r in log.query(limit=2)[0]] == [6, 5]  # the index is built
    path = data / "audit" / "audit.log"
    lines = path.read_bytes().split(b"\n")[:-1]
    path.write_bytes(b"\n".join(_flip_ct(lines, 4)) + b"\n")  # same length: the index holds
    assert [r["seq"] for r in log.query(limit=1)[0]] == [6]
    with pytest.raises(AuditRecordUnreadable, match="seq 5"):
        log.query(limit=2)
    log.close()


async def test_the_api_and_the_export_name_the_damaged_record(data: Path) -> None:
    await imported(data)
    async with hub(data) as c:
        po1 = Officer(c, data, "po1")
        for _ in range(3):
            assert "errors" not in await po1.gql(ONE, id=CID)
    records = (data / "audit" / "audit.log").read_bytes().count(b"\n")
    bad = records - 1  # one a read of CID wrote, not the last (the hub checks that one)
    _damage(data, bad)
    async with hub(data) as c:
        po1 = Officer(c, data, "po1")
        for query, variables in ((AUDIT_EVENTS, {}), (EXPORT, {"id": CID})):
            body = await po1.gql(query, **variables)
            assert body["data"] is None, body
            (error,) = body["errors"]
            assert error["extensions"]["code"] == "AUDIT_RECORD_UNREADABLE", body
            assert f"audit record seq {bad} cannot be read" in error["message"], body
            assert "c360 audit verify" in error["message"], body
    # In a thread: the command runs its own event loop.
    code, out = await asyncio.to_thread(c360, data, "export", "--customer", CID, "--by", "po1")
    assert code == 2 and "Traceback" not in out, out
    text = one_line(out)
    assert text.startswith(f"error: audit record seq {bad} cannot be read"), text
    assert text.endswith("nothing was exported") and "张伟" not in text, text
    exported = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert exported == []


@pytest.fixture
def data() -> Iterator[Path]:
    # Short: the graph server's socket lives in the data dir (as in test_subject_requests).
    path = Path(tempfile.mkdtemp(prefix="c360u-", dir="/tmp"))
    shutil.copytree(EXAMPLES, path / "crm")
    yield path / "d"
    shutil.rmtree(path, ignore_errors=True)
