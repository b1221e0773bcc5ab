"""Signed Merkle checkpoints over the audit log: truncation and an insider's re-chain (key ring
in hand, chain verify passes) are both caught; proofs check with the standalone script."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import math
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from typer.testing import CliRunner

from hub.cli import app as cli
from hub.services import sign_checkpoints
from privacy.audit import AuditLog, chain_hash, make_record
from privacy.audit_checkpoints import Checkpointer, load_signing_key
from privacy.audit_status import AuditChainMonitor
from privacy.keyring import KeyRing

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "bench" / "verify_audit_proof.py"


def write_records(data: Path, n: int) -> None:
    log = AuditLog(data / "audit", KeyRing.load(data))

    async def go() -> None:
        for i in range(n):
            await log.append(make_record(principal=None, operation=f"op{i}", outcome="ok"))

    asyncio.run(go())


def c360(data: Path, *args: str) -> tuple[int, str]:
    done = CliRunner().invoke(cli, list(args), env={"C360_DATA_DIR": str(data), "COLUMNS": "200"})
    return done.exit_code, done.output


def one_line(text: str) -> str:
    return " ".join(text.split())


def rechain_as_insider(data: Path, seq: int) -> None:
    """Change record ``seq``'s operation with the audit key and rebuild the hash chain."""
    path = data / "audit" / "audit.log"
    ring = KeyRing.load(data)
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    prev = lines[seq - 2]["hash"] if seq > 1 else "0" * 64
    for entry in lines[seq - 1 :]:
        key = AESGCM(ring.key(entry["kid"]))
        nonce = base64.b64decode(entry["nonce"])
        plain = orjson.loads(key.decrypt(nonce, base64.b64decode(entry["ct"]),
                                         f"{entry['seq']}:{entry['prev']}".encode()))  # fmt: skip
        if entry["seq"] == seq:
            plain["operation"] = "nothing to see"
        ct = key.encrypt(nonce, orjson.dumps(plain, option=orjson.OPT_SORT_KEYS),
                         f"{entry['seq']}:{prev}".encode())  # fmt: skip
        entry["ct"], entry["prev"] = base64.b64encode(ct).decode(), prev
        entry["hash"] = chain_hash(prev, entry["seq"], entry["ts"], entry["kid"],
                                   entry["nonce"], entry["ct"])  # fmt: skip
        prev = entry["hash"]
    path.write_text("".join(json.dumps(e, separators=(",", ":")) + "\n" for e in lines))


def rehash_last_record_without_the_key(data: Path) -> None:
    """Change the last record's ciphertext and recompute its hash (no key needed for that):
    only its encryption shows it."""
    path = data / "audit" / "audit.log"
    lines = path.read_text().splitlines()
    entry = json.loads(lines[-1])
    entry["ct"] = ("A" if entry["ct"][0] != "A" else "B") + entry["ct"][1:]
    entry["hash"] = chain_hash(entry["prev"], entry["seq"], entry["ts"], entry["kid"],
                               entry["nonce"], entry["ct"])  # fmt: skip
    lines[-1] = json.dumps(entry, separators=(",", ":"))
    path.write_text("".join(f"{x}\n" for x in lines))


def test_truncation_and_insider_rechain_are_caught(tmp_path: Path) -> None:
    data = tmp_path / "d"
    write_records(data, 12)
    code, out = c360(data, "audit", "checkpoint")
    assert code == 0, out
    witness = tmp_path / "witness.json"  # the checkpoint kept somewhere else
    witness.write_text(out)
    code, key_hex = c360(data, "audit", "public-key")
    key_hex = key_hex.strip()
    write_records(data, 3)  # the log goes on after the checkpoint
    code, out = c360(data, "audit", "verify", "--checkpoint", str(witness))
    assert code == 0 and "OK 15 records" in out and "OK checkpoint" in out, out

    cut = tmp_path / "cut"
    shutil.copytree(data, cut)
    log = cut / "audit" / "audit.log"
    log.write_text("".join(log.read_text().splitlines(keepends=True)[:9]))  # last 6 gone
    assert AuditLog(cut / "audit", KeyRing.load(cut)).verify().ok  # the chain alone: fine
    code, out = c360(cut, "audit", "verify", "--checkpoint", str(witness), "--public-key", key_hex)
    assert code == 1 and "truncated" in out, out
    # Without --checkpoint the data dir's own checkpoints are checked (security finding: a
    # cut tail verified OK).
    code, out = c360(cut, "audit", "verify")
    assert code == 1 and "OK 9 records" in out and "truncated" in out, out

    insider = tmp_path / "insider"
    shutil.copytree(data, insider)
    rechain_as_insider(insider, 5)
    assert AuditLog(insider / "audit", KeyRing.load(insider)).verify().ok  # re-chained
    code, out = c360(insider, "audit", "verify", "--checkpoint", str(witness))
    assert code == 1 and "rewritten" in out, out

    # A checkpoint re-signed with another key is refused. The hub's own command, with a new
    # key, still checks the old key's last checkpoint against the log: it does not sign over
    # the rewritten log, so the forger has to drop the checkpoint log first.
    forged = tmp_path / "forged"
    shutil.copytree(insider, forged)
    (forged / "keys" / "audit-signing.key").unlink()
    code, out = c360(forged, "audit", "checkpoint")
    assert code == 1 and "no checkpoint signed: rewritten" in one_line(out), out
    (forged / "audit" / "checkpoints.jsonl").unlink()
    assert c360(forged, "audit", "checkpoint")[0] == 0
    resigned = str(forged / "audit" / "checkpoints.jsonl")
    code, out = c360(forged, "audit", "verify", "--checkpoint", resigned, "--public-key", key_hex)
    assert code == 1 and "signature does not verify" in out, out


