"""Bad settings and unusable data dirs are one sentence and exit 2, never a traceback (QA:
`C360_PORT=abc` and a data dir that is a file printed tracebacks; `C360_MAX_PAGE_SIZE=-1` and
an unknown `C360_TIMEZONE` started and failed every later request)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from privacy.keyring import KeyRing

TOKEN = ["token", "--sub", "a", "--role", "privacy_officer", "--purpose", "compliance"]


def c360(data_dir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from hub.cli import main; main()", *args],
        env={**os.environ, "C360_DATA_DIR": str(data_dir), "COLUMNS": "300", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"C360_PORT": "abc"}, "C360_PORT='abc'"),
        ({"C360_MAX_PAGE_SIZE": "-1"}, "C360_MAX_PAGE_SIZE='-1'"),
        ({"C360_TIMEZONE": "Mars/Base"}, "not an IANA time zone"),
        ({"C360_SENTIMENT_POSITIVE": "0.2"}, "C360_SENTIMENT_NEGATIVE must be below"),
        ({"C360_SEGMENT_MIDDLE_ASSETS": "5000000"}, "C360_SEGMENT_MIDDLE_ASSETS must be below"),
        ({"C360_AS_OF": "0001-01-01"}, "C360_AS_OF must be from 1900-01-01"),
        ({"C360_AS_OF": "9999-12-31"}, "C360_AS_OF must be from 1900-01-01"),
        # An infinite timeout is none at all (nan was refused already, inf was taken).
        ({"C360_REQUEST_TIMEOUT_S": "inf"}, "C360_REQUEST_TIMEOUT_S='inf'"),
        ({"C360_HEADER_TIMEOUT_S": "Infinity"}, "C360_HEADER_TIMEOUT_S='Infinity'"),
        # The hub started and answered AUDIT_UNAVAILABLE to every personal-data request.
        ({"C360_AUDIT_KEYS": "garbage"}, "C360_AUDIT_KEYS: entry 1 is not kid:"),
        ({"C360_AUDIT_KEYS": f"k2:{'A' * 43}=,k1:c2hvcnQ="}, "C360_AUDIT_KEYS: entry 2 is not"),
        # QA, session 26: the demo's day was read only as the demo loaded (a traceback from
        # `seed`, an empty "ready" book from `serve --demo`), the URLs only when first used
        # (a hub that could never be ready started and stayed up).
        ({"C360_DEMO_AS_OF": "2025-13-01"}, "C360_DEMO_AS_OF='2025-13-01': must be a day as"),
        ({"C360_DEMO_AS_OF": "0001-01-01"}, "C360_DEMO_AS_OF='0001-01-01': must be from 1900"),
        ({"C360_GRAPH_URL": "http://127.0.0.1:8833"}, "has an unknown scheme; use bolt://"),
        ({"C360_OPA_URL": "not a url"}, "C360_OPA_URL='not a url': must be an http:// or"),
        ({"C360_OPA_URL": "http://:8181"}, "C360_OPA_URL='http://:8181': must be an http://"),
    ],
)
def test_a_bad_setting_is_one_sentence(tmp_path: Path, env: dict[str, str], said: str) -> None:
    done = c360(tmp_path / "d", env, *TOKEN)
    assert done.returncode == 2, done
    assert said in done.stderr and "Traceback" not in done.stderr + done.stdout, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


@pytest.mark.parametrize("command", [["seed", "-n", "5"], ["serve", "--demo", "--port", "1"]])
def test_the_demo_commands_refuse_a_bad_demo_day_before_they_start(
    tmp_path: Path, command: list[str]
) -> None:
    done = c360(tmp_path / "d", {"C360_DEMO_AS_OF": "2025-13-01"}, *command)
    assert done.returncode == 2, done
    assert "C360_DEMO_AS_OF='2025-13-01'" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_serve_refuses_an_unreadable_terms_file_in_one_line(tmp_path: Path) -> None:
    # QA: `C360_TERMS=/nonexistent.toml c360 serve` printed a traceback (ingest said one line).
    for terms, said in ((tmp_path / "nonexistent.toml", "not found"), (tmp_path, "directory")):
        done = c360(tmp_path / "d", {"C360_TERMS": str(terms)}, "serve", "--port", "1")
        assert done.returncode == 2, done
        assert said in done.stderr and "C360_TERMS" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr + done.stdout
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_serve_refuses_an_infinite_header_timeout(tmp_path: Path) -> None:
    done = c360(tmp_path / "d", {}, "serve", "--port", "1", "--header-timeout", "inf")
    assert done.returncode == 2 and "--header-timeout must be a finite" in done.stderr, done


def test_audit_keys_are_never_echoed(tmp_path: Path) -> None:
    secret = "k1:" + "Zm9v" * 5  # base64, but 15 bytes: refused, and key material all the same
    done = c360(tmp_path / "d", {"C360_AUDIT_KEYS": secret}, *TOKEN)
    assert done.returncode == 2 and "C360_AUDIT_KEYS" in done.stderr, done
    assert "Zm9v" not in done.stderr + done.stdout


def test_a_data_dir_that_cannot_be_used_is_one_sentence(tmp_path: Path) -> None:
    taken = tmp_path / "a-file"
    taken.write_text("not a directory")
    for args in (TOKEN, ["serve", "--port", "1"]):
        done = c360(taken, {}, *args)
        assert done.returncode == 2, done
        assert "data dir" in done.stderr and "C360_DATA_DIR" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr + done.stdout
    assert c360(tmp_path / "fine", {}, *TOKEN).returncode == 0


def test_audited_cli_inputs_are_checked(tmp_path: Path) -> None:
    # QA findings: `audit show --since zzz` listed 0 records with exit 0; `export --by ""`
    # exported with no one to audit it as.
    data = tmp_path / "d"
    done = c360(data, {}, "audit", "show", "--since", "zzz")
    assert done.returncode == 2 and "--since 'zzz' is not an ISO time" in done.stderr, done
    KeyRing.load(data)  # a hub's data dir has its key ring
    done = c360(data, {}, "audit", "show", "--since", "2025-03-02T09:00:00+08:00")
    assert done.returncode == 0 and "0 records" in done.stdout, done
    done = c360(data, {}, "export", "--customer", "C1", "--by", " ")
    assert done.returncode == 2 and "--by must name" in done.stderr, done
