"""The OPA server engine: the same modules and data pushed to an OPA REST API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import ClientConnectionError
from opa_client import AsyncOpaClient

from privacy.engines.common import QUERY_PATH, build_input, parse_decisions
from privacy.policy_set import PolicySet
from privacy.types import Decision, PolicyTimeout, PolicyUnavailable, Principal, Resource
from shared.service_urls import opa_url_problem

__all__ = ["REVISION_PATH", "OpaServerEngine"]

log = logging.getLogger(__name__)

# Pushed last, so its presence says the whole set is loaded; a package OPA never has.
REVISION_PATH = "c360/hub_revision"
OPA_CONCURRENCY = 8


class OpaServerEngine:
    """Policies and data are PUT on first use (and on reload); decisions are POSTed.

    An OPA restarted empty (or loaded with another revision) gets the policies again: a
    decision that finds no ``c360.access.decisions`` pushes and asks once more, and
    ``start()`` runs a check every ``check_interval_s`` of the revision marker pushed last.
    Call ``close()`` from the app's lifespan: it stops the check and the HTTP session.
    """

    def __init__(
        self,
        url: str,
        policy_set: PolicySet,
        timeout_s: float = 2.0,
        check_interval_s: float = 5.0,
    ) -> None:
        if problem := opa_url_problem(url) or (None if url else "must not be empty here"):
            raise ValueError(f"C360_OPA_URL {url!r} {problem}")
        parts = urlsplit(url)
        assert parts.hostname is not None  # opa_url_problem: a URL with a host
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 8181)
        self._ssl = parts.scheme == "https"
        self._timeout_s = timeout_s
        self._policy_set = policy_set
        self._client: AsyncOpaClient | None = None
        self._pushed: str | None = None  # revision last pushed
        self._lock = asyncio.Lock()
        self._check_interval_s = check_interval_s
        self._watch: asyncio.Task[None] | None = None
        # Set by PolicyAdmin: load the newest active policy from the data dir. Several hub
        # workers share one OPA; one that has not seen another's approval yet must not push
        # its older policy back over the new one.
        self.before_push: Callable[[], Awaitable[None]] | None = None
        self.pushes = 0  # how many times the set was pushed (a restart shows as one more)

    @property
    def revision(self) -> str:
        return self._policy_set.revision

    @property
    def concurrency(self) -> int:
        """Batches asked at once (PrivacyServices' fair queue): OPA evaluates requests in
        parallel, so more than the embedded pool, still few enough that one hub request's
        batches cannot crowd out the others' (privacy/decision_queue.py)."""
        return OPA_CONCURRENCY

    @property
    def policy_set(self) -> PolicySet:
        return self._policy_set

    async def _session(self) -> AsyncOpaClient:
        if self._client is None:
            # No client retries: a slow or dead server must fail within our own timeout.
            client = AsyncOpaClient(
                host=self._host, port=self._port, ssl=self._ssl, retries=0, timeout=self._timeout_s
            )
            await client._init_session()  # the public way is `async with`, too short-lived here
            self._client = client
        return self._client

    async def _push(self, policy_set: PolicySet) -> None:
        client = await self._session()
        for module_id, source in sorted(policy_set.decision_modules.items()):
            await client.update_policy_from_string(source, module_id, rego_compat=False)
        # OPA refuses data at a path a policy package lives under, so write each subtree.
        for top, subtree in policy_set.data.items():
            if not isinstance(subtree, dict):
                raise PolicyUnavailable(f"policy data {top!r} must be an object")
            for name, value in subtree.items():
                await client.update_or_create_data(_as_object(value), f"{top}/{name}")
        await client.update_or_create_data({"value": policy_set.revision}, REVISION_PATH)
        self._pushed = policy_set.revision
        self.pushes += 1

    async def _drop_session(self) -> None:
        """Forget pooled connections: after an OPA restart they are dead, and a POST on one
        fails without reaching the new server."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close_connection()

    async def reload(self, policy_set: PolicySet) -> None:
        async with self._lock:
            for attempt in (1, 2):
                try:
                    await asyncio.wait_for(self._push(policy_set), self._timeout_s * 4)
                    break
                except ClientConnectionError as exc:
                    await self._drop_session()
                    if attempt == 2:
                        raise PolicyUnavailable(f"could not push policies to OPA: {exc}") from exc
                except TimeoutError as exc:  # accepted, never answered; its str() is empty
                    raise PolicyUnavailable(
                        "could not push policies to OPA: no answer within "
                        f"{self._timeout_s * 4:g} s"
                    ) from exc
                except Exception as exc:
                    raise PolicyUnavailable(f"could not push policies to OPA: {exc}") from exc
            self._policy_set = policy_set

    async def start(self) -> None:
        """Push the policies and start the periodic check (which also retries a first push
        that failed because OPA was not up yet)."""
        if self._watch is None and self._check_interval_s > 0:
            self._watch = asyncio.get_running_loop().create_task(self._check_forever())
        await self.reload(self._policy_set)

    async def loaded_revision(self) -> str | None:
        """The revision marker OPA holds now (None: not loaded, e.g. restarted empty)."""
        path = REVISION_PATH.replace("/", ".")
        try:
            client = await self._session()
            answer = await asyncio.wait_for(client.query_rule({}, path), self._timeout_s)
        except ClientConnectionError:
            await self._drop_session()
            client = await self._session()
            answer = await asyncio.wait_for(client.query_rule({}, path), self._timeout_s)
        result = answer.get("result") if isinstance(answer, dict) else None
        return str(result.get("value")) if isinstance(result, dict) else None

    async def check(self) -> bool:
        """Push again if OPA does not hold this hub's revision; True when it pushed."""
        held = await self.loaded_revision()
        if held == self._policy_set.revision:
            return False
        if self.before_push is not None:
            await self.before_push()  # may reload (and push) the newest policy on disk
            if held == self._policy_set.revision:
                return False  # another worker's newer push: now this one's too
        log.warning("OPA does not hold policy revision %s: pushing it again", self.revision[:12])
        await self.reload(self._policy_set)
        return True

    async def _check_forever(self) -> None:
        while True:
            await asyncio.sleep(self._check_interval_s)
            try:
                await self.check()
            except TimeoutError:  # accepted, never answered; its str() is empty
                log.warning("OPA policy check failed: no answer within %g s", self._timeout_s)
            except Exception as exc:  # OPA down: decisions fail closed; try again next time
                log.warning("OPA policy check failed: %s", exc or type(exc).__name__)

    async def health(self) -> None:
        """OPA's ``GET /health`` answers 200 within the timeout, else PolicyUnavailable (for
        /readyz: an OPA that went away after the start). A pooled connection from before an
        OPA restart fails once: the session is dropped and the check asked again."""
        for _ in (1, 2):
            client = await self._session()
            try:
                if await asyncio.wait_for(client.check_health(), self._timeout_s):
                    return
            except TimeoutError as exc:
                raise PolicyUnavailable(
                    f"OPA did not answer its health check within {self._timeout_s:g} s"
                ) from exc
            await self._drop_session()
        raise PolicyUnavailable("OPA is unreachable or unhealthy (GET /health)")

    async def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        if self._client is not None:
            await self._client.close_connection()
            self._client = None

    async def decide(
        self, principal: Principal, action: str, resources: list[Resource]
    ) -> dict[str, Decision]:
        if not resources:
            return {}
        if self._pushed != self._policy_set.revision:
            await self.reload(self._policy_set)
        query_input = build_input(principal, action, resources)
        answer = await self._query(query_input)
        if not isinstance(answer, dict) or "result" not in answer:
            # No package: OPA restarted empty. Push once and ask again.
            log.warning("OPA has no c360.access.decisions: pushing the policies again")
            await self.reload(self._policy_set)
            answer = await self._query(query_input)
        if not isinstance(answer, dict) or "result" not in answer:
            raise PolicyUnavailable("OPA has no c360.access.decisions (policies not loaded?)")
        return parse_decisions(answer["result"], principal, resources)

    async def _query(self, query_input: dict[str, Any]) -> Any:
        try:
            try:
                return await self._ask(query_input)
            except ClientConnectionError:
                await self._drop_session()  # a connection from before an OPA restart
                return await self._ask(query_input)
        except TimeoutError as exc:
            raise PolicyTimeout(f"OPA took over {self._timeout_s}s") from exc
        except Exception as exc:
            raise PolicyUnavailable(f"OPA is unreachable or failed: {exc}") from exc

    async def _ask(self, query_input: dict[str, Any]) -> Any:
        client = await self._session()
        return await asyncio.wait_for(
            client.query_rule(query_input, QUERY_PATH.replace("/", ".")), self._timeout_s
        )


def _as_object(value: Any) -> dict[str, Any]:
    # update_or_create_data only takes objects; lists and scalars are wrapped by the caller.
    if not isinstance(value, dict):
        raise PolicyUnavailable("each data table under c360 must be a JSON object")
    return value
