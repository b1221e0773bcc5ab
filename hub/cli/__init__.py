"""The `c360` command: a thin user of the package's public API."""

from __future__ import annotations

import typer

from hub.cli import (
    audit,
    backup,
    churn,
    doctor,
    erase,
    export,
    imports,
    ingest,
    keys,
    migrate,
    policy,
    recommend,
    seed,
    sentiment,
    serve,
    token,
)

app = typer.Typer(
    name="c360",
    help="c360: customer-360 data hub (GraphQL, privacy, social listening).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.command("serve")(serve.serve)
app.command("seed")(seed.seed)
app.command("token")(token.token)
app.command("migrate")(migrate.migrate)
app.command("doctor")(doctor.doctor)
app.command("backup")(backup.backup)
app.command("restore")(backup.restore)
app.command("erase")(erase.erase)
app.command("export")(export.export)
app.add_typer(imports.app, name="import")
app.add_typer(ingest.app, name="ingest")
app.add_typer(sentiment.app, name="sentiment")
app.add_typer(audit.app, name="audit")
app.add_typer(policy.app, name="policy")
app.add_typer(recommend.app, name="recommend")
app.add_typer(churn.app, name="churn")
app.add_typer(keys.app, name="keys")


def main() -> None:
    app()
