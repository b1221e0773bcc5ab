"""Exported posts (Weibo / WeChat / forum JSON Lines) through the social pipeline."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from graph.errors import GraphError, GraphQueryError
from ingest.checkpoint import Checkpoint
from ingest.deadletter import DeadLetters
from ingest.mapping import ColumnMapping
from ingest.readers import ReadOptions, read_records
from ingest.runlock import import_lock
from ingest.social.model import MAX_POST_LINE_BYTES, POST_FIELDS, SocialPost, parse_post
from ingest.social.pipeline import PostPipeline, Prepared, Totals, run_batches
from ingest.sources import changed_options, import_options
from ingest.sources import checkpoint_key as file_key
from ingest.summary import ImportInterrupted, graph_cause

BATCH = 500


@dataclass
class FileResult:
    totals: Totals
    rejected: int  # dead letters this run added
    dead_letters: Path | None
    resumed_from: int  # last line already stored by an earlier, interrupted run
    dead_total: int = 0  # dead letters the file holds: ``rejected`` and those kept from before
    # The platform of each post this run read, as stored (its own field, the mapping's
    # [values]/[defaults], else ``platform``): how many posts each.
    platforms: dict[str, int] = field(default_factory=dict)
    # Why an interrupted run's checkpoint was not resumed from (other options): "" if none.
    not_resumed: str = ""
    # Keys the lines held that land in no post field (nor feed a nested [columns] entry),
    # and [columns] entries no line held: what the mapping or the export got wrong.
    ignored: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)


def checkpoint_key(path: Path) -> str:
    """The file's path, size and mtime, as a CRM import's: another file written to the same
    path (a new export) starts from line 1 with a fresh dead-letter file, not after the line
    the old file's interrupted run reached (QA, session 23)."""
    return file_key("posts", path)


def post_options(platform: str, mapping: ColumnMapping, read: ReadOptions) -> dict[str, object]:
    """The options that change what a line is stored as, named as a CRM import's
    (ingest.sources.import_options): a run given other ones does not resume an interrupted
    run's checkpoint (QA: a re-run with another --platform resumed, and the file's posts were
    stored half under each platform)."""
    crm = import_options(mapping, read, None, create_missing=False, as_of=None)
    return {"--platform": platform, "--mapping": crm["--mapping"], "--encoding": crm["--encoding"]}


def resume_point(state: object, options: dict[str, object], platform: str) -> tuple[int, str]:
    """The last line an interrupted run stored when this run may go on after it (else 0), and
    why it may not ("" when it may, or there is nothing to resume). ``state``: the checkpoint
    entry (an older one is the line alone, its options unknown)."""
    entry = state if isinstance(state, dict) else {"line": state}
    line = entry.get("line")
    if not isinstance(line, int) or line <= 0:
        return 0, ""
    changed = changed_options(entry.get("options"), options)
    if not changed:
        return line, ""
    why = (
        f"options changed since that run ({', '.join(changed)})"
        if isinstance(entry.get("options"), dict)
        else "that run's checkpoint does not say which options it ran with"
    )
    return 0, (
        f"started over: an earlier run stored the posts up to line {line}, but {why}, so every "
        f"line is read again as {platform}; what that run stored under another platform stays "
        "stored as it was"
    )


