"""`c360 catalogue check [FILE]`: validate a product catalogue file before the hub uses it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli.common import console, fail, load_settings
from insights.catalogue import CatalogueError, CatalogueFile, catalogue_file, read_catalogue

app = typer.Typer(
    help="The product catalogue: products, suitability rules, income bands.",
    no_args_is_help=True,
)


@app.command("check")
def check(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="the file to check (default: the one the hub uses: C360_CATALOGUE, else "
            "<data dir>/catalogue.json, else the packaged one)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Validate a catalogue file as the hub reads it at start; exit 2 naming the entry and
    what to fix. Without FILE, the file the hub and the CLI use."""
    if file is None:
        settings = load_settings()
        source = catalogue_file(settings.resolved_data_dir, settings.catalogue)
    else:
        source = CatalogueFile(file, "argument")
    try:
        catalogue = read_catalogue(source)
    except CatalogueError as exc:
        fail(str(exc))
    console.print(f"[green]ok:[/] catalogue {source.describe()}: {catalogue.summary()}")


__all__ = ["app"]
