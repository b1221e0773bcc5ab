"""`c360 policy ...`: run the Rego unit tests and the invariants, list the active policies and
the policy changes awaiting a second privacy officer. Changes themselves go through the API
(proposePolicy / approvePolicy), where the two officers are identified by their tokens."""

from __future__ import annotations

import typer
from rich.table import Table

from hub.cli.common import console, fail, load_settings
from privacy.policy_invariants import InvariantResult, run_invariants_sync
from privacy.policy_proposals import ProposalStore
from privacy.policy_set import PolicyDataError, PolicySet, load_policy_set, test_names
from privacy.policy_tests import PolicyTestResult, run_policy_tests

app = typer.Typer(no_args_is_help=True, help="Access policies (Rego): test, show, proposals.")


def _policy_set() -> PolicySet:
    """The active set; a data file that is not a data document is an error naming the file
    (regopy would segfault on it), exit 2."""
    try:
        return load_policy_set(load_settings().resolved_data_dir)
    except PolicyDataError as exc:
        fail(f"{exc}; fix or remove the file (the packaged data.json is used without it)")


@app.command("test")
def test() -> None:
    """Run every test_* rule in the *_test.rego modules (packaged + data-dir overrides) and the
    invariants no policy change can remove (privacy/policy_invariants.py)."""
    policy_set = _policy_set()
    results: list[PolicyTestResult | InvariantResult] = [
        *run_policy_tests(policy_set),
        *run_invariants_sync(policy_set),
    ]
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
    ps = _policy_set()
    table = Table("id", "kind", "tests", "lines")
    for module_id, source in sorted(ps.modules.items()):
        kind = "test" if module_id.endswith("_test") else "policy"
        table.add_row(module_id, kind, str(len(test_names(source))), str(source.count("\n")))
    table.add_row("data", "data.json", "-", "-")
    console.print(table)
    console.print(f"revision {ps.revision}")


@app.command("proposals")
def proposals(
    all_: bool = typer.Option(False, "--all", help="every proposal, not only pending ones"),
) -> None:
    """List policy changes awaiting approval by a second privacy officer."""
    found = sorted(
        ProposalStore(load_settings().resolved_data_dir).load().values(),
        key=lambda p: p.created_at,
    )
    shown = [p for p in found if all_ or p.status == "pending"]
    table = Table("proposal", "policy", "proposer", "created", "status", "tests", "decided by")
    for p in shown:
        passed = sum(ok for _, ok, _ in p.results)
        table.add_row(
            p.id, p.policy_id, p.proposer, p.created_at, p.status,
            f"{passed}/{len(p.results)}", p.decided_by or "-",
        )  # fmt: skip
    console.print(table)
    console.print(
        f"{len(shown)} proposal(s); approve with the approvePolicy mutation as another "
        "privacy officer"
    )
