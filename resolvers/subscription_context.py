"""The context of a GraphQL websocket connection, and of each batch a subscription delivers.

Strawberry hands one context object to every operation of a connection. A subscription lives
for hours, so its policy decisions, loaders and audit accumulator must not: each delivered
batch gets a fresh :class:`RequestContext` (decided again, so a revoked grant takes effect on
the next batch; audited on its own). The fresh context is kept in a ContextVar, which is per
asyncio task: strawberry runs each operation of a connection in its own task, so two
subscriptions on one socket never share a batch's state. Outside a batch (parsing,
validation) the connection's own context answers.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from privacy.types import Principal
from resolvers.context import RequestContext
from resolvers.errors import ApiError
from resolvers.event_bus import EventBus

MakeContext = Callable[[Principal | None, str], Awaitable[RequestContext]]


class TokenExpired(ApiError):
    code = "UNAUTHENTICATED"

    def __init__(self) -> None:
        super().__init__("the connection's token has expired: reconnect with a fresh one")


_batch: ContextVar[RequestContext | None] = ContextVar("c360_subscription_batch", default=None)


class ConnectionContext:
    """``info.context`` for websocket operations: attributes come from the current batch's
    RequestContext (:meth:`begin_batch`), else from the connection's."""

    def __init__(self, make: MakeContext, base: RequestContext, bus: EventBus) -> None:
        self._make = make
        self._base = base
        self.bus = bus
        self.connection_id = uuid.uuid4().hex
        self.connection_params: dict[str, Any] | None = None
        self.principal: Principal | None = None
        self.batches = 0

    async def begin_batch(self) -> RequestContext:
        """A fresh request context for the task's next batch (or the subscription start);
        TokenExpired once the connection's token has expired (the client reconnects)."""
        exp = self.principal.claims.get("exp") if self.principal is not None else None
        if isinstance(exp, int | float) and exp < time.time():
            raise TokenExpired
        self.batches += 1
        ctx = await self._make(self.principal, f"ws-{self.connection_id}-{self.batches}")
        _batch.set(ctx)
        return ctx

    @property
    def current(self) -> RequestContext:
        return _batch.get() or self._base

    def __getattr__(self, name: str) -> Any:
        # Only reached for what this class does not define: the batch's (or base) context.
        return getattr(self.current, name)


__all__ = ["ConnectionContext", "MakeContext", "TokenExpired"]
