"""`c360` imports a command's module only when that command runs: help, a light command's help
and a light command itself import neither Strawberry (the API), scikit-learn (churn) nor
SnowNLP (sentiment), which cost every process ~3 s of CPU when the CLI loaded them all."""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import COMMANDS, app, load_command
from privacy.audit import AuditLog, make_record
from privacy.keyring import KeyRing
from privacy.types import Principal

HEAVY = ("strawberry", "sklearn", "snownlp")

# Runs the CLI as `c360 <args>` would, then prints which heavy packages it imported.
PROBE = f"""
import json, sys
sys.argv = ["c360", *sys.argv[1:]]
from hub.cli import main
code = 0
try:
    main()
except SystemExit as stop:  # typer ends every command so: keep its code for the test
    code = stop.code or 0
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & {set(HEAVY)!r})
print(json.dumps({{"exit": code, "heavy": heavy}}))
"""


def imported(data_dir: Path, *args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env={**os.environ, "C360_DATA_DIR": str(data_dir), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    assert probe["exit"] == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    loaded: list[str] = probe["heavy"]
    return loaded


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["token", "--help"],
        ["audit", "--help"],
        ["audit", "verify", "--help"],
        # Their modules imported resolvers.nba (Strawberry) and insights.churn (scikit-learn).
        ["recommend", "--help"],
        ["recommend", "eval", "--help"],
        ["churn", "--help"],
        ["churn", "train", "--help"],
        ["token", "--sub", "a", "--role", "privacy_officer", "--purpose", "compliance"],
        ["audit", "verify"],
    ],
    ids=" ".join,
)
def test_a_light_command_imports_no_heavy_package(data_dir: Path, args: list[str]) -> None:
    if args == ["audit", "verify"]:
        asyncio.run(_one_audit_record(data_dir))  # a log to verify: the command must succeed
    assert imported(data_dir, *args) == []


async def _one_audit_record(data_dir: Path) -> None:
    log = AuditLog(data_dir / "audit", KeyRing.load(data_dir))
    who = Principal("cli-test", ("privacy_officer",), "compliance")
    await log.append(make_record(principal=who, operation="seed", outcome="ok"))
    log.close()


def test_a_heavy_command_still_loads_what_it_needs(data_dir: Path) -> None:
    """The probe sees imports: `serve --help` loads Strawberry (its module builds the app)."""
    assert "strawberry" in imported(data_dir, "serve", "--help")


def test_help_lists_every_command_with_its_own_summary() -> None:
    """Help lists the commands from hub.cli.COMMANDS without importing them: each summary must
    be the first paragraph of the command's own help, as an eager CLI listed it."""
    for name, entry in COMMANDS.items():
        command = load_command(name)
        assert command is not None and command.name == name
        assert command.short_help is None and not command.hidden and not command.deprecated
        first = inspect.cleandoc(command.help or "").split("\n\n")[0]
        assert entry.summary == first, name
    listed = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "300"})
    assert listed.exit_code == 0, listed.output
    for name, entry in COMMANDS.items():
        assert f" {name} " in listed.output
        assert entry.summary[:40] in listed.output, name  # help wraps longer lines


def test_a_mistyped_command_exits_2_and_names_the_close_one() -> None:
    result = CliRunner().invoke(app, ["tokn"], env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert "No such command 'tokn'. Did you mean 'token'?" in result.output
