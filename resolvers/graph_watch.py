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

Where a stretch of listening starts (the bus's ``listening_since``: the first subscriber after
none) is the watermark: posts stamped from that second on are news; those stamped in the
``LAG_S`` seconds before it and stored by the first look are not, they are marked seen and never
pushed (QA, session 26: every post of the 30 s before a console opened came back as new, and
the page counted them twice). A post stamped before the start that commits after the first look
is still a late post and goes out. What it costs: one stamped before the start that committed
between the start and the first look (``poll_s`` at most) is not pushed; the next search has it.
A subscriber who joins while others listen gets what the watcher reads from then on, which may
include posts stored in the ``poll_s`` before it joined: the console drops a post it shows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
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
        # Where the stretches of listening the cursors belong to began (EventBus.listening_since)
        self.started: datetime | None = None  # to either topic: the posts' cursor
        self.alerts_started: datetime | None = None  # to alerts: the alerts' cursor
        self._starts: set[datetime] = set()  # the topics' starts at the last look
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
        starts = [s for s in map(self.bus.listening_since, (MENTIONS, ALERTS)) if s is not None]
        if not starts:
            # The next subscriber starts from its own time, not a backlog.
            self.cursor = self.alerts_cursor = self.started = self.alerts_started = None
            self._starts = set()
            return
        if self.started is None or not self._starts.intersection(starts):
            # Everyone left and someone came since the last look: from the newcomer's start.
            # (One topic's listeners leaving while the other's stay is no new stretch: the
            # cursor goes on, or posts read already would be read and handed on again.)
            self.cursor, self.started = None, min(starts)
        self._starts = set(starts)
        alerts_since = self.bus.listening_since(ALERTS)
        if alerts_since != self.alerts_started:
            self.alerts_cursor, self.alerts_started = None, alerts_since
        store = await self.get_store()
        if store is None:
            return
        now = iso(datetime.now(UTC))
        self.looks += 1
        if self.cursor is None:
            start = iso(self.started)
            await self._known_at_start(store, start)
            self.cursor = (start, "", "")  # before every post of the start's second
        await self._late_posts(store, now)
        await self._new_posts(store)
        if alerts_since is not None:
            await self._alerts(store, now, iso(alerts_since))

    async def _known_at_start(self, store: GraphStore, start: str) -> None:
        """Mark seen the posts stamped in the ``LAG_S`` seconds before ``start`` that are
        stored already: the subscribers' own searches had them, they are not news."""
        before: PostKey = (start, "", "")  # at or before it: stamped before ``start``
        async for keys in self._keys_between(store, (_back(start), "", ""), before):
            self.bus.fresh(MENTIONS, keys, post_key)

    async def _late_posts(self, store: GraphStore, now: str) -> None:
        """The posts stamped in the ``LAG_S`` seconds before the cursor that were not seen:
        committed after later-stamped posts were read. Counted back from our clock when the
        cursor is ahead of it (a post stamped by a clock running fast must not hide the
        others' posts of the next minutes)."""
        assert self.cursor is not None
        up_to = self.cursor
        async for keys in self._keys_between(store, (_back(min(up_to[0], now)), "", ""), up_to):
            unseen = [k for k in keys if not self.bus.seen(MENTIONS, post_key(k))]
            if unseen:
                self._publish(await social_events.posts_by_key(store, _refs(unseen)))

    async def _keys_between(
        self, store: GraphStore, after: PostKey, up_to: PostKey
    ) -> AsyncIterator[list[Row]]:
        """The keys of the posts after ``after`` and at or before ``up_to``, a page at a time."""
        while True:
            keys = await social_events.post_keys_ingested_between(store, after, up_to, LIMIT)
            yield keys
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

    async def _alerts(self, store: GraphStore, now: str, start: str) -> None:
        if self.alerts_cursor is None:
            # Alerts raised before the alert subscribers' start are not news (as posts).
            self.alerts_cursor = start
            known = await social_events.alerts_raised_since(store, _back(start), LIMIT)
            before = [r for r in known if r.get("payload") and str(r["raisedAt"]) < start]
            self.bus.fresh(ALERTS, [orjson.loads(r["payload"]) for r in before], alert_key)
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
