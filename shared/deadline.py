"""How the HTTP request being served may end before its answer: its deadline
(``C360_REQUEST_TIMEOUT_S``) passing, or its client going away.

hub/middleware/timeout.py sets a :class:`RequestLife` around the request; code below the hub
that sees the request cancelled asks :func:`cut_off_reason` why (the audit record of a cut-off
request says it, schema/extensions/audit.py): the deadline, the client, or something else (the
server shutting down). A context variable: the middleware and the request's code run in one
task.

A client that disconnects stops only a request that said it may be stopped
(:func:`stop_when_client_goes`: a GraphQL query, once it executes). A write runs on to its end
(or its deadline): its intent is recorded and it may be half-way, and a client gone is no
reason to leave it that way.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from typing import Any

TIMEOUT = "timeout"
CLIENT_DISCONNECTED = "client_disconnected"
CANCELLED = "cancelled"


class RequestLife:
    """One request's early ends: its deadline and its client (see the module)."""

    def __init__(self, deadline: asyncio.Timeout, task: asyncio.Task[Any]) -> None:
        self.deadline = deadline
        self.task = task
        self.stoppable = False  # it may be stopped when its client goes (a read)
        self.client_gone = False
        self.answering = False  # its answer has started: nothing is stopped any more
        self.stopped = False  # cancelled here because its client went

    def client_left(self) -> None:
        """The client disconnected (the server's receive said so)."""
        if not self.answering:
            self.client_gone = True
            self._stop()

    def may_stop(self) -> None:
        """From now on the request is stopped when its client goes (at once if it has)."""
        self.stoppable = True
        self._stop()

    def _stop(self) -> None:
        if self.client_gone and self.stoppable and not self.answering and not self.stopped:
            self.stopped = True
            self.task.cancel(CLIENT_DISCONNECTED)


current_request: ContextVar[RequestLife | None] = ContextVar("c360_request_life", default=None)


def deadline_passed() -> bool:
    """True once the current request's deadline has passed (and it is being cut off)."""
    life = current_request.get()
    return life is not None and life.deadline.expired()


def deadline_at() -> float | None:
    """The event loop's time the current request's deadline falls at (None outside a request,
    or with no deadline): for work that bounds itself by what is left of the request."""
    life = current_request.get()
    return life.deadline.when() if life is not None else None


def cut_off_reason() -> str:
    """Why the current request is being cancelled: ``timeout`` (its deadline passed),
    ``client_disconnected`` (its client went, :func:`stop_when_client_goes`) or ``cancelled``
    (anything else: the server shutting down)."""
    life = current_request.get()
    if life is not None and life.deadline.expired():
        return TIMEOUT
    if life is not None and life.stopped:
        return CLIENT_DISCONNECTED
    return CANCELLED


def stop_when_client_goes() -> None:
    """The current request (a read) may be stopped when its client disconnects: there is no
    one left to answer. Outside an HTTP request (a websocket, a CLI job) it does nothing."""
    life = current_request.get()
    if life is not None:
        life.may_stop()


__all__ = [
    "CANCELLED",
    "CLIENT_DISCONNECTED",
    "TIMEOUT",
    "RequestLife",
    "current_request",
    "cut_off_reason",
    "deadline_at",
    "deadline_passed",
    "stop_when_client_goes",
]
