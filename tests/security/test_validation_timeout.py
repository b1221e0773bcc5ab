"""The request timeout stops a request whose validation runs long (issue 11, item 1): the
answer is the timeout's, when the timeout falls, while the abandoned validation finishes in its
own thread and its result is dropped. Through the ASGI app, the real schema and rules.

"Answered while the validation still runs" is read off the validation thread itself (is it
inside graphql-core's ``validate`` after the answer arrived?), not by comparing the answer's
wall time with a validation timed apart: a document of many aliases took about as long to parse
(on the event loop, before the validation starts) as to validate, so on a loaded machine the
answer came after the parse, sometimes before the validation had even begun, and the two times
overlapped."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from graphql import parse
from strawberry import Schema

from graph.store import GraphStore
from hub.app import create_app
from schema.extensions.limits import Validator, build_validator
from schema.root import build_schema
from shared.settings import Settings

TIMEOUT_S = 0.3


def _repeated(n: int) -> str:
    # The same field n times: graphql-core's overlapping-fields rule compares them pairwise,
    # so validating takes ~100x as long as parsing (which runs on the event loop before the
    # validation starts, and must end well within the timeout).
    return "{ " + "customers(first: 1) { totalCount } " * n + "}"


def validating() -> bool:
    """Whether one of the hub's validation threads (``validate_*``, schema/extensions/limits.py)
    is running graphql-core's validation right now."""
    threads = {t.ident for t in threading.enumerate() if t.name.startswith("validate")}
    for ident, frame in sys._current_frames().items():
        walk = frame if ident in threads else None
        while walk is not None:
            code = walk.f_code
            if code.co_name == "validate" and "graphql" in code.co_filename:
                return True
            walk = walk.f_back
    return False


def _timed(validator: Validator, schema: Schema, query: str) -> tuple[float, float]:
    """Seconds to parse ``query``, and to validate it."""
    started = time.perf_counter()
    document = parse(query)
    parse_s = time.perf_counter() - started
    validator.validate(schema._schema, document)
    return parse_s, time.perf_counter() - started - parse_s


async def settles(probe: Callable[[], bool], want: bool, within_s: float = 120.0) -> bool:
    """Whether ``probe()`` gives ``want`` within ``within_s`` (looked at every 5 ms)."""
    for _ in range(int(within_s / 0.005)):
        if probe() is want:
            return True
        await asyncio.sleep(0.005)
    return False


async def test_a_long_validation_is_abandoned_at_the_timeout(
    store: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    settings = Settings(
        data_dir=data_dir, max_tokens=1_000_000, request_timeout_s=TIMEOUT_S,
        max_body_bytes=10_000_000,
    )  # fmt: skip
    validator, schema = build_validator(settings), build_schema(settings)
    headers = {"Authorization": f"Bearer {make_token()}"}
    # A document whose validation outlasts the timeout several times over, busy or idle,
    # and whose parse takes a small part of it: the largest before the rule's complexity
    # budget cuts the validation short (beyond ~450 fields: "Validation aborted."). Not
    # sized down by timing it first: a loaded moment (the suite's training tests on both
    # cores) made a smaller document time at 4x the timeout twice in a row, and the app, a
    # moment later on an idler machine, validated it within the timeout (200 instead of
    # 504; CI of b5805d1). Checked, with a warm validator, by the fastest parse and the
    # fastest validation of three runs (a stall of the loaded CI machine once took one
    # run's parse to 1.4 s: CI of 6a21230).
    # The timeout is then an eighth of that validation (TIMEOUT_S at most): the answer must
    # overtake the abandoned validation, and the machine's load moves between the timing and
    # the request. At 2.5 of it, a validation timed at 0.8 s on a loaded moment gave 0.3 s,
    # then ran in 0.33 s on an idle one (CI of 682d3aa), and it ended before the 504 came
    # back (CI of 88228bc); at an eighth the answer has most of the validation's time.
    validator.validate(schema._schema, parse(_repeated(20)))
    fields = 440
    query = _repeated(fields)
    runs = [_timed(validator, schema, query) for _ in range(3)]
    parses, validations = zip(*runs, strict=True)
    parse_s, validation_s = min(parses), min(validations)
    timeout_s = min(TIMEOUT_S, validation_s / 8)  # the validation outlasts it 8x at least
    assert parse_s < timeout_s / 2, (
        fields,
        parse_s,
        validation_s,
    )
    app = create_app(settings.model_copy(update={"request_timeout_s": timeout_s}), store=store)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            assert not validating()
            response = await client.post("/graphql", json={"query": query}, headers=headers)
            assert response.status_code == 504, response.text
            assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
            # Answered at the timeout, not when the validation ended: after the answer its
            # thread is still (or, on a busy machine, only just) validating, then it ends (the
            # result dropped).
            assert await settles(validating, True, 30), "the validation ended before the answer"
            assert await settles(validating, False), "the abandoned validation never ended"
            # The hub goes on answering; a small query runs as before. (Not asked while the
            # abandoned validation still holds the GIL; and asked again if it times out: with a
            # timeout of tens of milliseconds a loaded machine can time the small query out
            # too, which is that timeout's answer, not a stuck hub.)
            small = {"query": "{ customers(first: 1) { totalCount } }"}
            for _ in range(20):
                ok = await client.post("/graphql", json=small, headers=headers)
                if ok.status_code != 504:
                    break
                assert ok.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
            assert ok.status_code == 200 and ok.json()["data"]["customers"]["totalCount"] == 0
