"""The `c360` command: a thin user of the package's public API.

Each command's module is imported only when that command runs (or when help lists them all):
the modules pull in what their command needs (Strawberry and the app for `serve`, scikit-learn
for `churn`, DuckDB for `import --sql`), and importing all of them cost every `c360` process
about 3 s before it did anything."""

from __future__ import annotations

import importlib

import typer
from typer import _click as click  # typer vendors click: its groups take these types
from typer.core import TyperGroup

# Every command prints through common's consoles; they are made when the CLI is imported, as
# before commands loaded lazily (a Console made later, under a CliRunner env with COLUMNS, keeps
# that width for the rest of the process).
from hub.cli import common
from shared.settings import DataDirError

# command name -> (module under hub.cli, attribute): a typer.Typer (a group of subcommands)
# or a function (one command). The order is the order help lists them in.
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("serve", "serve"),
    "seed": ("seed", "seed"),
    "token": ("token", "token"),
    "migrate": ("migrate", "migrate"),
    "doctor": ("doctor", "doctor"),
    "backup": ("backup", "backup"),
    "restore": ("backup", "restore"),
    "erase": ("erase", "erase"),
    "export": ("export", "export"),
    "import": ("imports", "app"),
    "ingest": ("ingest", "app"),
    "sentiment": ("sentiment", "app"),
    "alerts": ("alerts", "app"),
    "audit": ("audit", "app"),
    "policy": ("policy", "app"),
    "recommend": ("recommend", "app"),
    "churn": ("churn", "app"),
    "keys": ("keys", "app"),
}


def load_command(name: str) -> click.Command | None:
    """The click command for ``name``, its module imported now (None: no such command)."""
    entry = COMMANDS.get(name)
    if entry is None:
        return None
    module, attribute = entry
    target = getattr(importlib.import_module(f"hub.cli.{module}"), attribute)
    if isinstance(target, typer.Typer):
        group = typer.main.get_group(target)
        group.name = name
        return group
    single = typer.Typer()
    single.command(name)(target)
    return typer.main.get_command(single)


class LazyCommands(TyperGroup):
    """A root group that loads a command's module when the command is looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            command = load_command(cmd_name)
            if command is None:
                return None
            self.commands[cmd_name] = command
        return self.commands[cmd_name]


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
    try:
        app()
    except DataDirError as exc:  # raised wherever a command first touches the data dir
        common.err_console.print(f"[bold red]error:[/] {exc}")
        raise SystemExit(2) from None
