"""The OPA server engine: the same modules and data pushed to an OPA REST API."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

from opa_client import AsyncOpaClient

from privacy.engines.common import QUERY_PATH, build_input, parse_decisions
from privacy.policy_set import PolicySet
from privacy.types import Decision, PolicyUnavailable, Principal, Resource

__all__ = ["OpaServerEngine"]


class OpaServerEngine:
    """Policies and data are PUT on first use (and on reload); decisions are POSTed.

    Call ``close()`` from the app's lifespan: the client holds an HTTP session.
    """

    def __init__(self, url: str, policy_set: PolicySet, timeout_s: float = 2.0) -> None:
        parts = urlsplit(url)
        if not parts.hostname:
            raise ValueError(f"C360_OPA_URL {url!r} has no host; use e.g. http://127.0.0.1:8181")
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 8181)
        self._ssl = parts.scheme == "https"
        self._timeout_s = timeout_s
        self._policy_set = policy_set
        self._client: AsyncOpaClient | None = None
        self._pushed: str | None = None  # revision last pushed
        self._lock = asyncio.Lock()

    @property
    def revision(self) -> str:
        return self._policy_set.revision

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
        self._pushed = policy_set.revision

    async def reload(self, policy_set: PolicySet) -> None:
        async with self._lock:
            try:
                await asyncio.wait_for(self._push(policy_set), self._timeout_s * 4)
            except Exception as exc:
                raise PolicyUnavailable(f"could not push policies to OPA: {exc}") from exc
            self._policy_set = policy_set

    async def start(self) -> None:
        await self.reload(self._policy_set)

    async def close(self) -> None:
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
        try:
            client = await self._session()
            answer = await asyncio.wait_for(
                client.query_rule(query_input, QUERY_PATH.replace("/", ".")), self._timeout_s
            )
        except TimeoutError as exc:
            raise PolicyUnavailable(f"OPA took over {self._timeout_s}s") from exc
        except Exception as exc:
            raise PolicyUnavailable(f"OPA is unreachable or failed: {exc}") from exc
        if not isinstance(answer, dict) or "result" not in answer:
            raise PolicyUnavailable("OPA has no c360.access.decisions (policies not loaded?)")
        return parse_decisions(answer["result"], resources)


def _as_object(value: Any) -> dict[str, Any]:
    # update_or_create_data only takes objects; lists and scalars are wrapped by the caller.
    if not isinstance(value, dict):
        raise PolicyUnavailable("each data table under c360 must be a JSON object")
    return value
