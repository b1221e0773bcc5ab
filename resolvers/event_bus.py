"""The in-process event bus behind the GraphQL subscriptions: new posts and raised alerts.

Publishers (the social ingest paths after their graph write commits, the alert evaluation)
call :meth:`EventBus.publish` without waiting: every subscriber has its own bounded queue, and
a subscriber whose queue is full is dropped (its stream ends with :class:`SlowSubscriber`), so
a client that stops reading costs at most ``queue_size`` batches of memory, never more, and
never slows the publisher or the other subscribers.

One bus per process: with ``serve --workers N`` a websocket sees the events of its own worker
only (see the README's subscription section).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from resolvers.errors import ApiError

MENTIONS = "mentions"
ALERTS = "alerts"
TOPICS = (MENTIONS, ALERTS)
DEFAULT_QUEUE_SIZE = 64  # batches a subscriber may fall behind before it is dropped
# Keys of items published lately, per topic: an item found both by the in-process hook and by
# the graph watcher (resolvers/graph_watch.py) goes out once.
RECENT_KEYS = 50_000

Event = list[dict[str, Any]]  # one batch: post rows, or alert rows


class SlowSubscriber(ApiError):
    """The subscriber fell ``queue_size`` batches behind and was dropped."""

    code = "SUBSCRIBER_TOO_SLOW"

    def __init__(self, queue_size: int) -> None:
        super().__init__(
            f"this subscription fell {queue_size} batches behind and was dropped; "
            "read faster or narrow it, then subscribe again",
            queueSize=queue_size,
        )


class Subscription:
    """One subscriber's queue; iterate it for batches until it is closed or dropped."""

    def __init__(self, bus: EventBus, topic: str, queue_size: int) -> None:
        self.bus = bus
        self.topic = topic
        self.queue_size = queue_size
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(queue_size + 1)
        self.dropped = False

    def offer(self, event: Event) -> None:
        if self.dropped:
            return
        if self.queue.qsize() >= self.queue_size:
            # Full: drop the subscriber, not the event for the others. The spare slot holds
            # the end marker, so what it did queue is freed as soon as it reads on.
            self.dropped = True
            self.bus.unsubscribe(self)
            self.queue.put_nowait(None)
            return
        self.queue.put_nowait(event)

    async def __aiter__(self) -> AsyncIterator[Event]:
        try:
            while True:
                event = await self.queue.get()
                if event is None:
                    if self.dropped:
                        raise SlowSubscriber(self.queue_size)
                    return
                yield event
        finally:
            self.close()

    def close(self) -> None:
        self.bus.unsubscribe(self)


class EventBus:
    def __init__(self, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self.queue_size = queue_size
        self._subscribers: dict[str, set[Subscription]] = {t: set() for t in TOPICS}
        self.published: dict[str, int] = dict.fromkeys(TOPICS, 0)
        self.dropped = 0
        self._recent: dict[str, OrderedDict[str, None]] = {t: OrderedDict() for t in TOPICS}
        self._since: dict[str, datetime | None] = dict.fromkeys(TOPICS)

    def subscribe(self, topic: str) -> Subscription:
        if not self._subscribers[topic]:
            self._since[topic] = datetime.now(UTC)
        subscription = Subscription(self, topic, self.queue_size)
        self._subscribers[topic].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        found = subscription in self._subscribers[subscription.topic]
        self._subscribers[subscription.topic].discard(subscription)
        if not self._subscribers[subscription.topic]:
            self._since[subscription.topic] = None
        if found and subscription.dropped:
            self.dropped += 1

    def listeners(self, topic: str) -> int:
        return len(self._subscribers[topic])

    def listening_since(self, topic: str) -> datetime | None:
        """When ``topic`` last went from no subscribers to some (None: it has none): what was
        stored before is not news to any of them (resolvers/graph_watch.py)."""
        return self._since[topic]

    def fresh(self, topic: str, items: Event, key: Callable[[dict[str, Any]], str]) -> Event:
        """The items whose ``key`` was not seen lately, now remembered as seen."""
        recent = self._recent[topic]
        out = []
        for item in items:
            k = key(item)
            if k not in recent:
                recent[k] = None
                out.append(item)
        while len(recent) > RECENT_KEYS:
            recent.popitem(last=False)
        return out

    def seen(self, topic: str, key: str) -> bool:
        return key in self._recent[topic]

    def publish_once(self, topic: str, event: Event, key: Callable[[dict[str, Any]], str]) -> Event:
        """:meth:`publish` the items not seen lately; those items."""
        new = self.fresh(topic, event, key)
        self.publish(topic, new)
        return new

    def publish(self, topic: str, event: Event) -> int:
        """Hand ``event`` to every subscriber of ``topic`` (never blocks); how many got it."""
        if not event:
            return 0
        self.published[topic] += 1
        delivered = 0
        for subscription in list(self._subscribers[topic]):
            subscription.offer(event)
            delivered += not subscription.dropped
        return delivered


async def stop_task(task: asyncio.Task[None] | None) -> None:
    """Cancel a background loop and wait for it. Cancelled again until it ends: a graph
    driver may turn a cancellation inside a query into its own error, which the loop then
    logs and survives."""
    while task is not None and not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=1.0)


def post_key(row: dict[str, Any]) -> str:
    return f"{row['platform']}:{row['postId']}"


def alert_key(row: dict[str, Any]) -> str:
    return str(row["key"])


__all__ = [
    "ALERTS",
    "DEFAULT_QUEUE_SIZE",
    "MENTIONS",
    "EventBus",
    "SlowSubscriber",
    "Subscription",
    "alert_key",
    "post_key",
    "stop_task",
]
