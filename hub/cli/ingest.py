"""`c360 ingest x|posts`: social posts into the graph (scored, tagged, deduplicated)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from hub.cli.common import (
    compact,
    console,
    fail,
    graph,
    load_settings,
    run,
    unreadable,
    unwinding_on_signals,
)
from hub.settings import Settings
from ingest.social.model import PLATFORMS
from ingest.social.pipeline import PostPipeline, Totals
from ingest.social.terms import TermMatcher, TermsError
from sentiment.batch import BatchScorer
from sentiment.scorer import ScorerConfig

app = typer.Typer(no_args_is_help=True, help="Ingest social posts (X search, exported JSONL).")

_EVERY = re.compile(r"^(\d+)\s*([smh]?)$")


def parse_every(text: str) -> float:
    """'15m' -> 900.0 seconds ('30s', '2h', bare numbers are seconds)."""
    match = _EVERY.match(text.strip().lower())
    if not match or int(match.group(1)) <= 0:
        raise typer.BadParameter("use a duration like 30s, 15m or 1h")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def scorer_config(settings: Settings) -> ScorerConfig:
    return ScorerConfig(
        settings.sentiment_model, settings.sentiment_positive, settings.sentiment_negative
    )


def matcher(settings: Settings) -> TermMatcher:
    try:
        return TermMatcher.load(settings.terms)
    except TermsError as exc:
        fail(str(exc))


def checkpoints(settings: Settings) -> Path:
    return settings.resolved_data_dir / "checkpoints"


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int], None]]:
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.completed} posts"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)
        yield lambda n: bar.advance(task, n)


def print_totals(title: str, totals: Totals, extra: dict[str, object] | None = None) -> None:
    table = Table(title=title, show_header=False)
    table.add_row("received", str(totals.received))
    table.add_row("new posts", str(totals.new))
    table.add_row("updated (text edited, re-scored)", str(totals.updated))
    table.add_row("unchanged (stored, same text)", str(totals.unchanged))
    table.add_row("same-id duplicates", str(totals.same_id_duplicates))
    table.add_row("text duplicates", str(totals.text_duplicates))
    table.add_row("reposts", str(totals.reposts))
    for label in ("POSITIVE", "NEUTRAL", "NEGATIVE", "UNSUPPORTED"):
        table.add_row(label.lower(), str(totals.by_label.get(label, 0)))
    for key, value in (extra or {}).items():
        table.add_row(key, str(value))
    console.print(table)


def posts_title(file: Path, platforms: dict[str, int]) -> str:
    """``posts.jsonl (wechat)``: the platform the posts were stored under (a mapping's
    [defaults] or the posts' own field decide over --platform), each with its count when the
    file held several; the file name alone when no post was read."""
    if len(platforms) == 1:
        return f"{file.name} ({next(iter(platforms))})"
    if not platforms:
        return file.name
    shown = ", ".join(f"{name} {count}" for name, count in sorted(platforms.items()))
    return f"{file.name} ({shown})"


@app.command("posts")
def posts(
    file: Annotated[Path, typer.Argument(help="JSON Lines export (.jsonl/.ndjson)")],
    platform: Annotated[str, typer.Option(help=f"one of {', '.join(PLATFORMS)}")] = "weibo",
    mapping: Annotated[Path | None, typer.Option(help="TOML column mapping")] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            "--encoding",
            help="the file's encoding, e.g. gb18030 (default: the mapping's, else UTF-8, or "
            "UTF-16 when the file starts with its byte-order mark)",
        ),
    ] = None,
) -> None:
    """Ingest exported posts (Weibo, WeChat, forums); bad lines go to <file>.dead.jsonl."""
    from ingest.checkpoint import Checkpoint
    from ingest.mapping import ColumnMapping, MappingError
    from ingest.readers import UnsupportedFile
    from ingest.social.files import ingest_file
    from ingest.social.model import POST_FIELDS
    from ingest.summary import ImportRefused

    platform = platform.strip().lower()
    if platform not in PLATFORMS:
        fail(f"unknown platform {platform!r}; use one of {', '.join(PLATFORMS)}")
    if (problem := unreadable(file)) is not None:
        fail(f"{escape(problem)}; give the path of a .jsonl export")
    try:
        column_mapping = ColumnMapping.load(mapping) if mapping else None
        if column_mapping is not None:
            # Refused up front, as a CRM import's: a field no post has would make every line a
            # dead letter ("text: Field required").
            column_mapping.check(POST_FIELDS, "posts")
    except MappingError as exc:
        fail(escape(str(exc)))  # "[columns]" is text, not rich markup
    settings = load_settings()
    terms = matcher(settings)

    async def go() -> None:
        checkpoint = Checkpoint(checkpoints(settings) / "posts.json")
        async with graph(settings) as store:
            with BatchScorer(scorer_config(settings)) as scorer, progress_bar(file.name) as tick:
                pipeline = PostPipeline(store, scorer, terms)
                result = await ingest_file(
                    pipeline,
                    file,
                    checkpoint,
                    platform=platform,
                    mapping=column_mapping,
                    encoding=encoding,
                    progress=tick,
                )
            await compact(store)
        extra: dict[str, object] = {"dead letters": result.dead_total}
        if result.resumed_from:
            # The interrupted run's dead letters up to its checkpoint are kept in the file.
            extra["dead letters"] = f"{result.dead_total} ({result.rejected} this run)"
            extra["resumed after line"] = result.resumed_from
        if result.not_resumed:
            extra["not resumed"] = f"[yellow]{escape(result.not_resumed)}[/]"
        extra["ignored fields"] = escape(", ".join(result.ignored)) or "-"
        if result.not_found:
            # A mapping for another export: its fields stay empty (QA: every author null).
            extra["mapped, not in the file"] = f"[yellow]{escape(', '.join(result.not_found))}[/]"
        print_totals(posts_title(file, result.platforms), result.totals, extra)
        if result.dead_letters is not None:
            console.print(
                f"[yellow]{result.dead_total} line(s) rejected[/]: see {result.dead_letters} "
                "(one JSON line each: line, raw, reasons). Fix those lines in the source file "
                "and ingest it again (posts already stored count as unchanged)."
            )

    try:
        with unwinding_on_signals():  # SIGTERM unwinds: the graph is closed on the way out
            run(go())
    except (UnsupportedFile, ImportRefused) as exc:
        fail(escape(str(exc)))
    except FileNotFoundError as exc:
        fail(str(exc))


@app.command("x")
def x(
    query: Annotated[str, typer.Option("--query", "-q", help="X recent-search query")],
    max_pages: Annotated[
        int | None,
        typer.Option(
            min=1, help="stop after this many pages; the next run continues with the older ones"
        ),
    ] = None,
    page_size: Annotated[int, typer.Option(min=10, max=100, help="posts per page")] = 100,
    follow: Annotated[bool, typer.Option(help="keep polling for new posts")] = False,
    every: Annotated[str, typer.Option(help="poll interval with --follow (30s, 15m, 1h)")] = "15m",
) -> None:
    """Search recent posts on X and store them page by page (resumes from a since_id)."""
    from ingest.checkpoint import Checkpoint
    from ingest.social.x import XApiError, XClient, ingest_x

    settings = load_settings()
    if not settings.x_bearer_token:
        fail("no X API token: set C360_X_BEARER_TOKEN to your X API v2 bearer token")
    interval = parse_every(every)
    terms = matcher(settings)

    async def go() -> None:
        checkpoint = Checkpoint(checkpoints(settings) / "x.json")
        client = XClient(settings.x_bearer_token, settings.x_api_base)
        try:
            async with graph(settings) as store:
                with BatchScorer(scorer_config(settings)) as scorer:
                    pipeline = PostPipeline(store, scorer, terms)
                    while True:
                        with progress_bar(f"X: {query}") as tick:
                            result = await ingest_x(
                                pipeline,
                                client,
                                query,
                                checkpoint,
                                max_pages=max_pages,
                                page_size=page_size,
                                progress=tick,
                            )
                        print_totals(
                            f"X search {query!r}",
                            result.totals,
                            {"pages": result.pages, "since_id": result.since_id},
                        )
                        if result.unfinished:
                            console.print(
                                f"Stopped after {result.pages} page(s) with older posts left:"
                                " run the same command to fetch them (newer posts follow once"
                                " they are in)."
                            )
                        if not follow:
                            await compact(store)  # --follow: compacted by size instead
                            return
                        await asyncio.sleep(interval)
        finally:
            client.close()

    try:
        with unwinding_on_signals():  # SIGTERM unwinds: the graph is closed on the way out
            run(go())
    except XApiError as exc:
        fail(f"{exc}. Pages stored before the error are kept; run the same command to resume.", 1)
