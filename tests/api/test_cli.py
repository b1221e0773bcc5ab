"""`c360 token` and the `serve --demo` banner."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.cli.serve import banner
from hub.cli.token import parse_ttl
from hub.settings import Settings
from privacy.audit import AuditLog
from privacy.keyring import KeyRing
from privacy.principal import TokenVerifier
from tests.live import free_port, stop, unwritable_audit, wait_ready


def test_parse_ttl() -> None:
    assert parse_ttl("8h") == timedelta(hours=8)
    assert parse_ttl("1h30m") == timedelta(minutes=90)
    assert parse_ttl("2d") == timedelta(days=2)
    for bad in ("", "8", "h", "8x", "0m", "8h junk"):
        with pytest.raises(ValueError):
            parse_ttl(bad)


def test_token_command_prints_a_verifiable_token(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The CLI reads its settings from the environment, as in production.
    monkeypatch.setenv("C360_DATA_DIR", str(data_dir))
    args = [
        "token",
        "--sub",
        "rm1",
        "--role",
        "advisor",
        "--role",
        "auditor",
        "--purpose",
        "service",
        "--purpose",
        "risk",
        "--branch",
        "BJ01",
        "--ttl",
        "1h",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    verifier = TokenVerifier.from_settings(Settings(data_dir=data_dir))
    principal = verifier.authenticate({"authorization": f"Bearer {token}", "x-purpose": "risk"})
    assert principal.subject == "rm1" and principal.roles == ("advisor", "auditor")
    assert principal.purpose == "risk" and principal.branch == "BJ01"
    bad = CliRunner().invoke(app, ["token", "--sub", "x", "--role", "advisor", "--purpose", "fun"])
    assert bad.exit_code == 2 and "unknown purpose" in bad.output
    # Within the lifetime the hub accepts (C360_JWT_MAX_LIFETIME_S, 24 h): the default 8h is.
    long = CliRunner().invoke(app, ["token", "--sub", "x", "--role", "advisor", "--ttl", "2d"])
    assert long.exit_code == 2 and "longer than the hub accepts" in long.output
    default = CliRunner().invoke(app, ["token", "--sub", "x", "--role", "advisor"])
    assert verifier.authenticate({"authorization": f"Bearer {default.output.strip()}"})
    # Session 12 finding: an empty subject gave a token the hub then refused.
    for sub in ("", "  "):
        empty = CliRunner().invoke(app, ["token", "--sub", sub, "--role", "advisor"])
        assert empty.exit_code == 2 and "--sub must name the user" in empty.output, empty.output


def test_an_issued_token_is_audited_first_and_never_printed_unrecorded(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Who issued which credential, for whom, until when: on record before it is printed,
    never the token itself; an audit log that cannot take the record gets no token printed."""
    monkeypatch.setenv("C360_DATA_DIR", str(data_dir))
    args = ["token", "--sub", "rm1", "--role", "advisor", "--purpose", "service", "--purpose",
            "risk", "--branch", "BJ01", "--ttl", "1h", "--by", "sec-admin"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    log = AuditLog(data_dir / "audit", KeyRing.load(data_dir))
    (record,) = log.read(subject="sec-admin")
    assert (record["operation"], record["outcome"]) == ("cli token", "ok")
    issued = record["details"]["token_issued"]
    lifetime = datetime.fromisoformat(issued["expires_at"]) - datetime.fromisoformat(
        issued.pop("issued_at")
    )
    assert lifetime == timedelta(hours=1)
    assert issued.pop("expires_at")
    assert issued == {"sub": "rm1", "roles": ["advisor"], "purposes": ["service", "risk"],
                      "branch": "BJ01"}  # fmt: skip
    text = json.dumps(log.read())
    assert token not in text and token.rsplit(".", 1)[1] not in text  # nor its signature
    # No --by: the OS user running the command issued it.
    default = CliRunner().invoke(app, ["token", "--sub", "x", "--role", "advisor"])
    assert default.exit_code == 0, default.output
    assert log.read()[-1]["subject"] == getpass.getuser()
    assert log.read()[-1]["details"]["token_issued"]["sub"] == "x"
    with unwritable_audit(data_dir):
        refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.output.split())
    assert said.startswith("error: no token was issued: the audit log cannot be written"), said
    assert "eyJ" not in refused.output  # no token printed
    assert len(log.read()) == 2 and log.verify().ok


