"""A query whose client disconnects is stopped: it only reads, and no one is left to answer.

Marked as it starts executing (hub/middleware/timeout.py watches the client, shared/deadline.py
cancels); its audit record says ``cut_off: client_disconnected`` (schema/extensions/audit.py).
A mutation is not marked: a write once begun runs on to its end (or its deadline), its record
is written as usual and its answer dropped. Parsing and validation read nothing, so a query
whose client went meanwhile is stopped here, at its execution's first wait."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from shared.deadline import stop_when_client_goes


class StopQueryWhenClientGoes(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        if self.execution_context.operation_type is OperationType.QUERY:
            stop_when_client_goes()
        yield


__all__ = ["StopQueryWhenClientGoes"]
