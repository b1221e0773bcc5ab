"""One pipeline for every social source: validate -> dedupe -> score -> tag -> link -> store.

Sources hand over validated :class:`SocialPost` batches; ``prepare`` does the CPU work
(scoring in the process pool, off the event loop) and ``write`` does one batched upsert, so a
runner can score batch N+1 while batch N is written. A checkpoint callback runs after each
write, never before, so a crash re-does at most one batch and MERGE keeps that idempotent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from graph.repositories import social as repo
from graph.store import GraphStore, Row
from ingest.social.fingerprint import fingerprint, looks_like_repost
from ingest.social.lang import detect_lang
from ingest.social.model import SocialPost
from ingest.social.terms import TermMatcher
from sentiment.batch import BatchScorer
from sentiment.scorer import Score

T = TypeVar("T")
log = logging.getLogger("c360.ingest")

# The Source contract every social source meets (ingest/social/files.py, ingest/social/x.py):
# batches of validated posts, each with a marker (a line number, a since_id) that run_batches
# hands back to ``on_stored`` once that batch is durable, for the source's checkpoint.
PostBatches = AsyncIterable[tuple[list[SocialPost], T]]


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def post_ref(platform: str, post_id: str) -> str:
    return f"{platform}:{post_id}"


@dataclass
class Prepared:
    rows: list[Row]
    received: int
    new: int = 0  # (platform, postId) neither stored nor seen earlier in this run
    updated: int = 0  # stored before this run with another text: edited, so re-scored
    unchanged: int = 0  # stored before this run with the same text (metrics only grow)
    same_id: int = 0  # delivered again in this run (same batch or an earlier one)
    reposts: int = 0  # new posts that are reposts (marker or repostOf)
    fingerprints: list[str] = field(default_factory=list)  # to settle after the write
    left: list[str] = field(default_factory=list)  # of those, the ones edited posts left

    @property
    def duplicates(self) -> int:
        """Posts received that neither added a node nor changed a stored text: repeats within
        the run and posts stored before with the same text."""
        return self.received - self.new - self.updated


@dataclass
class Totals:
    """What a run did, in numbers that match the store: ``new`` nodes were created;
    ``text_duplicates`` is the change in posts marked ``duplicateOf`` (for a first load, the
    number marked); labels count the new posts."""

    received: int = 0
    stored: int = 0  # rows written (new + updated + unchanged)
    new: int = 0
    updated: int = 0  # stored before, text edited (re-scored)
    unchanged: int = 0  # stored before, same text
    same_id_duplicates: int = 0
    text_duplicates: int = 0
    reposts: int = 0
    by_label: dict[str, int] = field(default_factory=dict)

    @property
    def duplicates(self) -> int:
        return self.same_id_duplicates

    def add(self, prepared: Prepared, stored: int) -> None:
        self.received += prepared.received
        self.stored += stored
        self.new += prepared.new
        self.updated += prepared.updated
        self.unchanged += prepared.unchanged
        self.same_id_duplicates += prepared.same_id
        self.reposts += prepared.reposts
        for row in prepared.rows:
            if not row.get("isNew"):
                continue
            label = row["props"]["sentimentLabel"]
            self.by_label[label] = self.by_label.get(label, 0) + 1


def _grown(earlier: int | None, later: int | None) -> int | None:
    return later if earlier is None else earlier if later is None else max(earlier, later)


def merged(earlier: SocialPost, later: SocialPost) -> SocialPost:
    """Two copies of one post as the graph write keeps them (graph/repositories/social.py
    upsert_posts): the later copy's fields, engagement figures only growing (an older copy,
    later in a push or a file, never rolls them back)."""
    return replace(
        later,
        likes=_grown(earlier.likes, later.likes),
        reposts=_grown(earlier.reposts, later.reposts),
        replies=_grown(earlier.replies, later.replies),
        views=_grown(earlier.views, later.views),
    )


def unique(posts: Iterable[SocialPost]) -> tuple[list[SocialPost], int]:
    """One post per (platform, postId), merged copy by copy (:func:`merged`); repeats."""
    seen: dict[tuple[str, str], SocialPost] = {}
    total = 0
    for post in posts:
        before = seen.get(post.key)
        seen[post.key] = post if before is None else merged(before, post)
        total += 1
    return list(seen.values()), total - len(seen)


def _unique_with_fingerprints(
    batch: Iterable[SocialPost],
) -> tuple[list[SocialPost], int, list[str | None]]:
    posts, repeats = unique(batch)
    return posts, repeats, [fingerprint(p.text) for p in posts]


def assign_originals(
    posts: list[SocialPost], fingerprints: list[str | None], known: dict[str, Row]
) -> list[str | None]:
    """duplicateOf per post: the earliest post with the same fingerprint, if it is another.

    ``known`` maps fingerprint -> {platform, postId, createdAt} of the earliest post seen so
    far; it is updated with this batch, so later batches see this batch's originals."""
    order = sorted(range(len(posts)), key=lambda i: (posts[i].created_at, posts[i].key))
    result: list[str | None] = [None] * len(posts)
    for i in order:
        fp, post = fingerprints[i], posts[i]
        if fp is None:
            continue
        original = known.get(fp)
        mine = {"platform": post.platform, "postId": post.post_id, "createdAt": post.created_at}
        if original is None or _order(mine) < _order(original):
            # The earliest post is the original whatever arrived first; the stored posts of
            # this fingerprint are re-pointed after the write (``settle_fingerprints``).
            known[fp] = mine
            continue
        if (original["platform"], original["postId"]) != post.key:
            result[i] = post_ref(original["platform"], original["postId"])
    return result


