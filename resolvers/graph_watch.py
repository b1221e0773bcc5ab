"""Events other processes wrote, read from the graph: posts stored by `c360 ingest` or by
another `serve --workers` process, and alerts another process raised.

While this process has subscribers, every ``poll_s`` seconds the watcher reads the posts first
stored (``ingestedAt``) and the alerts raised since its last look, ``LAG_S`` seconds back (a
batch stamped before a later one may commit after it), and publishes what the bus has not
published lately (the in-process hook got there first for this process's own webhook). Without
subscribers it reads nothing. Latency: up to ``poll_s`` for events of other processes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import orjson

from graph.errors import GraphError
from graph.repositories import social_events
from graph.store import GraphStore, Row
from resolvers.analytics import iso
from resolvers.event_bus import ALERTS, MENTIONS, EventBus, alert_key, post_key, stop_task

log = logging.getLogger("c360.live")

LAG_S = 30.0
LIMIT = 2000  # posts per look; a larger backlog is read over the next looks


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
        self.cursor: str | None = None  # ISO second of the newest event seen
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
        mentions, alerts = self.bus.listeners(MENTIONS), self.bus.listeners(ALERTS)
        if not (mentions or alerts):
            self.cursor = None  # the next subscriber starts from its own time, not a backlog
            return
        store = await self.get_store()
        if store is None:
            return
        now = iso(datetime.now(UTC))
        if self.cursor is None:
            self.cursor = now
        since = iso(_parse(self.cursor) - timedelta(seconds=LAG_S))
        self.looks += 1
        newest = self.cursor
        posts = await social_events.posts_ingested_since(store, since, LIMIT)
        if posts:
            newest = max(newest, max(str(p.get("ingestedAt") or "") for p in posts))
            new = self.bus.publish_once(MENTIONS, posts, post_key)
            if new and self.on_posts is not None:
                self.on_posts(new)
        if alerts:
            raised = await social_events.alerts_raised_since(store, since, LIMIT)
            rows = [orjson.loads(r["payload"]) for r in raised if r.get("payload")]
            fresh = [r for r in rows if not self.bus.seen(ALERTS, alert_key(r))]
            if fresh:
                keys = [k for r in fresh for k in r["postKeys"]]
                by_key = {post_key(p): p for p in await social_events.posts_by_key(store, keys)}
                for r in fresh:
                    found = (by_key.get(post_key(k)) for k in r.pop("postKeys"))
                    r["posts"] = [p for p in found if p is not None]
                self.bus.publish_once(ALERTS, fresh, alert_key)
            if raised:
                newest = max(newest, max(str(r["raisedAt"]) for r in raised))
        self.cursor = min(newest, now) if newest else now


__all__ = ["LAG_S", "GraphWatcher"]
