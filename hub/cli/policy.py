"""`c360 policy ...`: run the Rego unit tests, list the active policies."""

from __future__ import annotations

import typer
from rich.table import Table

from hub.cli.common import console, load_settings
from privacy.policy_set import load_policy_set, test_names
from privacy.policy_tests import run_policy_tests

app = typer.Typer(no_args_is_help=True, help="Access policies (Rego): test and show.")


@app.command("test")
def test() -> None:
    """Run every test_* rule in the *_test.rego modules (packaged + data-dir overrides)."""
    results = run_policy_tests(load_policy_set(load_settings().resolved_data_dir))
    for r in results:
        mark = "[green]PASS[/]" if r.ok else "[red]FAIL[/]"
        console.print(f"{mark} {r.name}" + ("" if r.ok else f": {r.message}"))
    failed = sum(not r.ok for r in results)
    console.print(f"{len(results) - failed} passed, {failed} failed")
    if failed or not results:
        raise typer.Exit(1)


@app.command("show")
def show() -> None:
    """List the active policy modules and the overall revision."""
    ps = load_policy_set(load_settings().resolved_data_dir)
    table = Table("id", "kind", "tests", "lines")
    for module_id, source in sorted(ps.modules.items()):
        kind = "test" if module_id.endswith("_test") else "policy"
        table.add_row(module_id, kind, str(len(test_names(source))), str(source.count("\n")))
    table.add_row("data", "data.json", "-", "-")
    console.print(table)
    console.print(f"revision {ps.revision}")
