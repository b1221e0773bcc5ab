"""`c360 audit reanchor`: after a real loss (records a signed checkpoint covers are gone for
good) a privacy officer records it in the audit log and signs a fresh first checkpoint; the
old checkpoint log is kept, and a witness's old checkpoint still shows the loss."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from typer.testing import CliRunner

from hub.cli import app as cli
from privacy.audit import AuditLog
from privacy.audit_checkpoints import Checkpointer, load_signing_key
from privacy.audit_status import AuditChainMonitor
from privacy.keyring import KeyRing
from tests.privacy.test_audit_checkpoints import one_line, write_records


def c360(
    data: Path, *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> tuple[int, str]:
    done = CliRunner().invoke(
        cli, list(args), input=stdin,
        env={"C360_DATA_DIR": str(data), "COLUMNS": "250", **(env or {})},
    )  # fmt: skip
    return done.exit_code, done.output


def signer(data: Path) -> Checkpointer:
    """The hub's signer as `serve` makes it (with the key ring)."""
    return Checkpointer(data / "audit" / "audit.log", load_signing_key(data), every=5,
                        interval_s=60, keyring=KeyRing.load(data))  # fmt: skip


def keep_records(data: Path, n: int) -> None:
    path = data / "audit" / "audit.log"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:n]))


def records(data: Path) -> list[dict[str, Any]]:
    return AuditLog(data / "audit", KeyRing.load(data)).read()


def lost_logs(data: Path) -> list[Path]:
    return sorted((data / "audit").glob("checkpoints.lost-*.jsonl"))


class Witness(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, object]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


def test_reanchor_after_a_cut_log(tmp_path: Path) -> None:
    data = tmp_path / "d"
    running = signer(data)  # the hub's signer, running all along
    write_records(data, 12)
    assert running.tick(0.0) is not None  # checkpoint 12
    cp_log = data / "audit" / "checkpoints.jsonl"
    old_log = cp_log.read_bytes()
    witness_copy = tmp_path / "witness.json"  # the copy a witness holds
    witness_copy.write_bytes(old_log)
    monitor = AuditChainMonitor(  # the hub's auditChain, running all along
        AuditLog(data / "audit", KeyRing.load(data)),
        lambda: load_signing_key(data).public_key(),
        max_age_s=0,
    )

    keep_records(data, 8)  # records 9..12 lost, no backup has them
    write_records(data, 2)  # the hub goes on: 10 records
    code, out = c360(data, "audit", "verify")
    assert code == 1 and "truncated: the checkpoint covers 12 records, the log has 10" in out
    assert "records lost for good: `c360 audit reanchor" in one_line(out), out
    assert running.tick(100.0) is None and running.problem.startswith("truncated"), running.problem
    assert not asyncio.run(monitor.status()).verified

    server = ThreadingHTTPServer(("127.0.0.1", 0), Witness)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/checkpoints"
        witness = {"C360_AUDIT_WITNESS_URL": url}
        code, out = c360(data, "audit", "reanchor", "--reason", "disk lost, ticket 4711",
                         "--actor", "po1", "--yes", env=witness)  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    text = one_line(out)
    assert code == 0, out

    # The old checkpoint log is kept, byte for byte, under a name the output gives.
    [kept] = lost_logs(data)
    assert kept.read_bytes() == old_log
    assert f"The old checkpoint log is kept at {kept} " in text, out
    # The act is in the chain: who, why, the lost checkpoint, the log as it stood.
    last = records(data)[-1]
    assert last["seq"] == 11 and last["operation"] == "audit reanchor", last
    assert last["subject"] == "po1" and last["outcome"] == "ok"
    details = last["details"]["audit_reanchor"]
    lost = json.loads(old_log.decode().splitlines()[-1])
    assert details["reason"] == "disk lost, ticket 4711"
    assert details["lost_checkpoint"] == {k: lost[k] for k in ("size", "root", "key", "time")}
    assert details["log"]["size"] == 10 and len(details["log"]["root"]) == 64
    assert details["old_checkpoint_log"] == f"audit/{kept.name}"
    # A fresh first checkpoint over the log as it stands, the record included.
    [fresh] = [json.loads(x) for x in cp_log.read_text().splitlines()]
    assert (
        fresh["size"] == 11
        and "seq 11 (operation `audit reanchor`, by po1)" in text
        and "Tell whoever holds" in text
    ), out
    assert Witness.received == [fresh]

    code, out = c360(data, "audit", "verify")
    assert code == 0 and "OK 11 records" in out and "OK checkpoint" in out, out
    assert asyncio.run(monitor.status()).verified  # auditChain green, no restart
    # The witness's old checkpoint still shows the loss, and so does the one kept aside.
    for old in (witness_copy, kept):
        code, out = c360(data, "audit", "verify", "--checkpoint", str(old))
        assert code == 1 and "truncated: the checkpoint covers 12 records" in out, out

    # The running signer signs on from the fresh checkpoint at its next attempt, counting
    # from it (not from its own last checkpoint, 12: one record more would not be "new").
    write_records(data, 1)
    cp = running.tick(200.0)
    assert running.problem == "" and cp is not None and cp.size == 12, running.problem
    assert [json.loads(x)["size"] for x in cp_log.read_text().splitlines()] == [11, 12]
    assert c360(data, "audit", "verify")[0] == 0
    restarted = signer(data)
    assert restarted.tick(300.0) is None and restarted.problem == ""


