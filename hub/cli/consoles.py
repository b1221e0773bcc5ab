"""The consoles every CLI command prints through, made when the CLI is imported (a Console
made later, under a CliRunner env with COLUMNS, keeps that width for the rest of the process).
Their own module, so that importing the CLI imports rich and nothing of the hub."""

from __future__ import annotations

from rich.console import Console

console = Console()
err_console = Console(stderr=True)

__all__ = ["console", "err_console"]