async def ingest_file(
    pipeline: PostPipeline,
    path: Path,
    checkpoint: Checkpoint,
    *,
    platform: str,
    mapping: ColumnMapping | None = None,
    encoding: str | None = None,
    batch_size: int = BATCH,
    progress: Callable[[int], None] | None = None,
) -> FileResult:
    """Ingest every post of ``path``; bad lines go to ``<stem>.dead.jsonl`` beside it;
    ImportRunning, nothing read, while another run ingests the same file.

    ``encoding`` (else the mapping's [source] encoding, else UTF-8, or UTF-16 by its BOM) is
    the file's. The mapping's [columns], [values] and [defaults] name post fields (MappingError
    before anything is read when one names another), and its [source] time_formats,
    date_formats and timezone read ``created_at``. A line longer than MAX_POST_LINE_BYTES is
    refused unread. The checkpoint holds the last line stored and the run's options, keyed by
    the file's path, size and mtime, so a re-run after a crash skips what is stored (and MERGE
    makes the one batch that may be re-done harmless), and another file at the same path, or
    the same file with another --platform, mapping or --encoding, starts over."""
    mapper = mapping or ColumnMapping.identity()
    mapper.check(POST_FIELDS, "posts")
    key = checkpoint_key(path)
    options = mapper.read_options(encoding)
    run_options = post_options(platform, mapper, options)
    # One run of a file at a time (ImportRunning, nothing written), as a CRM import's: two
    # would store the same posts, each count them, and share one checkpoint entry and one
    # dead-letter file (QA, session 25). Taken before the checkpoint is read.
    with import_lock(checkpoint.path.parent, key, path.name):
        done, not_resumed = resume_point(checkpoint.get(key), run_options, platform)
        platforms: dict[str, int] = {}
        keys: set[str] = set()  # the top-level keys the lines read held
        # A resumed run keeps the dead letters of the lines it skips (ingest.deadletter).
        with DeadLetters.beside(path).resuming(done) as dead:

            async def batches() -> AsyncIterator[tuple[list[SocialPost], int]]:
                batch: list[SocialPost] = []
                last = done
                for record in read_records(path, options, max_line=MAX_POST_LINE_BYTES):
                    if record.line <= done:
                        continue
                    last = record.line
                    if record.error is not None or record.data is None:
                        # The line's text (cut), not null: the dead letter says what to fix, each
                        # value the reader refused (ingest.readers.value_problems) named.
                        reasons = list(record.problems.values()) or [record.error or "empty record"]
                        dead.add(record.line, record.raw, reasons)
                        continue
                    keys.update(record.data)
                    try:
                        row = mapper.apply(record.data, formats=False)
                        post = parse_post(row, platform, mapper.source)
                    except ValueError as exc:
                        dead.add(record.line, record.data, str(exc).split("; "))
                        continue
                    batch.append(post)
                    platforms[post.platform] = platforms.get(post.platform, 0) + 1
                    if len(batch) >= batch_size:
                        yield batch, last
                        batch = []
                yield batch, last

            reached = [done, 0]  # the last line stored, and the posts this run stored

            def stored(line: int, prepared: Prepared, _n: int) -> None:
                dead.sync()  # on disk before the checkpoint passes their lines
                checkpoint.set(key, {"line": line, "options": run_options})
                reached[:] = [line, reached[1] + prepared.received]
                if progress is not None:
                    progress(prepared.received)

            try:
                totals = await run_batches(pipeline, batches(), stored)
            except GraphQueryError:
                raise  # a query the graph rejects: a re-run meets it again, said as it is
            except GraphError as exc:
                if isinstance(exc, ImportInterrupted):
                    raise
                raise interrupted(path, reached[0], reached[1], exc) from exc
        checkpoint.clear(key)
        parents = {path_[0] for _, path_ in mapper.nested}
        return FileResult(
            totals, dead.count, dead.path if dead.total else None, done, dead.total, platforms,
            not_resumed, [k for k in mapper.ignored(sorted(keys), POST_FIELDS) if k not in parents],
            mapper.unseen(keys) if keys else [],
        )  # fmt: skip


def interrupted(path: Path, line: int, posts: int, exc: GraphError) -> ImportInterrupted:
    """The run stopped by a graph failure (its server killed, restarted or still loading),
    as a CRM import's: what is stored and how to resume, in a command-line user's terms."""
    cause = graph_cause(exc)
    if line == 0:
        return ImportInterrupted(
            f"ingesting {path.name} was interrupted before any post was stored ({cause}); "
            "fix the cause and run the same command again",
            committed=0,
        )
    return ImportInterrupted(
        f"ingesting {path.name} was interrupted after line {line}: the posts up to it are "
        f"stored ({posts} this run; {cause}); fix the cause and run the same command again "
        f"to resume after line {line}",
        committed=posts,
    )


__all__ = [
    "BATCH",
    "FileResult",
    "checkpoint_key",
    "ingest_file",
    "interrupted",
    "post_options",
    "resume_point",
]