def test_inclusion_and_consistency_proofs_check_with_the_standalone_script(
    tmp_path: Path,
) -> None:
    data = tmp_path / "d"
    write_records(data, 11)
    assert c360(data, "audit", "checkpoint")[0] == 0
    key_hex = c360(data, "audit", "public-key")[1].strip()
    code, out = c360(data, "audit", "prove", "--seq", "7")
    assert code == 0, out
    proof = tmp_path / "proof.json"
    proof.write_text(out)

    def check(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(VERIFIER), str(path), *extra],
                              capture_output=True, text=True, check=False)  # fmt: skip

    ok = check(proof, "--public-key", key_hex)
    assert ok.returncode == 0 and "OK record 7" in ok.stdout, ok.stdout + ok.stderr
    bad = json.loads(out)
    bad["line"] = bad["line"].replace('"seq":7', '"seq":7 ')
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    assert check(tmp_path / "bad.json", "--public-key", key_hex).returncode == 1
    other = load_signing_key(tmp_path / "elsewhere").public_key().public_bytes_raw().hex()
    assert check(proof, "--public-key", other).returncode == 1

    code, out = c360(data, "audit", "prove", "--consistency", "4", "11")
    assert code == 0, out
    (tmp_path / "cons.json").write_text(out)
    cons = check(tmp_path / "cons.json")
    assert cons.returncode == 0 and "OK 4 records are a prefix of 11" in cons.stdout


def test_the_hub_signs_every_n_records(tmp_path: Path) -> None:
    data = tmp_path / "d"
    signer = Checkpointer(data / "audit" / "audit.log", load_signing_key(data), every=5,
                          interval_s=3600)  # fmt: skip
    write_records(data, 4)
    assert signer.tick(0.0) is None  # 4 < 5 and not due by time
    write_records(data, 2)
    cp = signer.tick(1.0)
    assert cp is not None and cp.size == 6
    write_records(data, 1)
    assert signer.tick(2.0) is None
    assert signer.tick(4000.0) is not None  # the interval passed with a record pending
    lines = (data / "audit" / "checkpoints.jsonl").read_text().splitlines()
    assert [json.loads(x)["size"] for x in lines] == [6, 7]


def test_checkpoints_are_posted_to_a_witness(tmp_path: Path) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[dict[str, object]] = []

    class Witness(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Witness)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        data = tmp_path / "d"
        url = f"http://127.0.0.1:{server.server_address[1]}/checkpoints"
        signer = Checkpointer(data / "audit" / "audit.log", load_signing_key(data), every=2,
                              witness_url=url)  # fmt: skip
        write_records(data, 3)
        cp = signer.tick(0.0)
        assert cp is not None and received == [cp.__dict__]
    finally:
        server.shutdown()
        server.server_close()


# --- the hub does not sign over a log that does not extend its last checkpoint ----------------
# QA: a log cut from 1758 to 1700 records, then grown past 1758, was re-signed by the hub
# (size 1765), after which `audit verify` and auditChain said OK; a flipped byte in record 10
# was signed over too. Each case runs the hub's signer as it is after a restart (a new
# Checkpointer) and as it runs (the one that signed before the change).