def _order(post: Row) -> tuple[str, str, str]:
    return (str(post["createdAt"]), str(post["platform"]), str(post["postId"]))


def to_row(
    post: SocialPost,
    *,
    fp: str | None,
    duplicate_of: str | None,
    score: Score,
    model: str,
    matcher: TermMatcher,
    ingested_at: str,
) -> Row:
    tags = matcher.tag(post.text)
    props: dict[str, Any] = {
        "text": post.text,
        # Detected when the source gives none (langDetected says so).
        "lang": post.lang or detect_lang(post.text),
        "langDetected": post.lang is None,
        "createdAt": post.created_at,
        "url": post.url,
        "authorHandle": post.author_handle,
        "replyTo": post.reply_to,
        "repostOf": post.repost_of,
        "quoteOf": post.quote_of,
        "likes": post.likes,
        "reposts": post.reposts,
        "replies": post.replies,
        "views": post.views,
        **sentiment_props(score, model),
        "brands": tags.brands,
        "products": tags.products,
        "keywords": tags.keywords,
        "fingerprint": fp,
        "isRepost": bool(post.repost_of) or looks_like_repost(post.text),
        "duplicateOf": duplicate_of,
    }
    author = None
    if post.author_handle:
        account = {"name": post.author_name, "followers": post.author_followers}
        author = {
            "handle": post.author_handle,
            "props": {k: v for k, v in account.items() if v is not None},
        }
    return {
        "platform": post.platform,
        "postId": post.post_id,
        # Unknown metrics stay unknown: SET += with null would erase a value stored earlier.
        "props": {k: v for k, v in props.items() if v is not None or k in _NULLABLE},
        "ingestedAt": ingested_at,
        "author": author,
        "brands": tags.brands,
        "products": tags.products,
    }


_NULLABLE = frozenset(
    {
        "sentimentScore",
        "sentimentPositive",
        "sentimentNeutral",
        "sentimentNegative",
        "sentimentEmotion",
        "duplicateOf",
    }
)


def sentiment_props(score: Score, model: str) -> dict[str, Any]:
    """The Post properties one score sets (a rescore sets exactly these, so nothing stale is
    left from an earlier model: absent values are written as null)."""
    probs = score.probabilities
    return {
        "sentimentScore": score.score,
        "sentimentLabel": score.label.value,
        "sentimentModel": model,
        "sentimentPositive": probs.positive if probs else None,
        "sentimentNeutral": probs.neutral if probs else None,
        "sentimentNegative": probs.negative if probs else None,
        "sentimentEmotion": score.emotion,
    }


# Called after a batch's write commits (the hub publishes new posts to subscribers with it).
OnWritten = Callable[[GraphStore, "Prepared"], Awaitable[None]]


