"""One audit record per request that touched customer or social data, appended after
execution; a request naming more customers than one record holds (a campaign's audience:
C360_AUDIT_CUSTOMERS_PER_RECORD) gets several, each naming its part. If they cannot be made
durable the response carries no data (fail closed).

A mutation's writes happen only after their write-ahead intent record is durable. If the
closing record then fails, the write has happened: the answer is AUDIT_INCOMPLETE (data
withheld, write applied), never AUDIT_UNAVAILABLE, which promises that nothing was stored.

A query or mutation cut off mid-execution (its C360_REQUEST_TIMEOUT_S deadline passed, its
client disconnected (queries only: schema/extensions/client_gone.py), or the server cancelled
it) is recorded too, as it is cancelled: outcome ``error`` (``denied`` if it had already
refused the caller) with ``details.cut_off`` ``timeout``, ``client_disconnected`` or
``cancelled`` (shared/deadline.py), naming what its privacy state holds by then: the
customers it touched and every id it was asked for (an attempt is audited). The append is
shielded and waited for at most :data:`CUT_OFF_WAIT_S`; the response is the cut-off's own (504
TIMEOUT; none to a client gone) whatever the log says."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from privacy.audit import AuditIncomplete, make_record, numbered
from privacy.types import AuditUnavailable, PrivacyError
from shared.deadline import cut_off_reason

log = logging.getLogger("c360.audit")

# How long a cut-off request's response waits for its record to be durable: the deadline has
# passed already, so a hung audit disk must not hold the 504 as well. A record not durable by
# then stays queued in the audit writer, which writes it once the disk answers.
CUT_OFF_WAIT_S = 2.0
CUT_OFF_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})


class AuditRequest(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        try:
            yield
        except asyncio.CancelledError:
            if ctx.operation_type in CUT_OFF_OPERATIONS:
                await _audit_cut_off(ctx)
            raise
        privacy = ctx.context.privacy
        result = ctx.result
        if result is None or not (privacy.touched or privacy.audit_always):
            return
        # Many customers (a campaign's audience) are named over several records, one chain
        # entry each, sharing the request id; the response waits for all of them.
        parts = privacy.audit_parts()
        records = [
            make_record(
                principal=privacy.principal,
                operation=ctx.operation_name or ctx.operation_type.value,
                outcome=privacy.outcome(bool(result.errors)),
                request_id=ctx.context.request_id,
                query=ctx.query or "",
                customers=customers,
                decision_ids=decision_ids,
                policy_revision=privacy.services.revision,
                details=numbered(privacy.details, n, len(parts)),
            )
            for n, (customers, decision_ids) in enumerate(parts, 1)
        ]
        try:
            await privacy.services.append_audit(records)
        except AuditUnavailable as exc:
            error: PrivacyError = exc
            if ctx.operation_type is OperationType.MUTATION and _applied(result.data):
                error = AuditIncomplete(
                    f"the write was applied and its intent audited, but {exc}; the response "
                    f"is withheld (request {ctx.context.request_id}): do not repeat the write"
                )
            # The result object itself is what strawberry returns: change it in place.
            result.data = None
            result.errors = [GraphQLError(error.public_message, original_error=error)]


async def _audit_cut_off(ctx: ExecutionContext) -> None:
    """The record of a request cancelled mid-execution (see the module), from what its privacy
    state holds. Nothing is raised but a further cancellation: the request's own answer is the
    cut-off's, and a log that cannot take the record is logged here (fail closed: no data)."""
    privacy = ctx.context.privacy
    if not (privacy.touched or privacy.audit_always or privacy.asked):
        return
    why = cut_off_reason()
    parts = privacy.audit_parts(cut_off=True)
    records = [
        make_record(
            principal=privacy.principal,
            operation=ctx.operation_name or ctx.operation_type.value,
            outcome=privacy.outcome(True),
            request_id=ctx.context.request_id,
            query=ctx.query or "",
            customers=customers,
            decision_ids=decision_ids,
            policy_revision=privacy.services.revision,
            details=numbered({**privacy.details, "cut_off": why}, n, len(parts)),
        )
        for n, (customers, decision_ids) in enumerate(parts, 1)
    ]
    # Its own task, shielded: a second cancellation (shutdown) does not drop the write.
    append = asyncio.ensure_future(privacy.services.append_audit(records))
    append.add_done_callback(_settled)
    try:
        await asyncio.wait_for(asyncio.shield(append), CUT_OFF_WAIT_S)
    except TimeoutError:
        log.warning(
            "audit: the record of request %s (cut off: %s) was not durable within %.1f s; "
            "it stays queued",
            ctx.context.request_id,
            why,
            CUT_OFF_WAIT_S,
        )
    except Exception:  # logged by _settled; the answer stays the cut-off's (fail closed)
        return


def _settled(append: asyncio.Future[None]) -> None:
    # A failure after the wait gave up is logged here, not as "exception never retrieved".
    if not append.cancelled() and (exc := append.exception()) is not None:
        log.error("audit: the record of a request cut off is not written: %s", exc)


def _applied(data: dict[str, Any] | None) -> bool:
    """A mutation field that answered (not null) ran its write."""
    return data is not None and any(value is not None for value in data.values())


__all__ = ["AuditRequest"]
