"""`c360 ingest ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="ingest commands (not built yet).")