def test_reanchor_is_refused_when_nothing_is_paused(tmp_path: Path) -> None:
    data = tmp_path / "d"
    write_records(data, 6)
    code, out = c360(data, "audit", "reanchor", "--reason", "r", "--yes")
    assert code == 1 and "nothing to re-anchor: there is no checkpoint log" in one_line(out), out

    assert signer(data).tick(0.0) is not None
    cp_log = data / "audit" / "checkpoints.jsonl"
    before_log, before_cp = (data / "audit" / "audit.log").read_bytes(), cp_log.read_bytes()
    code, out = c360(data, "audit", "reanchor", "--reason", "r", "--actor", "po1", "--yes")
    text = one_line(out)
    assert code == 1 and "nothing to re-anchor: the audit log (6 records) extends" in text, out

    # Paused, but for what a re-anchor does not acknowledge: a changed record (the chain is
    # broken), a junk line in the checkpoint log.
    path = data / "audit" / "audit.log"
    entry = json.loads(before_log.split(b"\n")[2])
    entry["ct"] = ("A" if entry["ct"][0] != "A" else "B") + entry["ct"][1:]
    lines = before_log.split(b"\n")
    lines[2] = json.dumps(entry, separators=(",", ":")).encode()
    path.write_bytes(b"\n".join(lines))
    code, out = c360(data, "audit", "reanchor", "--reason", "r", "--actor", "po1", "--yes")
    text = one_line(out)
    assert code == 1 and "checkpoints are paused, but not because" in text, out
    assert "BROKEN at seq 3" in text, out
    path.write_bytes(before_log)
    with cp_log.open("a") as fh:
        fh.write("X\n")
    code, out = c360(data, "audit", "reanchor", "--reason", "r", "--actor", "po1", "--yes")
    text = one_line(out)
    assert code == 1 and "but not because" in text and "line 2 is not a checkpoint" in text, out

    assert path.read_bytes() == before_log  # no record written
    assert cp_log.read_bytes() == before_cp + b"X\n" and lost_logs(data) == []


def test_reanchor_needs_a_reason_and_a_yes(tmp_path: Path) -> None:
    data = tmp_path / "d"
    write_records(data, 6)
    assert signer(data).tick(0.0) is not None
    keep_records(data, 4)
    before = (data / "audit" / "audit.log").read_bytes()
    cp_before = (data / "audit" / "checkpoints.jsonl").read_bytes()

    code, out = c360(data, "audit", "reanchor", "--actor", "po1", "--yes")
    assert code == 2 and "Missing option '--reason'" in out, out
    code, out = c360(data, "audit", "reanchor", "--reason", "  ", "--actor", "po1", "--yes")
    assert code == 2 and "--reason is empty" in out, out
    code, out = c360(data, "audit", "reanchor", "--reason", "r", "--actor", "po1", stdin="n\n")
    assert code == 1 and "truncated: the last signed checkpoint covers 6" in one_line(out), out
    assert "Aborted" in out, out

    assert (data / "audit" / "audit.log").read_bytes() == before  # nothing recorded
    assert (data / "audit" / "checkpoints.jsonl").read_bytes() == cp_before
    assert lost_logs(data) == [] and c360(data, "audit", "verify")[0] == 1
