"""A missing or wrong audit key ring never writes: no new ring is made beside an audit log that
holds records, and every writer (the CLI's commands, the hub) checks that its ring opens the
log's last record before its first append. QA finding: with keys/audit-keyring.json deleted,
`c360 token` made a new ring, wrote a record under it and printed a token; with the original
ring put back, `c360 audit verify` said "BROKEN ... ciphertext not authentic" for good. The
same with a wrong key in C360_AUDIT_KEYS, and a hub started without its ring wrote a new one."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from graph.store import GraphStore
from privacy.keyring import KEYRING_FILE, KeyRing, KeyRingError
from tests.faults.ops_hub import UPSERT, Caller, codes, hub_client
from tests.privacy.test_audit_checkpoints import one_line, write_records
from tests.privacy.test_audit_reanchor import c360

TOKEN = ("token", "--sub", "x1", "--role", "service_agent", "--purpose", "service", "--by", "t1")
EXPORT = ("export", "--customer", "C000005", "--by", "po1")


def _snapshot(data: Path) -> tuple[bytes, bytes]:
    """The log and the ring as they are, written with three records."""
    write_records(data, 3)
    return (data / "audit" / "audit.log").read_bytes(), _ring(data).read_bytes()


def _ring(data: Path) -> Path:
    return data / "keys" / KEYRING_FILE


def _random_keys() -> str:
    return "k1:" + base64.b64encode(os.urandom(32)).decode()


@pytest.mark.parametrize("command", [TOKEN, EXPORT], ids=["token", "export"])
def test_no_ring_is_made_beside_a_log_that_holds_records(tmp_path: Path, command: tuple) -> None:
    data = tmp_path / "d"
    log, ring = _snapshot(data)
    _ring(data).unlink()
    code, out = c360(data, *command)
    assert code == 2, out
    text = one_line(out)
    assert text.startswith("error: no audit key ring at"), text
    assert f"restore keys/{KEYRING_FILE} from a backup" in text and "eyJ" not in text, text
    assert not _ring(data).exists()  # nothing was created
    assert (data / "audit" / "audit.log").read_bytes() == log  # nothing was written
    _ring(data).write_bytes(ring)
    assert c360(data, "audit", "verify")[1].startswith("OK 3 records")


def test_the_ring_is_still_made_for_a_new_or_empty_log(tmp_path: Path) -> None:
    data = tmp_path / "d"
    (data / "audit").mkdir(parents=True)
    (data / "audit" / "audit.log").touch()  # a log with no record yet
    KeyRing.load(data)
    assert _ring(data).is_file()
    _ring(data).unlink()
    (data / "audit" / "audit.log").write_text('{"seq": 1}\n')
    with pytest.raises(KeyRingError, match=r"holds records .*: restore keys/audit-keyring\.json"):
        KeyRing.load(data)


@pytest.mark.parametrize("command", [TOKEN, EXPORT], ids=["token", "export"])
def test_a_wrong_ring_from_the_environment_writes_nothing(tmp_path: Path, command: tuple) -> None:
    data = tmp_path / "d"
    log, _ = _snapshot(data)
    code, out = c360(data, *command, env={"C360_AUDIT_KEYS": _random_keys()})
    assert code == 2, out
    text = one_line(out)
    assert "cannot open the audit log's last record (seq 3" in text, text
    assert text.endswith("nothing was done"), text
    assert (data / "audit" / "audit.log").read_bytes() == log
    assert c360(data, "audit", "verify")[1].startswith("OK 3 records")


def test_a_wrong_ring_is_refused_over_a_torn_tail_too(tmp_path: Path) -> None:
    # The torn tail is cut by the first append: the record before it decides.
    data = tmp_path / "d"
    _snapshot(data)
    with (data / "audit" / "audit.log").open("ab") as fh:
        fh.write(b'{"seq": 4, "ts": "torn')
    log = (data / "audit" / "audit.log").read_bytes()
    code, out = c360(data, *TOKEN, env={"C360_AUDIT_KEYS": _random_keys()})
    assert code == 2 and "cannot open the audit log's last record (seq 3" in one_line(out), out
    assert (data / "audit" / "audit.log").read_bytes() == log


def test_a_replaced_ring_file_writes_nothing(tmp_path: Path) -> None:
    # A fresh ring under the same id (a data dir's keys/ mixed up with another's).
    data, other = tmp_path / "d", tmp_path / "other"
    log, ring = _snapshot(data)
    KeyRing.load(other)
    _ring(data).write_bytes(_ring(other).read_bytes())
    code, out = c360(data, *TOKEN)
    assert code == 2 and "cannot open the audit log's last record" in one_line(out), out
    assert (data / "audit" / "audit.log").read_bytes() == log
    _ring(data).write_bytes(ring)
    assert c360(data, "audit", "verify")[1].startswith("OK 3 records")
    assert c360(data, *TOKEN)[0] == 0  # the right ring: a token, audited
    assert c360(data, "audit", "verify")[1].startswith("OK 4 records")


async def test_a_hub_started_without_its_ring_makes_none(store: GraphStore, data_dir: Path) -> None:
    async with hub_client(store, data_dir) as client:
        agent = Caller(client, data_dir, "service_agent", "service")
        assert codes(await agent.gql(UPSERT, {"input": {"id": "g-1", "name": "赵敏"}})) == []
    ring = _ring(data_dir).read_bytes()
    log = (data_dir / "audit" / "audit.log").read_bytes()
    _ring(data_dir).unlink()
    async with hub_client(store, data_dir) as client:
        assert (await client.get("/readyz")).status_code == 503
        agent = Caller(client, data_dir, "service_agent", "service")
        body = await agent.gql(UPSERT, {"input": {"id": "g-2", "name": "赵敏"}})
        assert codes(body) == ["AUDIT_UNAVAILABLE"], body
    assert not _ring(data_dir).exists()
    assert (data_dir / "audit" / "audit.log").read_bytes() == log
    code, out = c360(data_dir, "audit", "verify")
    assert code == 2 and "no audit key ring at" in out and "nothing was created" in out, out
    _ring(data_dir).write_bytes(ring)
    assert c360(data_dir, "audit", "verify")[0] == 0