def test_serve_banner_has_url_token_and_curl() -> None:
    text = banner(Settings(), "TOKEN123")
    assert "http://127.0.0.1:8000/graphql" in text
    assert "TOKEN123" in text
    assert text.splitlines()[-2].startswith("curl -s http://127.0.0.1:8000/graphql")
    assert "compliance" in text  # the privacy officer reads only for compliance


def _serve_demo(port: int) -> list[str]:
    return [sys.executable, "-c", "from hub.cli import main; main()", "serve", "--demo",
            "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip


def test_the_serve_demo_token_is_audited_before_it_is_printed(short_dir: Path) -> None:
    """Session 22 finding: `c360 token` records every token it prints, the `serve --demo`
    banner's (a privacy_officer token, every field revealed) was not recorded at all. It is
    now, by the same record: issuer, claims, never the token."""
    data_dir, port, out = short_dir / "d", free_port(), short_dir / "serve.log"
    env = {**os.environ, "C360_DATA_DIR": str(data_dir), "C360_GRAPH_URL": ""}
    with out.open("wb") as log_file:
        process = subprocess.Popen(_serve_demo(port), env=env,
                                   stdout=log_file, stderr=subprocess.STDOUT)  # fmt: skip
        try:
            wait_ready(f"http://127.0.0.1:{port}", process, 240.0, lambda: out.read_text()[-3000:])
            deadline = time.monotonic() + 30
            while "\ntry:" not in out.read_text() and time.monotonic() < deadline:
                time.sleep(0.1)  # the banner follows uvicorn's start
            lines = out.read_text().splitlines()
            token = lines[next(i for i, x in enumerate(lines) if x.startswith("dev token")) + 1]
        finally:
            stop(process)
    verifier = TokenVerifier.from_settings(Settings(data_dir=data_dir))
    principal = verifier.authenticate({"authorization": f"Bearer {token}"})
    assert (principal.subject, principal.roles) == ("dev", ("privacy_officer",))
    log = AuditLog(data_dir / "audit", KeyRing.load(data_dir))
    (record,) = log.read(subject=getpass.getuser())  # who ran it (no --by: the OS user)
    assert (record["operation"], record["outcome"]) == ("cli token", "ok")
    issued = record["details"]["token_issued"]
    lifetime = datetime.fromisoformat(issued["expires_at"]) - datetime.fromisoformat(
        issued.pop("issued_at")
    )
    assert lifetime == timedelta(hours=8) and issued.pop("expires_at")
    assert issued == {"sub": "dev", "roles": ["privacy_officer"], "purposes": ["compliance"],
                      "branch": None}  # fmt: skip
    text = json.dumps(log.read())
    assert token not in text and token.rsplit(".", 1)[1] not in text


def test_serve_demo_with_an_unwritable_audit_log_prints_no_token_and_serves_nothing(
    short_dir: Path,
) -> None:
    """As `c360 token`: no record, no token; and nothing started (the hub would print it)."""
    data_dir = short_dir / "d"
    (data_dir / "audit").mkdir(parents=True)
    env = {**os.environ, "C360_DATA_DIR": str(data_dir), "C360_GRAPH_URL": "", "COLUMNS": "300"}
    with unwritable_audit(data_dir):
        try:
            done = subprocess.run(_serve_demo(free_port()), env=env,
                                  capture_output=True, text=True, timeout=90)  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"served without the token on record: {exc.stdout!r}")
    said = " ".join(done.stderr.split())  # after the hub log's line naming the failed append
    assert done.returncode == 2, done.stdout + done.stderr
    assert "error: no token was issued: the audit log cannot be written" in said, said
    assert "eyJ" not in done.stdout + done.stderr  # no token printed
    assert not (data_dir / "falkordb").exists()  # no graph started, no demo seeded
