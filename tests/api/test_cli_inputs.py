"""CLI arguments out of range or naming nothing are refused before anything starts, with one
sentence and exit 2 (session 16 QA probe: `serve --port 83036` served on 17500, `token --role
nosuchrole` minted a token, `audit show --last 0` printed every record, `audit prove --seq -1`
advised a newer checkpoint, `restore` of a missing archive asked for a passphrase and `import`
of a missing file drew a progress bar first)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app
from privacy.policy_set import PACKAGED_DIR
from shared.settings import DataDirError
from tests.privacy.test_audit_checkpoints import write_records


def c360(data: Path, *args: str) -> tuple[int, str]:
    env = {"C360_DATA_DIR": str(data), "COLUMNS": "200", "C360_BACKUP_PASSPHRASE": ""}
    done = CliRunner().invoke(app, list(args), env=env)
    return done.exit_code, done.output


def one_line(text: str) -> str:
    """Rich wraps and boxes typer's errors: compare the words only."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def test_serve_refuses_a_port_out_of_range(tmp_path: Path) -> None:
    # A data dir that is a file stops `serve` before it listens: in range, the port passes and
    # the data dir is what is refused; out of range, the port is, first.
    taken = tmp_path / "a-file"
    taken.write_text("not a directory")
    for port in ("83836", "70000", "65536", "0", "-1"):
        code, out = c360(taken, "serve", "--port", port)
        assert code == 2 and "Invalid value for '--port'" in out, out
    # (main() turns this into one sentence; CliRunner calls the app without it.)
    env = {"C360_DATA_DIR": str(taken)}
    done = CliRunner().invoke(app, ["serve", "--port", "65535"], env=env)
    assert isinstance(done.exception, DataDirError), done.output


def test_token_refuses_a_role_the_policy_does_not_name(tmp_path: Path) -> None:
    data = tmp_path / "d"
    code, out = c360(data, "token", "--sub", "x", "--role", "advisor", "--role", "nosuchrole")
    said = one_line(out)
    assert code == 2 and "unknown role 'nosuchrole'" in said, out
    assert "'privacy_officer'" in said and "'brand_analyst'" in said
    # A role the data dir's policy data adds (as a privacy officer would) is known.
    policy = json.loads((PACKAGED_DIR / "data.json").read_text())
    policy["c360"]["tables"]["resources"]["Customer"]["teller"] = {
        "service": {"actions": ["read"], "scope": "any", "masks": "service_agent"}
    }
    (data / "policies").mkdir(parents=True)
    (data / "policies" / "data.json").write_text(json.dumps(policy))
    code, out = c360(data, "token", "--sub", "t1", "--role", "teller", "--purpose", "service")
    assert code == 0 and out.count(".") == 2, out


def test_audit_show_last_must_be_at_least_one(tmp_path: Path) -> None:
    data = tmp_path / "d"
    write_records(data, 3)
    code, out = c360(data, "audit", "show", "--last", "1", "--json")
    assert code == 0 and [json.loads(x)["seq"] for x in out.splitlines()] == [3], out
    for last in ("0", "-1"):
        code, out = c360(data, "audit", "show", "--last", last, "--json")
        assert code == 2 and "Invalid value for '--last'" in out, out


def test_audit_prove_names_a_record_that_does_not_exist(tmp_path: Path) -> None:
    data = tmp_path / "d"
    write_records(data, 11)
    assert c360(data, "audit", "checkpoint")[0] == 0
    for seq in ("0", "-1"):
        code, out = c360(data, "audit", "prove", "--seq", seq)
        assert code == 2 and "Invalid value for '--seq'" in out, out
        assert "newer checkpoint" not in out
    code, out = c360(data, "audit", "prove", "--seq", "12")
    said = one_line(out)
    assert code == 2 and "there is no record 12" in said and "has 11 records" in said, out
    assert "newer checkpoint" not in out
    # A record the log has but the checkpoint does not cover: a newer checkpoint does help.
    write_records(data, 1)
    code, out = c360(data, "audit", "prove", "--seq", "12")
    assert code == 2 and "sign a newer checkpoint" in one_line(out), out
    assert c360(data, "audit", "prove", "--seq", "11")[0] == 0


def test_restore_names_a_missing_archive_before_the_passphrase(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent.tar"
    code, out = c360(tmp_path / "d", "restore", str(missing))
    assert code == 2 and f"no backup at {missing}" in one_line(out), out
    assert "passphrase" not in out


def test_import_names_a_missing_file_before_the_progress_bar(tmp_path: Path) -> None:
    data = tmp_path / "d"
    for path in (tmp_path / "nonexistent.csv", tmp_path):
        code, out = c360(data, "import", "customers", str(path))
        assert code == 2 and "does not exist or is not a file" in one_line(out), out
        assert "importing" not in out, out
    # Nothing started: the graph server was never asked for.
    assert not (data / "falkordb").exists()
