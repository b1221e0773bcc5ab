"""schema/extensions/loop_turns: an async field whose coroutine finishes without waiting
answers a plain value; one that waits goes on where it stopped, sharing futures with other
fields and passing a cancellation on to the resolver."""

from __future__ import annotations

import asyncio
from inspect import isawaitable
from typing import Any

import pytest

from schema.extensions.loop_turns import _paced


async def test_a_coroutine_that_never_waits_answers_a_plain_value() -> None:
    async def resolve(source: Any, info: Any) -> str:
        return f"{source}!"

    assert _paced(resolve)("v", None) == "v!"


async def test_fields_waiting_on_one_future_all_get_its_value() -> None:
    loaded: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def resolve(source: Any, info: Any) -> int:
        return await loaded + source

    paced = _paced(resolve)
    answers = [paced(n, None) for n in range(3)]  # each stops at the same pending future
    assert all(isawaitable(a) for a in answers)
    loaded.set_result(10)
    assert await asyncio.gather(*answers) == [10, 11, 12]


async def test_a_cancelled_field_cancels_its_resolver() -> None:
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    seen: list[str] = []

    async def resolve(source: Any, info: Any) -> None:
        try:
            await never
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    task = asyncio.ensure_future(_paced(resolve)(None, None))
    await asyncio.sleep(0)
    task.cancel()
    results = await asyncio.gather(task, return_exceptions=True)
    assert isinstance(results[0], asyncio.CancelledError)
    assert seen == ["cancelled"]


async def test_an_error_after_a_wait_reaches_the_field() -> None:
    loaded: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def resolve(source: Any, info: Any) -> int:
        await loaded
        raise ValueError("bad row")

    answer = _paced(resolve)(None, None)
    loaded.set_result(1)
    with pytest.raises(ValueError, match="bad row"):
        await answer
