"""Async fields take a turn on the event loop before their value is completed.

graphql-core completes a resolved list in one go (100 customers with all their fields, then
the next alias's 100, ...), and when many async fields resolve together their completions run
back to back. :func:`install` wraps the graphql-core resolver of every field with an async
resolver so that completing its value waits for a turn (shared.loop_turns); sync fields are
left untouched and cost nothing extra.

An async resolver whose loads are answered already (the 360 view's, primed by
resolvers/prefetch360.py) finishes without ever waiting. Its coroutine is run here up to its
first wait: when it finishes in that step and the loop's slice has time left, the field
answers a plain value, as a sync field does, and graphql-core completes it and its object in
the same step (a used-up slice still takes its turn first, as a loaded value does in
resolvers/paced_loader.py). Otherwise graphql-core gets an awaitable that goes on from where
the coroutine stopped. graphql-core gathers an object's awaitable fields in tasks: a 360 view
made 23.7 tasks and ~11,000 function calls, 11.8 and ~9,800 now (bench/cprofile_360.py).
"""

from __future__ import annotations

import types
from asyncio import isfuture
from collections.abc import Callable, Coroutine, Generator
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any

import strawberry

from schema.extensions.schema_fields import object_fields
from shared.loop_turns import after_turn, slice_left, turn


def _paced(resolve: Callable[..., Any]) -> Callable[..., Any]:
    # Positional-only: a field may have an argument called ``source`` or ``info``.
    def run(source: Any, info: Any, /, **kwargs: Any) -> Any:
        result = resolve(source, info, **kwargs)
        if not isinstance(result, types.CoroutineType):
            return after_turn(result) if isawaitable(result) else result
        try:
            waiting_on = result.send(None)  # the first step, here (its errors raise here)
        except StopIteration as finished:
            # Like a loaded value in resolvers/paced_loader.py: it wakes nobody, so it goes on
            # in this step while the slice has time left.
            if slice_left():
                return finished.value
            return _after_turn_value(finished.value)
        if isfuture(waiting_on):
            # What a task does with a future its step yielded: until a task takes it up,
            # another coroutine awaiting the same future (two fields awaiting one load) would
            # find it marked as yielded and fail ("await wasn't used with future").
            waiting_on._asyncio_future_blocking = False
        return after_turn(_resume(result, waiting_on))

    return run


async def _after_turn_value(value: Any) -> Any:
    await turn()
    return value


@dataclass(frozen=True, slots=True)
class _Finished:
    value: Any


def _step(coro: Coroutine[Any, Any, Any], sent: Any) -> Any:
    """``coro`` resumed with ``sent``: what it waits on next, or its result as _Finished."""
    try:
        return coro.send(sent)
    except StopIteration as finished:
        return _Finished(finished.value)


@types.coroutine
def _resume(coro: Coroutine[Any, Any, Any], waiting_on: Any) -> Generator[Any, Any, Any]:
    """The rest of ``coro``, which stopped at its first wait on ``waiting_on``: what awaiting
    it would have done from there (values sent and exceptions thrown in, e.g. a cancellation,
    go on to ``coro``)."""
    while True:
        if isfuture(waiting_on):
            if waiting_on.done():  # answered meanwhile: no need to wait for it
                waiting_on = _step(coro, None)
                if isinstance(waiting_on, _Finished):
                    return waiting_on.value
                continue
            waiting_on._asyncio_future_blocking = True  # as the future's own await sets it
        try:
            sent = yield waiting_on
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as exc:
            try:
                waiting_on = coro.throw(exc)
            except StopIteration as finished:
                return finished.value
        else:
            try:
                waiting_on = coro.send(sent)
            except StopIteration as finished:
                return finished.value


def install(schema: strawberry.Schema) -> int:
    """Wrap the resolvers of async fields; returns how many were wrapped."""
    wrapped = 0
    # Subscription fields resolve to streams, not values.
    for field, definition in object_fields(schema, subscriptions=False):
        if definition is None or not definition.is_async or field.resolve is None:
            continue
        field.resolve = _paced(field.resolve)
        wrapped += 1
    return wrapped


__all__ = ["install"]
