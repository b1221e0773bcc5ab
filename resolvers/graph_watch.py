"""Events other processes wrote, read from the graph: posts stored by `c360 ingest` or by
another `serve --workers` process, and alerts another process raised.

While this process has subscribers, every ``poll_s`` seconds the watcher reads on from where it
stopped and publishes what the bus has not published lately (the in-process hook got there
first for this process's own webhook). Without subscribers it reads nothing. Latency: up to
``poll_s`` for events of other processes.

Posts are read in (ingestedAt, platform, postId) order from the key of the last post read, a
page of ``LIMIT`` at a time, up to ``PAGES_PER_LOOK`` pages a look: a bulk import stamps
thousands of posts with the same second, and a cursor of a time alone re-read the same first
page for ever. Each look also reads back the keys of the posts stamped in the last ``LAG_S``
seconds up to that key (a batch is stamped before it is scored and written, so one stamped
before a later one may commit after it; and another machine's clock may run behind ours) and
publishes those it has not seen. Alerts are read by time, ``LAG_S`` seconds back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import orjson

from graph.errors import GraphError
from graph.repositories import social_events
from graph.repositories.social_events import PostKey
from graph.store import GraphStore, Row
from resolvers.analytics import iso
from resolvers.event_bus import ALERTS, MENTIONS, EventBus, alert_key, post_key, stop_task

log = logging.getLogger("c360.live")

LAG_S = 30.0
LIMIT = 2000  # posts (or alerts) per read
# Pages of new posts per look: a larger backlog is read over the next looks, so one look's
# batches fit a subscriber's queue (resolvers.event_bus.DEFAULT_QUEUE_SIZE) with room to spare.
PAGES_PER_LOOK = 10


def _parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


class GraphWatcher:
    def __init__(
        self,
        bus: EventBus,
        get_store: Callable[[], Awaitable[GraphStore | None]],
        poll_s: float,
        on_posts: Callable[[list[Row]], None] | None = None,
    ) -> None:
        self.bus = bus
        self.get_store = get_store
        self.poll_s = poll_s
        self.on_posts = on_posts  # new posts of other processes (alert evaluation)
        self.cursor: PostKey | None = None  # the key of the last post read
        self.alerts_cursor: str | None = None  # ISO second of the newest alert seen
        self.looks = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.poll_s > 0:
            self._task = asyncio.create_task(self._loop(), name="graph-watcher")

    async def stop(self) -> None:
        await stop_task(self._task)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                await self.look()
            except GraphError as exc:
                log.warning("graph watcher: %s; trying again", exc)
            except Exception:
                log.exception("graph watcher failed; trying again")

    async def look(self) -> None:
        """One look at the graph (nothing without subscribers)."""
        alerts = self.bus.listeners(ALERTS)
        if not (self.bus.listeners(MENTIONS) or alerts):
            # The next subscriber starts from its own time, not a backlog.
            self.cursor = self.alerts_cursor = None
            return
        store = await self.get_store()
        if store is None:
            return
        now = iso(datetime.now(UTC))
        self.looks += 1
        if self.cursor is None:
            self.cursor = (now, "", "")  # before every post of this second
        await self._late_posts(store, now)
        await self._new_posts(store)
        if alerts:
            await self._alerts(store, now)

    async def _late_posts(self, store: GraphStore, now: str) -> None:
        """The posts stamped in the ``LAG_S`` seconds before the cursor that were not seen:
        committed after later-stamped posts were read. Counted back from our clock when the
        cursor is ahead of it (a post stamped by a clock running fast must not hide the
        others' posts of the next minutes)."""
        assert self.cursor is not None
        up_to = self.cursor
        after: PostKey = (_back(min(up_to[0], now)), "", "")
        while True:
            keys = await social_events.post_keys_ingested_between(store, after, up_to, LIMIT)
            unseen = [k for k in keys if not self.bus.seen(MENTIONS, post_key(k))]
            if unseen:
                self._publish(await social_events.posts_by_key(store, _refs(unseen)))
            if len(keys) < LIMIT:
                return
            after = social_events.post_key_of(keys[-1])

    async def _new_posts(self, store: GraphStore) -> None:
        """The posts after the cursor, page by page, the cursor at the last one read."""
        for _ in range(PAGES_PER_LOOK):
            assert self.cursor is not None
            page = await social_events.posts_ingested_after(store, self.cursor, LIMIT)
            if page:
                self.cursor = social_events.post_key_of(page[-1])
                self._publish(page)
            if len(page) < LIMIT:
                return

    def _publish(self, posts: list[Row]) -> None:
        new = self.bus.publish_once(MENTIONS, posts, post_key)
        if new and self.on_posts is not None:
            self.on_posts(new)

    async def _alerts(self, store: GraphStore, now: str) -> None:
        if self.alerts_cursor is None:
            self.alerts_cursor = now
        raised = await social_events.alerts_raised_since(store, _back(self.alerts_cursor), LIMIT)
        rows = [orjson.loads(r["payload"]) for r in raised if r.get("payload")]
        fresh = [r for r in rows if not self.bus.seen(ALERTS, alert_key(r))]
        if fresh:
            keys = [k for r in fresh for k in r["postKeys"]]
            by_key = {post_key(p): p for p in await social_events.posts_by_key(store, keys)}
            for r in fresh:
                found = (by_key.get(post_key(k)) for k in r.pop("postKeys"))
                r["posts"] = [p for p in found if p is not None]
            self.bus.publish_once(ALERTS, fresh, alert_key)
        newest = max([self.alerts_cursor, *(str(r["raisedAt"]) for r in raised)])
        self.alerts_cursor = min(newest, now)


def _back(moment: str) -> str:
    """``LAG_S`` seconds before ``moment``."""
    return iso(_parse(moment) - timedelta(seconds=LAG_S))


def _refs(keys: list[Row]) -> list[Row]:
    return [{"platform": k["platform"], "postId": k["postId"]} for k in keys]


__all__ = ["LAG_S", "LIMIT", "PAGES_PER_LOOK", "GraphWatcher"]
