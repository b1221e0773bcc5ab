"""`c360 import ...` through typer's CliRunner, with its own short data dir (unix socket)."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "crm"


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="c360i-", dir="/tmp"))
    shutil.copytree(EXAMPLES, path / "crm")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_import_cli_summary_dead_letters_mapping_and_refusals(workdir: Path) -> None:
    runner = CliRunner()
    env = {"C360_DATA_DIR": str(workdir / "d"), "COLUMNS": "200"}
    crm = workdir / "crm"

    done = runner.invoke(app, ["import", "customers", str(crm / "customers.csv")], env=env)
    assert done.exit_code == 0, done.output
    assert "inserted" in done.output and "rejected" in done.output
    assert "2 record(s) rejected" in done.output
    assert str(crm / "customers.dead.jsonl") in done.output
    assert (crm / "customers.dead.jsonl").exists()
    assert not list((workdir / "d" / "checkpoints").glob("*.tmp"))

    mapped = runner.invoke(
        app,
        ["import", "customers", str(crm / "legacy_customers.csv"),
         "--mapping", str(crm / "legacy_customers.toml"), "--batch-size", "1", "--no-progress"],
        env=env,
    )  # fmt: skip
    assert mapped.exit_code == 0, mapped.output
    assert re.search(r"inserted\s*│\s*2\b", mapped.output)
    assert re.search(r"rejected\s*│\s*0\b", mapped.output)
    assert "record(s) rejected" not in mapped.output

    (crm / "notes.txt").write_text("hello\n", encoding="utf-8")
    refused = runner.invoke(app, ["import", "accounts", str(crm / "notes.txt")], env=env)
    assert refused.exit_code == 2
    assert "notes.txt has no id column for accounts" in refused.output

    keyless = crm / "keyless.csv"
    keyless.write_text("name,phone\n张三,13812345678\n", encoding="utf-8")
    refused = runner.invoke(app, ["import", "customers", str(keyless)], env=env)
    assert refused.exit_code == 2
    assert "has no id column for customers" in refused.output

    bad_map = crm / "bad.toml"
    bad_map.write_text("[columns\n", encoding="utf-8")
    refused = runner.invoke(
        app, ["import", "customers", str(crm / "customers.csv"), "-m", str(bad_map)], env=env
    )
    assert refused.exit_code == 2
    assert "not valid TOML" in refused.output


def test_import_cli_refusals_json_and_dry_run(workdir: Path) -> None:
    runner = CliRunner()
    env = {"C360_DATA_DIR": str(workdir / "d"), "COLUMNS": "200"}
    crm = workdir / "crm"

    binary = crm / "dump.csv"
    binary.write_bytes(bytes(range(256)) * 40)
    refused = runner.invoke(app, ["import", "customers", str(binary)], env=env)
    assert refused.exit_code == 2
    assert "dump.csv is not text" in refused.output
    assert "Traceback" not in refused.output

    unknown = crm / "unknown.toml"
    unknown.write_text('[columns]\n"姓名" = "fullName"\n', encoding="utf-8")
    refused = runner.invoke(
        app, ["import", "customers", str(crm / "legacy_customers.csv"), "-m", str(unknown)],
        env=env,
    )  # fmt: skip
    assert refused.exit_code == 2
    assert "'fullName'" in refused.output and "valid fields: id, name" in refused.output

    dry = runner.invoke(
        app, ["import", "customers", str(crm / "customers.csv"), "--dry-run", "--json"], env=env
    )
    assert dry.exit_code == 0, dry.output
    summary = json.loads(dry.output)
    assert (summary["dry_run"], summary["read"], summary["inserted"]) == (True, 5, 3)
    assert summary["rejected"] == 2
    done = runner.invoke(
        app, ["import", "customers", str(crm / "customers.csv"), "--json"], env=env
    )
    assert json.loads(done.output)["inserted"] == 3  # the dry run wrote nothing
