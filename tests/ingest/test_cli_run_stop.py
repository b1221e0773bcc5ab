"""A command stopped by a signal that lands in one of its tasks says nothing but its own
sentence: asyncio logged that task's SystemExit with a traceback ("Task exception was never
retrieved"; seen in a few runs of a SIGTERM'd import, session 24)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from hub.cli.common import quiet_on_stop, run


def test_a_commands_loop_takes_a_stop_in_a_task_quietly(caplog: pytest.LogCaptureFixture) -> None:
    async def command() -> None:
        loop = asyncio.get_running_loop()
        assert loop.get_exception_handler() is quiet_on_stop
        for stop in (SystemExit(143), KeyboardInterrupt()):
            loop.call_exception_handler(
                {"message": "Task exception was never retrieved", "exception": stop}
            )
        loop.call_exception_handler({"message": "a real failure", "exception": OSError(5)})

    with caplog.at_level(logging.ERROR, logger="asyncio"):
        run(command())
    logged = [r.getMessage() for r in caplog.records if r.name == "asyncio"]
    assert logged == ["a real failure"], logged
