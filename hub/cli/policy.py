"""`c360 policy ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="policy commands (not built yet).")
