"""X (Twitter) recent search through tweepy, page by page into the social pipeline.

tweepy builds every URL as "https://api.twitter.com" + route inside ``BaseClient.request``.
:class:`XClient` gives its own requests session a base to send those URLs to instead
(C360_X_API_BASE), keeping tweepy's paging and its ``wait_on_rate_limit`` handling of 429s.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import requests
import tweepy

from graph.text import has_control
from ingest.checkpoint import Checkpoint
from ingest.social.model import SocialPost, check_handle, count_out_of_range, text_too_long
from ingest.social.pipeline import PostPipeline, Prepared, Totals, run_batches

log = logging.getLogger(__name__)

TWEEPY_HOST = "https://api.twitter.com"
TWEET_FIELDS = [
    "created_at",
    "lang",
    "public_metrics",
    "referenced_tweets",
    "author_id",
    "conversation_id",
]
USER_FIELDS = ["username", "name", "public_metrics"]
PAGE_SIZE = 100


class _RebasedSession(requests.Session):
    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base.rstrip("/")

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        if isinstance(url, str) and url.startswith(TWEEPY_HOST):
            url = self.base + url[len(TWEEPY_HOST) :]
        return super().request(method, url, *args, **kwargs)


class XClient(tweepy.Client):  # type: ignore[misc]  # tweepy has no type information
    """A tweepy Client that talks to ``api_base`` (the real X API or a local stand-in)."""

    def __init__(self, bearer_token: str, api_base: str, *, wait_on_rate_limit: bool = True):
        super().__init__(bearer_token=bearer_token, wait_on_rate_limit=wait_on_rate_limit)
        self.session.close()
        self.session: requests.Session = _RebasedSession(api_base)

    def close(self) -> None:
        self.session.close()


class XApiError(RuntimeError):
    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status


def _iso(value: Any) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(value, "strftime") else str(value)


def _count(value: Any) -> int | None:
    """An X count as the files' and webhook's rule takes it (0..2^53-1), else not given."""
    if isinstance(value, int) and not isinstance(value, bool) and not count_out_of_range(value):
        return value
    return None


def to_posts(response: Any) -> list[SocialPost]:
    """A tweepy Response page -> SocialPost list, authors joined from includes.users."""
    users = {str(u.id): u for u in (response.includes or {}).get("users", [])}
    posts = []
    for tweet in response.data or []:
        user = users.get(str(tweet.author_id))
        names = [user.username, user.name] if user is not None else []
        if has_control([tweet.text, *names]):
            # As a file line or a webhook item with one is refused (a NUL cannot reach the
            # graph): the tweet is left out, the rest of the page stored.
            log.warning("tweet %s left out: contains a control character", tweet.id)
            continue
        if (too_long := text_too_long(tweet.text)) is not None:
            log.warning("tweet %s left out: text %s", tweet.id, too_long)
            continue
        try:
            # The one handle rule of files, webhooks and links (model.check_handle): a
            # username X would never send ("bad name", full-width) is left out as a file
            # line with it is refused, not stored as an account no link can name.
            handle = check_handle(user.username) if user is not None else None
        except ValueError as exc:
            log.warning("tweet %s left out: author handle %s", tweet.id, exc)
            continue
        refs = {r.type: str(r.id) for r in (tweet.referenced_tweets or [])}
        metrics = tweet.public_metrics or {}
        user_metrics = (user.public_metrics or {}) if user is not None else {}
        posts.append(
            SocialPost(
                platform="x",
                post_id=str(tweet.id),
                text=tweet.text,
                created_at=_iso(tweet.created_at),
                author_handle=handle,
                author_name=user.name if user is not None else None,
                author_followers=_count(user_metrics.get("followers_count")),
                lang=tweet.lang,
                url=f"https://x.com/{handle or 'i'}/status/{tweet.id}",
                reply_to=refs.get("replied_to"),
                repost_of=refs.get("retweeted"),
                quote_of=refs.get("quoted"),
                likes=_count(metrics.get("like_count")),
                reposts=_count(metrics.get("retweet_count")),
                replies=_count(metrics.get("reply_count")),
                views=_count(metrics.get("impression_count")),
            )
        )
    return posts


@dataclass
class XResult:
    totals: Totals
    pages: int
    since_id: str | None
    # The run stopped at ``max_pages`` with older pages left: the next run continues them
    # before anything newer (since_id moves only when a run has every page).
    unfinished: bool = False


def checkpoint_key(query: str) -> str:
    return f"query:{query}"


async def ingest_x(
    pipeline: PostPipeline,
    client: tweepy.Client,
    query: str,
    checkpoint: Checkpoint,
    *,
    max_pages: int | None = None,
    page_size: int = PAGE_SIZE,
    progress: Callable[[int], None] | None = None,
) -> XResult:
    """Fetch everything newer than the query's since_id, store it page by page.

    Checkpoint per query: ``{since_id, run: {since_id, newest_id, next_token}}``. ``run``
    exists only while a run is unfinished, so a crash resumes at the page it stopped on; the
    new since_id is saved only when every page is in; a run stopped by ``max_pages`` is left
    unfinished the same way (the next run fetches the older pages it left, then moves
    since_id), so a page limit never skips posts. Raises XApiError (with the HTTP status)
    on API failures other than rate limits, after keeping every page already stored."""
    key = checkpoint_key(query)
    state: dict[str, Any] = dict(checkpoint.get(key, {}) or {})
    run: dict[str, Any] = dict(state.get("run") or {"since_id": state.get("since_id")})
    pages = 0

    async def fetch() -> AsyncIterator[tuple[list[SocialPost], dict[str, Any]]]:
        nonlocal pages
        kwargs: dict[str, Any] = {
            "max_results": max(10, min(100, page_size)),  # the API's allowed range
            "tweet_fields": TWEET_FIELDS,
            "expansions": ["author_id"],
            "user_fields": USER_FIELDS,
        }
        if run.get("since_id"):
            kwargs["since_id"] = run["since_id"]
        if run.get("next_token"):
            kwargs["pagination_token"] = run["next_token"]
        paginator = tweepy.Paginator(
            client.search_recent_tweets,
            query,
            limit=max_pages if max_pages is not None else float("inf"),
            **kwargs,
        )
        pages_iter = iter(paginator)
        newest = run.get("newest_id")  # the first page of a run holds the newest post
        while True:
            try:
                page = await asyncio.to_thread(next, pages_iter, None)
            except tweepy.HTTPException as exc:
                status = exc.response.status_code if exc.response is not None else None
                detail = "; ".join(exc.api_messages) or str(exc)
                raise XApiError(status, f"X API answered HTTP {status}: {detail}") from None
            except requests.RequestException as exc:
                raise XApiError(None, f"X API unreachable: {exc}") from None
            if page is None:
                return
            pages += 1
            meta = page.meta or {}
            newest = newest or meta.get("newest_id")
            marker = {
                "newest_id": newest,
                "next_token": meta.get("next_token"),
            }
            yield to_posts(page), marker

    async def stored(marker: dict[str, Any], prepared: Prepared, _n: int) -> None:
        run.update(marker)
        checkpoint.set(key, {"since_id": state.get("since_id"), "run": run})
        if progress is not None:
            progress(prepared.received)

    totals = await run_batches(pipeline, fetch(), stored)
    if run.get("next_token"):
        # Stopped by max_pages with older pages left: moving since_id to the newest post now
        # would leave the pages between the old since_id and this run's last page unfetched
        # for good. The run stays open; the next one resumes at next_token.
        return XResult(totals, pages, state.get("since_id"), unfinished=True)
    since_id = run.get("newest_id") or state.get("since_id")
    checkpoint.set(key, {"since_id": since_id})
    return XResult(totals, pages, since_id)


__all__ = ["XApiError", "XClient", "XResult", "checkpoint_key", "ingest_x", "to_posts"]