def _signer(data: Path) -> Checkpointer:
    return Checkpointer(data / "audit" / "audit.log", load_signing_key(data), every=5,
                        interval_s=60, keyring=KeyRing.load(data))  # fmt: skip


def _checkpoint_lines(data: Path) -> list[str]:
    return (data / "audit" / "checkpoints.jsonl").read_text().splitlines()


def _chain_problems(data: Path) -> tuple[str, ...]:
    log = AuditLog(data / "audit", KeyRing.load(data))
    key = load_signing_key(data)
    status = asyncio.run(AuditChainMonitor(log, lambda: key.public_key()).status())
    assert not status.verified
    return status.problems


def _keep_records(data: Path, n: int) -> None:
    path = data / "audit" / "audit.log"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:n]))


def test_no_checkpoint_over_a_log_cut_below_the_last_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "d"
    running = _signer(data)
    write_records(data, 12)
    assert running.tick(0.0) is not None  # checkpoint 12
    signed = _checkpoint_lines(data)
    _keep_records(data, 8)  # records 9..12 removed
    restarted = _signer(data)
    with caplog.at_level(logging.ERROR, "c360.audit"):
        assert restarted.tick(100.0) is None
    assert restarted.problem.startswith("truncated: the last signed checkpoint covers 12")
    assert "checkpoints paused" in caplog.text and "truncated" in caplog.text

    write_records(data, 10)  # the log grows past the checkpoint again (18 records)
    for signer in (running, restarted, _signer(data)):
        caplog.clear()
        with caplog.at_level(logging.ERROR, "c360.audit"):
            assert signer.tick(1000.0) is None
            assert signer.tick(math.inf) is None  # the last one at shutdown too
        assert signer.problem.startswith("rewritten: the log's first 12 records"), signer.problem
        assert "checkpoint not signed" in caplog.text
    assert _checkpoint_lines(data) == signed  # nothing signed, nothing for a witness
    # Reported still: the CLI and the API.
    code, out = c360(data, "audit", "verify")
    assert code == 1 and "rewritten: the first 12 records" in out, out
    assert any("rewritten" in p for p in _chain_problems(data))
    code, out = c360(data, "audit", "checkpoint")
    assert code == 1 and "no checkpoint signed: rewritten" in one_line(out), out
    assert _checkpoint_lines(data) == signed


def test_no_checkpoint_over_a_changed_record_before_the_last_one(tmp_path: Path) -> None:
    data = tmp_path / "d"
    running = _signer(data)
    write_records(data, 12)
    assert running.tick(0.0) is not None  # checkpoint 12
    signed = _checkpoint_lines(data)
    path = data / "audit" / "audit.log"
    authentic = path.read_bytes()
    lines = authentic.split(b"\n")
    entry = json.loads(lines[9])
    entry["ct"] = ("A" if entry["ct"][0] != "A" else "B") + entry["ct"][1:]  # same length
    lines[9] = json.dumps(entry, separators=(",", ":")).encode()
    path.write_bytes(b"\n".join(lines))
    write_records(data, 6)

    restarted = _signer(data)
    assert restarted.tick(100.0) is None
    assert restarted.problem.startswith("BROKEN at seq 10: hash does not match"), restarted.problem
    assert _checkpoint_lines(data) == signed
    code, out = c360(data, "audit", "verify")
    assert code == 1 and "BROKEN at seq 10" in out, out
    assert _chain_problems(data)[0].startswith("BROKEN at seq 10")

    # The running signer had read record 10 before it changed: what it signs is the tree it
    # read, so its checkpoint fails the changed log and fits the authentic one.
    assert running.tick(100.0) is not None
    assert c360(data, "audit", "verify")[0] == 1
    path.write_bytes(authentic + path.read_bytes()[len(authentic) :])
    code, out = c360(data, "audit", "verify")
    assert code == 0 and "OK 18 records" in out and "OK checkpoint" in out, out
    # Restored: the restarted signer signs again.
    write_records(data, 5)
    assert restarted.tick(1000.0) is not None and restarted.problem == ""


