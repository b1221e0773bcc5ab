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

    advisors = runner.invoke(app, ["import", "advisors", str(crm / "advisors.csv")], env=env)
    assert advisors.exit_code == 0, advisors.output
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

    advisors = runner.invoke(app, ["import", "advisors", str(crm / "advisors.csv")], env=env)
    assert advisors.exit_code == 0, advisors.output
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


def test_an_erased_customer_stays_erased_and_an_unreadable_ledger_stops_the_import(
    workdir: Path,
) -> None:
    runner = CliRunner()
    data = workdir / "d"
    env = {"C360_DATA_DIR": str(data), "COLUMNS": "200"}
    first = workdir / "c.csv"
    first.write_text("id,name,phone\nC000005,张三,13800009999\n", encoding="utf-8")
    assert runner.invoke(app, ["import", "customers", str(first)], env=env).exit_code == 0
    erase = ["erase", "--customer", "C000005", "--reason", "ticket 1", "--by", "po1",
             "--approved-by", "po2"]  # fmt: skip
    erased = runner.invoke(app, erase, env=env)
    assert erased.exit_code == 0, erased.output
    assert "C000005" in (data / "erasure-ledger.jsonl").read_text()

    again = workdir / "r.csv"
    again.write_text("id,name,phone\nC000005,复活,13800009999\nC000006,李四,\n", encoding="utf-8")
    done = runner.invoke(app, ["import", "customers", str(again), "--json"], env=env)
    assert done.exit_code == 0, done.output
    summary = json.loads(done.output)
    assert (summary["inserted"], summary["rejected"], summary["erased"]) == (1, 1, 1)
    (letter,) = [json.loads(x) for x in (workdir / "r.dead.jsonl").read_text().splitlines()]
    assert letter["line"] == 2 and letter["raw"] == {"id": "C000005"}
    assert "erased under a data-subject request" in letter["reasons"][0]
    shown = runner.invoke(app, ["import", "customers", str(again), "--no-progress"], env=env)
    assert re.search(r"erased customers\s*│\s*1\b", shown.output)
    assert "name a customer erased under a data-subject request" in shown.output

    # A ledger that cannot be read: nothing is imported (privacy fails closed).
    ledger = data / "erasure-ledger.jsonl"
    ledger.write_text("not json\n" + ledger.read_text(), encoding="utf-8")
    refused = runner.invoke(app, ["import", "customers", str(again), "--json"], env=env)
    assert refused.exit_code == 2
    assert "is not an erasure ledger entry" in refused.output
    assert "nothing was imported" in refused.output


def test_dead_letters_elsewhere_help_as_written_and_an_empty_file(workdir: Path) -> None:
    runner = CliRunner()
    env = {"C360_DATA_DIR": str(workdir / "d"), "COLUMNS": "200"}
    source = workdir / "in"
    source.mkdir()
    path = source / "x.csv"
    path.write_text("id,name,phone\nC1,甲,13800001111\nC2,乙,12345\n", encoding="utf-8")
    # The default place cannot be written: the tests run as root, for whom a read-only mode
    # bit is no obstacle, so a folder stands where the file would go (open() fails the same).
    (source / "x.dead.jsonl").mkdir()
    refused = runner.invoke(app, ["import", "customers", str(path)], env=env)
    assert refused.exit_code == 2
    message = " ".join(refused.output.split())
    assert f"cannot write the dead-letter file {source / 'x.dead.jsonl'}" in message
    assert "give --dead-letters PATH" in message and "nothing was imported" in message
    assert "Traceback" not in refused.output

    elsewhere = workdir / "dead"
    elsewhere.mkdir()
    args = ["import", "customers", str(path), "--dead-letters", str(elsewhere), "--json"]
    done = runner.invoke(app, args, env=env)
    assert done.exit_code == 0, done.output
    summary = json.loads(done.output)
    assert summary["inserted"] == 1 and summary["dead_letter_path"] == str(
        elsewhere / "x.dead.jsonl"
    )
    assert json.loads((elsewhere / "x.dead.jsonl").read_text())["line"] == 3
    named = workdir / "rejects.jsonl"
    args = ["import", "customers", str(path), "--dead-letters", str(named), "--json"]
    assert json.loads(runner.invoke(app, args, env=env).output)["dead_letter_path"] == str(named)

    helped = runner.invoke(app, ["import", "customers", "--help"], env=env)
    text = " ".join(helped.output.replace("│", " ").split())
    assert "TOML mapping: [source], [sql], [columns], [values.FIELD], [defaults]." in text
    assert "optional with --sql or a mapping with [sql]." in text

    empty = workdir / "empty.csv"
    empty.write_bytes(b"")
    refused = runner.invoke(app, ["import", "customers", str(empty)], env=env)
    assert refused.exit_code == 2
    assert "empty.csv is empty (not even a header row)" in " ".join(refused.output.split())
    assert "has no id column" not in refused.output


def test_the_summary_prints_its_warnings(workdir: Path) -> None:
    runner = CliRunner()
    env = {"C360_DATA_DIR": str(workdir / "d"), "COLUMNS": "200"}
    # Advisors: two spellings of one customer id are a dead letter (session 22), not a warning.
    twins = workdir / "twins.csv"
    twins.write_text("id,name\nA001,张伟\na001,张伟\n", encoding="utf-8")
    done = runner.invoke(app, ["import", "advisors", str(twins), "--no-progress"], env=env)
    assert done.exit_code == 0, done.output
    assert "1 warning(s) (imported as shown):" in done.output
    assert "lines 2 and 3: keys A001 and a001 differ only in case" in done.output
