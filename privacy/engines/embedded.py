"""The embedded engine: regopy interpreters, run off the event loop."""

from __future__ import annotations

import asyncio
import logging
import queue
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson
from regopy import Interpreter, RegoError
from regopy.interpreter import Bundle

from privacy.decision_queue import DECISION_SLOTS
from privacy.engines.common import build_input, parse_decisions
from privacy.engines.native import rego_loaded_first
from privacy.policy_set import PolicySet
from privacy.types import Decision, PolicyTimeout, PolicyUnavailable, Principal, Resource

__all__ = ["EmbeddedEngine", "evaluate"]

log = logging.getLogger(__name__)


DECISIONS_QUERY = "x = data.c360.access.decisions"


@dataclass
class Compiled:
    """An interpreter with the decision query compiled into a bundle once: a plain query()
    recompiles every module each time (~17 ms), query_bundle() does not (~1 ms)."""

    rego: Interpreter
    bundle: Bundle


def _compile_bundle(policy_set: PolicySet) -> Compiled:
    rego = policy_set.interpreter()
    return Compiled(rego, rego.build(DECISIONS_QUERY))


def input_term(query_input: dict[str, Any]) -> str:
    """The policy input as JSON text: the interpreter's input term."""
    return orjson.dumps(query_input, option=orjson.OPT_SORT_KEYS).decode()


def evaluate(compiled: Compiled, query_input: dict[str, Any] | str) -> Any:
    """Evaluate data.c360.access.decisions for one input (synchronous; one thread at a time)."""
    term = query_input if isinstance(query_input, str) else input_term(query_input)
    compiled.rego.set_input_term(term)
    output = compiled.rego.query_bundle(compiled.bundle)
    if not output.ok() or not output.results or "x" not in output.results[0].bindings:
        raise PolicyUnavailable(f"the policy is undefined or failed: {str(output)[:200]}")
    return output.results[0].bindings["x"]


class EmbeddedEngine:
    """Rego evaluated in-process by a small pool of regopy interpreters.

    An interpreter is used by one thread at a time; a decision that times out keeps its
    interpreter until the thread finishes, so a slow query never runs two at once.

    PrivacyServices' queue (privacy/decision_queue.py) hands out at most ``concurrency``
    batches at once, one per interpreter, so a batch waits for an interpreter only behind one
    that overran its timeout and still runs, never behind other requests' queued batches. That
    wait and the evaluation are bounded separately, each by the timeout: a slow wait says the
    engine is stuck, a slow evaluation that the batch is too heavy.
    """

    def __init__(
        self,
        policy_set: PolicySet,
        timeout_s: float = 2.0,
        pool_size: int = DECISION_SLOTS,
    ) -> None:
        self._timeout_s = timeout_s
        self._pool_size = pool_size
        self._policy_set = policy_set
        self._pool: queue.Queue[Compiled] = self._build_pool(policy_set)
        # Evaluations on threads of their own (one per interpreter), not the loop's shared
        # executor: rego's allocations then stay in a few malloc arenas that reach a steady
        # size, instead of spreading over every worker thread's arena.
        self._threads = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="rego")
        if rego_loaded_first() is False:
            log.warning(
                "regopy was imported after libstdc++: every policy decision will leak native "
                "memory; import regopy (or hub) before any C++ extension"
            )

    def _build_pool(self, policy_set: PolicySet) -> queue.Queue[Compiled]:
        pool: queue.Queue[Compiled] = queue.Queue()
        try:
            for _ in range(self._pool_size):
                pool.put(_compile_bundle(policy_set))
        except RegoError as exc:
            raise PolicyUnavailable(f"the policies do not compile: {exc}") from exc
        return pool

    @property
    def revision(self) -> str:
        return self._policy_set.revision

    @property
    def concurrency(self) -> int:
        """Batches evaluated at once: one per interpreter."""
        return self._pool_size

    @property
    def policy_set(self) -> PolicySet:
        return self._policy_set

    async def reload(self, policy_set: PolicySet) -> None:
        pool = await asyncio.to_thread(self._build_pool, policy_set)
        self._pool, self._policy_set = pool, policy_set

    async def close(self) -> None:
        self._threads.shutdown(wait=False)

    async def decide(
        self, principal: Principal, action: str, resources: list[Resource]
    ) -> dict[str, Decision]:
        if not resources:
            return {}
        # No cache here: PrivacyServices keeps the process's one (privacy/decision_cache.py).
        term = input_term(build_input(principal, action, resources))
        loop = asyncio.get_running_loop()
        started: asyncio.Future[None] = loop.create_future()
        evaluation = loop.run_in_executor(
            self._threads, self._decide_sync, self._pool, term, partial(_mark, loop, started)
        )
        # Two bounds, each the policy timeout: waiting for an interpreter (busy only with a
        # batch that overran: the engine is stuck), then the evaluation itself.
        try:
            try:
                await asyncio.wait_for(asyncio.shield(started), self._timeout_s)
            except TimeoutError as exc:
                raise PolicyTimeout(
                    f"no policy interpreter was free within {self._timeout_s}s (earlier "
                    "decisions overran it)"
                ) from exc
            raw = await asyncio.wait_for(evaluation, self._timeout_s)
        except PolicyUnavailable:
            raise
        except TimeoutError as exc:
            raise PolicyTimeout(
                f"policy decision of {len(resources)} resources took over {self._timeout_s}s"
            ) from exc
        except Exception as exc:
            raise PolicyUnavailable(f"policy evaluation failed: {exc}") from exc
        finally:
            # Not started yet (timed out or the request went away): off the executor's queue.
            evaluation.cancel()
        return parse_decisions(raw, principal, resources)

    @staticmethod
    def _decide_sync(pool: queue.Queue[Compiled], term: str, on_start: Callable[[], object]) -> Any:
        on_start()
        rego = pool.get()
        try:
            return evaluate(rego, term)
        finally:
            pool.put(rego)


def _mark(loop: asyncio.AbstractEventLoop, started: asyncio.Future[None]) -> None:
    """From an interpreter thread: the evaluation has begun (its timeout starts now)."""

    def set_started() -> None:
        if not started.done():
            started.set_result(None)

    loop.call_soon_threadsafe(set_started)
