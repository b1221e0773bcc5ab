"""One audit record per request that touched customer or social data, appended after
execution; a request naming more customers than one record holds (a campaign's audience:
C360_AUDIT_CUSTOMERS_PER_RECORD) gets several, each naming its part. If they cannot be made
durable the response carries no data (fail closed).

A mutation's writes happen only after their write-ahead intent record is durable. If the
closing record then fails, the write has happened: the answer is AUDIT_INCOMPLETE (data
withheld, write applied), never AUDIT_UNAVAILABLE, which promises that nothing was stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from privacy.audit import AuditIncomplete, make_record, numbered
from privacy.types import AuditUnavailable, PrivacyError


class AuditRequest(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        yield
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


def _applied(data: dict[str, Any] | None) -> bool:
    """A mutation field that answered (not null) ran its write."""
    return data is not None and any(value is not None for value in data.values())


__all__ = ["AuditRequest"]
