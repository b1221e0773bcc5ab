"""The `c360` command: a thin user of the package's public API.

Each command's module is imported only when that command runs: the modules pull in what
their command needs (Strawberry and the app for `serve`, scikit-learn for `churn`, DuckDB for
`import --sql`), and importing all of them cost every `c360` process about 3 s before it did
anything. `c360 --help` (and shell completion) lists the commands from the table below, so
listing them imports none (tests/api/test_cli_lazy.py checks that the table says what each
command's own help says)."""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass

import typer
from rich.markup import escape
from typer import _click as click  # typer vendors click: its groups take these types
from typer.core import TyperCommand, TyperGroup

# Every command prints through these consoles; they are made when the CLI is imported, as
# before commands loaded lazily (a Console made later, under a CliRunner env with COLUMNS, keeps
# that width for the rest of the process).
from hub.cli.consoles import err_console
from shared.datadir import UMASK


@dataclass(frozen=True)
class Entry:
    """Where a command lives: ``attribute`` of ``hub.cli.<module>`` is a typer.Typer (a group
    of subcommands) or a function (one command); ``summary`` is the first paragraph of its
    help, what `c360 --help` lists."""

    module: str
    attribute: str
    summary: str


# The order is the order help lists them in.
COMMANDS: dict[str, Entry] = {
    "serve": Entry("serve", "serve", "Serve GraphQL at /graphql (plus /healthz and /readyz)."),
    "seed": Entry(
        "seed",
        "seed",
        "Seed a realistic, deterministic Chinese retail-bank book (customers, households,\n"
        "accounts, transactions, interactions, advisors, branches, products).",
    ),
    "token": Entry(
        "token",
        "token",
        "Print an HS256 JWT signed with the data-dir key (C360_DATA_DIR/keys/jwt.key).",
    ),
    "migrate": Entry(
        "migrate",
        "migrate",
        "Copy every node and relationship to another graph, idempotently (MERGE on natural\n"
        "keys), then compare counts. Neo4j credentials come from C360_GRAPH_USER / _PASSWORD /\n"
        "_DATABASE; --to defaults to C360_GRAPH_URL. Exit 1 when a count differs (e.g. the\n"
        "target already held other data).",
    ),
    "doctor": Entry(
        "doctor",
        "doctor",
        "Check that the embedded graph's files can be loaded: the AOF manifest names files that\n"
        "exist, every log passes redis-check-aof, there is disk space to write; and that the\n"
        "product catalogue file validates; and that no erasure ledger counts an erasure in "
        "doubt (a\ncancellation cut off mid-write, an entry whose request is not done). Exit 1 "
        "when a problem\nis left.",
    ),
    "backup": Entry(
        "backup",
        "backup",
        "Archive the data dir while the hub serves: graph snapshot, keys, audit log, policies,\n"
        "checkpoints, models; encrypted, with a manifest of checksums and graph counts.",
    ),
    "restore": Entry(
        "backup",
        "restore",
        "Restore a backup into an empty data dir, checking every checksum and the graph counts;\n"
        "then erase again every customer an erasure ledger names (an older backup still holds\n"
        "their data keys).",
    ),
    "erase": Entry(
        "erase",
        "erase",
        "Erase a customer (PIPL Art. 47): destroy their data key, remove their node, links and\n"
        "index entries, compact the graph log; audited with ids and field names only.",
    ),
    "export": Entry(
        "export",
        "export",
        "Everything held about one customer, with who read what about them, when and why.",
    ),
    "import": Entry(
        "imports",
        "app",
        "Import CRM exports: delimited text of any extension (encoding and delimiter detected), "
        "JSON Lines, .xlsx or .parquet, or the rows of a DuckDB query (--sql). Bad rows go to "
        "<file>.dead.jsonl beside the input (or --dead-letters PATH), and so do rows of "
        "customers erased on request; re-running a file adds no duplicates.",
    ),
    "ingest": Entry("ingest", "app", "Ingest social posts (X search, exported JSONL)."),
    "sentiment": Entry("sentiment", "app", "Evaluate, train and re-apply the sentiment scorer."),
    "alerts": Entry("alerts", "app", "Outbound alert deliveries (dead letters)."),
    "audit": Entry("audit", "app", "The encrypted, hash-chained audit log."),
    "policy": Entry("policy", "app", "Access policies (Rego): test, show, proposals."),
    "recommend": Entry("recommend", "app", "Cross-sell and up-sell recommendations."),
    "churn": Entry("churn", "app", "The churn model (scikit-learn) beside the rule score."),
    "catalogue": Entry(
        "catalogue", "app", "The product catalogue: products, suitability rules, income bands."
    ),
    "keys": Entry("keys", "app", "Master, data, audit and checkpoint keys."),
}


def load_command(name: str) -> click.Command | None:
    """The click command for ``name``, its module imported now (None: no such command)."""
    entry = COMMANDS.get(name)
    if entry is None:
        return None
    module = importlib.import_module(f"hub.cli.{entry.module}")
    target = getattr(module, entry.attribute)
    if isinstance(target, typer.Typer):
        group = typer.main.get_group(target)
        group.name = name
        return group
    single = typer.Typer()
    single.command(name)(target)
    return typer.main.get_command(single)


class Listed(TyperCommand):
    """A command as help and completion list it (name and summary), before its module is
    imported. Never run: LazyCommands.resolve_command swaps in the real command first."""

    def __init__(self, name: str, summary: str) -> None:
        super().__init__(name, help=summary)


class LazyCommands(TyperGroup):
    """A root group whose commands are :class:`Listed` until one is run (or completed): then
    that command's module, and only that one, is imported."""

    def __init__(self, **attrs: object) -> None:
        super().__init__(**attrs)  # type: ignore[arg-type]
        # Listed in self.commands, so a mistyped name gets typer's "Did you mean ...?".
        for name, entry in COMMANDS.items():
            self.commands[name] = Listed(name, entry.summary)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name is not None and isinstance(command, Listed):
            command = load_command(name)
            if command is not None:
                self.commands[name] = command
        return name, command, rest


app = typer.Typer(
    name="c360",
    help="c360: customer-360 data hub (GraphQL, privacy, social listening).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    cls=LazyCommands,
)


@app.callback()
def _root() -> None:
    """c360: customer-360 data hub (GraphQL, privacy, social listening)."""


def main() -> None:
    # Every command, before it creates anything: the data dir, the graph server child (it
    # inherits the umask), checkpoints, models are owner-only whichever command made them
    # first (seed on a fresh dir, import on a restored one), not only under `c360 serve`.
    os.umask(UMASK)
    try:
        app()
    except Exception as exc:
        if not _told_as_a_sentence(exc):
            raise
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise SystemExit(2) from None


# Errors whose message is the whole answer (what is wrong, what to do), by module and name:
# shared.settings.DataDirError (a ValueError), raised wherever a command first touches the data
# dir; privacy.secrets.KeyFileError, a key file lost or damaged, wherever a command loads one
# (`c360 token`, an import sealing its first batch). Their modules are imported by the commands
# that raise them, not here (`c360 --help` needs neither): one never imported was not raised.
_SENTENCES = (("shared.settings", "DataDirError"), ("privacy.secrets", "KeyFileError"))


def _told_as_a_sentence(exc: Exception) -> bool:
    return any(
        (module := sys.modules.get(name)) is not None and isinstance(exc, getattr(module, kind))
        for name, kind in _SENTENCES
    )