class PostPipeline:
    def __init__(
        self,
        store: GraphStore,
        scorer: BatchScorer,
        matcher: TermMatcher,
        *,
        now: Callable[[], str] = utc_now,
        on_written: OnWritten | None = None,
    ) -> None:
        self.store = store
        self.scorer = scorer
        self.matcher = matcher
        self.now = now
        self.on_written = on_written
        self._known: dict[str, Row] = {}  # fingerprint -> earliest post, this run
        self._seen: set[tuple[str, str]] = set()  # keys received in this run
        # fingerprint -> posts marked duplicateOf before this run / after the last settle
        self._dups_before: dict[str, int] = {}
        self._dups_after: dict[str, int] = {}

    @property
    def text_duplicates(self) -> int:
        """Change in posts marked as text duplicates over this run (matches the store)."""
        return sum(n - self._dups_before.get(f, 0) for f, n in self._dups_after.items())

    async def prepare(self, batch: Iterable[SocialPost]) -> Prepared:
        # The CPU work runs in worker threads, two hops a batch whatever its size (dedupe and
        # fingerprints; scores and rows): a 1000-post push held the event loop ~300 ms.
        posts, repeats, fps = await asyncio.to_thread(_unique_with_fingerprints, batch)
        if not posts:
            return Prepared([], repeats, repeats)
        keys = [{"platform": p.platform, "postId": p.post_id} for p in posts]
        # One read per batch: which keys are stored, and with what text (an edited post is
        # an update, the same text a repeat) and fingerprint.
        stored = await repo.stored_posts(self.store, keys)
        # The fingerprints edited posts leave: their groups are settled again after the write
        # (the earliest post left is the original), else the others keep pointing at the
        # edited post and deduped counts lose them.
        left = {
            before
            for post, fp in zip(posts, fps, strict=True)
            if post.key in stored
            and (before := stored[post.key]["fingerprint"]) is not None
            and before != fp
        }
        wanted = sorted(
            {f for f in fps if f is not None and f not in self._known}
            | {f for f in left if f not in self._dups_before}
        )
        if wanted:
            found = await repo.fingerprint_originals(self.store, wanted)
            for fp, row in found.items():
                self._known[fp] = row["original"]
                self._dups_before.setdefault(fp, int(row["duplicates"]))
        originals = assign_originals(posts, fps, self._known)
        rows = await asyncio.to_thread(self._scored_rows, posts, fps, originals, self.now())
        prepared = Prepared(rows, len(posts) + repeats, same_id=repeats)
        for row, post in zip(rows, posts, strict=True):
            if post.key in self._seen:
                prepared.same_id += 1
            elif post.key in stored:
                if stored[post.key]["text"] == post.text:
                    prepared.unchanged += 1
                else:
                    prepared.updated += 1
            else:
                prepared.new += 1
                prepared.reposts += bool(row["props"]["isRepost"])
                row["isNew"] = True
            self._seen.add(post.key)
        prepared.fingerprints = sorted({f for f in fps if f is not None} | left)
        prepared.left = sorted(left)
        return prepared

    def _scored_rows(
        self,
        posts: list[SocialPost],
        fps: list[str | None],
        originals: list[str | None],
        now: str,
    ) -> list[Row]:
        """Score and build the rows (in a worker thread: pure CPU, no I/O, no loop state)."""
        scores = self.scorer.score([p.text for p in posts])
        model = self.scorer.version
        return [
            to_row(
                post,
                fp=fp,
                duplicate_of=orig,
                score=score,
                model=model,
                matcher=self.matcher,
                ingested_at=now,
            )
            for post, fp, orig, score in zip(posts, fps, originals, scores, strict=True)
        ]

    async def write(self, prepared: Prepared) -> int:
        if not prepared.rows:
            return 0
        written = await repo.upsert_posts(self.store, prepared.rows)
        if prepared.fingerprints:
            settled = await repo.settle_fingerprints(self.store, prepared.fingerprints)
            for fp, n in settled.items():
                self._dups_before.setdefault(fp, 0)
                self._dups_after[fp] = n
            for fp in prepared.left:
                self._known.pop(fp, None)  # its original may be the edited post: read again
            for fp in set(prepared.left) - set(settled):
                self._dups_after[fp] = 0  # no post has it any more
        if self.on_written is not None:
            try:
                await self.on_written(self.store, prepared)
            except Exception:
                # The posts are stored: a live listener's failure must not fail the ingest.
                log.exception("the after-write hook failed; the batch is stored")
        return written

    async def ingest(self, batch: Iterable[SocialPost]) -> tuple[Prepared, int]:
        prepared = await self.prepare(batch)
        return prepared, await self.write(prepared)


async def run_batches(
    pipeline: PostPipeline,
    batches: PostBatches[T],
    on_stored: Callable[[T, Prepared, int], Awaitable[None] | None] | None = None,
) -> Totals:
    """Prepare batch N+1 while batch N is written; ``on_stored(marker, ...)`` runs after each
    write in order (checkpoints, progress)."""
    totals = Totals()
    pending: tuple[asyncio.Task[int], Prepared, T] | None = None

    async def finish(job: tuple[asyncio.Task[int], Prepared, T]) -> None:
        task, prepared, marker = job
        stored = await task
        totals.add(prepared, stored)
        totals.text_duplicates = pipeline.text_duplicates
        if on_stored is not None:
            result = on_stored(marker, prepared, stored)
            if result is not None:
                await result

    try:
        async for batch, marker in batches:
            prepared = await pipeline.prepare(batch)
            if pending is not None:
                job, pending = pending, None
                await finish(job)
            pending = (asyncio.create_task(pipeline.write(prepared)), prepared, marker)
    finally:
        # Also when the source fails: the write in flight completes and is checkpointed, so
        # what was stored before the error is kept and not fetched again.
        if pending is not None:
            await finish(pending)
    return totals


__all__ = [
    "OnWritten",
    "PostBatches",
    "PostPipeline",
    "Prepared",
    "Totals",
    "assign_originals",
    "post_ref",
    "run_batches",
    "sentiment_props",
    "to_row",
    "unique",
    "utc_now",
]
