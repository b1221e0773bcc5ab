"""One audit record per batch a subscription delivers, written before the batch is sent.

Strawberry hands every streamed result to ``on_stream_result`` before the transport sends it;
the batch's own request context (resolvers/subscription_context.py) holds what its masking
revealed and masked. If the record cannot be made durable the batch goes out without data,
with AUDIT_UNAVAILABLE (fail closed), like a query, and the subscription ends after it (its
generator sees the batch context's ``audit_failed`` and returns: ``complete``), so the client
knows it missed that batch and subscribes again. Queries and mutations are AuditRequest's;
the start of a subscription is recorded by resolvers/subscriptions.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from privacy.audit import make_record
from privacy.types import AuditUnavailable


class SubscriptionAudit(SchemaExtension):
    async def on_stream_result(self, result: Any) -> AsyncIterator[None]:
        ctx = self.execution_context
        data = getattr(result, "data", None)
        # ``data`` first: a document that did not parse has no operation type (asking raised
        # RuntimeError, logged with a stack trace, instead of the protocol's close 4400).
        if data and ctx.operation_type is OperationType.SUBSCRIPTION:
            privacy = ctx.context.privacy
            field = next(iter(data))
            batch = data[field]
            record = make_record(
                principal=privacy.principal,
                operation=f"{ctx.operation_name or 'subscription'}:{field}",
                outcome=privacy.outcome(bool(result.errors)),
                request_id=privacy.request_id,
                query=ctx.query or "",
                customers=privacy.audit_fields(),
                decision_ids=privacy.decision_ids(),
                policy_revision=privacy.services.revision,
                details={"subscription": field, "delivered": len(batch or [])} | privacy.details,
            )
            try:
                if privacy.services.audit is None:
                    raise AuditUnavailable("the audit log is not open")
                await privacy.services.audit.append(record)
            except AuditUnavailable as exc:
                ctx.context.current.audit_failed = True  # the subscription ends after it
                result.data = None
                result.errors = [GraphQLError(str(exc), extensions={"code": AuditUnavailable.code})]
        yield None


__all__ = ["SubscriptionAudit"]
