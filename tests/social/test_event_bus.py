"""The subscriptions' event bus: every subscriber gets every batch; one that falls behind is
dropped (bounded memory), the others keep theirs."""

from __future__ import annotations

import pytest

from resolvers.event_bus import ALERTS, MENTIONS, EventBus, SlowSubscriber


async def test_batches_reach_every_subscriber_of_their_topic_in_order() -> None:
    bus = EventBus(queue_size=4)
    a, b, other = bus.subscribe(MENTIONS), bus.subscribe(MENTIONS), bus.subscribe(ALERTS)
    assert bus.publish(MENTIONS, [{"n": 1}]) == 2
    assert bus.publish(MENTIONS, []) == 0  # nothing to say: nothing sent
    bus.publish(MENTIONS, [{"n": 2}])
    for sub in (a, b):
        got = [sub.queue.get_nowait(), sub.queue.get_nowait()]
        assert got == [[{"n": 1}], [{"n": 2}]]
    assert other.queue.empty()


async def test_a_slow_subscriber_is_dropped_with_a_clear_error() -> None:
    bus = EventBus(queue_size=2)
    slow, fast = bus.subscribe(MENTIONS), bus.subscribe(MENTIONS)
    for n in range(5):
        bus.publish(MENTIONS, [{"n": n}])
        fast.queue.get_nowait()  # the fast one keeps up
    assert slow.dropped and not fast.dropped
    assert bus.listeners(MENTIONS) == 1 and bus.dropped == 1
    assert slow.queue.qsize() == 3  # its two batches and the end marker, never more
    seen = []
    with pytest.raises(SlowSubscriber) as error:
        async for batch in slow:
            seen.append(batch)
    assert seen == [[{"n": 0}], [{"n": 1}]]
    assert error.value.extensions == {"code": "SUBSCRIBER_TOO_SLOW", "queueSize": 2}


async def test_closing_a_subscription_unsubscribes_it() -> None:
    bus = EventBus()
    sub = bus.subscribe(ALERTS)
    sub.close()
    assert bus.listeners(ALERTS) == 0 and bus.publish(ALERTS, [{"x": 1}]) == 0