def test_a_junk_line_in_the_checkpoint_log_is_a_failed_check(tmp_path: Path) -> None:
    data = tmp_path / "d"
    signer = _signer(data)
    write_records(data, 6)
    assert signer.tick(0.0) is not None
    cp_log = data / "audit" / "checkpoints.jsonl"
    with cp_log.open("a") as fh:
        fh.write("X\n")
    damaged = cp_log.read_text()
    code, out = c360(data, "audit", "verify")
    out = one_line(out)
    assert code == 1 and "checkpoints.jsonl line 2 is not a checkpoint" in out, out
    assert "Restore the file from a copy" in out and "remove that line" in out, out
    assert "checkpoints.jsonl line 2" in _chain_problems(data)[0]
    log = AuditLog(data / "audit", KeyRing.load(data))
    status = asyncio.run(AuditChainMonitor(log).status())
    assert status.last_checkpoint is not None and status.last_checkpoint.seq == 6

    write_records(data, 6)
    for hub in (signer, _signer(data)):
        assert hub.tick(100.0) is None
        assert "line 2 is not a checkpoint" in hub.problem
    assert cp_log.read_text() == damaged  # nothing appended after the junk

    cp_log.write_text(damaged.replace("X\n", ""))  # the line removed: signing resumes
    assert signer.tick(1000.0) is not None
    assert c360(data, "audit", "verify")[0] == 0


def test_the_hub_reports_a_cut_log_as_it_starts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "d"
    write_records(data, 6)
    assert _signer(data).tick(0.0) is not None
    _keep_records(data, 3)
    signer = _signer(data)

    async def start() -> str:
        task = asyncio.create_task(sign_checkpoints(signer, poll_s=3600))
        for _ in range(400):  # its first look, long before the first poll interval ends
            if signer.problem:
                break
            await asyncio.sleep(0.05)
        seen = signer.problem
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return seen

    with caplog.at_level(logging.ERROR, "c360.audit"):
        seen = asyncio.run(start())
    assert seen.startswith("truncated: the last signed checkpoint covers 6 records"), seen
    assert "checkpoints paused" in caplog.text


def test_two_workers_check_each_others_checkpoints_without_a_false_alarm(tmp_path: Path) -> None:
    # `serve --workers 2`: two signers on one log. A checkpoint the other signed ahead of this
    # one's position is checked as the read passes it; one signed behind it (read before this
    # one's read, appended after) by hashing the leaves again from where a read began.
    data = tmp_path / "d"
    a, b = _signer(data), _signer(data)
    write_records(data, 6)
    assert a.tick(0.0) is not None  # 6
    write_records(data, 6)
    cp = b.tick(1.0)  # read from record 1, checkpoint 6 checked on the way: 12
    assert cp is not None and cp.size == 12 and b.problem == ""
    write_records(data, 3)
    assert a.tick(100.0) is not None and a.problem == ""  # 15, after checking 12 at 12
    write_records(data, 2)
    assert b.tick(2.0) is None and b.problem == ""  # 17 read, 15 checked on the way
    write_records(data, 5)
    assert a.tick(102.0) is not None and b.tick(3.0) is None
    assert a.problem == b.problem == ""
    write_records(data, 4)
    assert a.check() == ""  # a reads 26 ...
    write_records(data, 3)
    assert b.check() == ""  # ... b reads 29 ...
    assert a.sign().size == 26  # ... and only then a appends its checkpoint: behind b
    assert b.tick(200.0) is not None and b.problem == ""  # 26 checked behind, 29 signed
    sizes = [json.loads(x)["size"] for x in _checkpoint_lines(data)]
    assert sizes == [6, 12, 15, 22, 26, 29]
    assert c360(data, "audit", "verify")[0] == 0


def test_no_checkpoint_over_a_record_rehashed_without_the_key(tmp_path: Path) -> None:
    # A record after the last checkpoint changed and its hash recomputed (no key needed for
    # that): only its encryption shows it, which the hub's signer checks with the key ring.
    data = tmp_path / "d"
    signer = _signer(data)
    write_records(data, 6)
    assert signer.tick(0.0) is not None
    write_records(data, 5)
    rehash_last_record_without_the_key(data)
    assert signer.tick(100.0) is None
    assert signer.problem.startswith("BROKEN at seq 11: ciphertext not authentic"), signer.problem
    assert len(_checkpoint_lines(data)) == 1


def test_the_checkpoint_command_refuses_a_record_rehashed_without_the_key(tmp_path: Path) -> None:
    # `c360 audit checkpoint` makes the hub signer's checks, GCM with the key ring included.
    data = tmp_path / "d"
    write_records(data, 4)
    code, out = c360(data, "audit", "checkpoint")
    assert code == 0, out
    write_records(data, 2)
    rehash_last_record_without_the_key(data)
    code, out = c360(data, "audit", "checkpoint")
    assert code == 1, out
    assert "no checkpoint signed: BROKEN at seq 6: ciphertext not authentic" in one_line(out), out
    assert len(_checkpoint_lines(data)) == 1
