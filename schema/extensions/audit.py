"""One audit record per request that touched customer or social data, appended after
execution. If it cannot be made durable the response carries no data (fail closed)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from privacy.audit import make_record
from privacy.types import AuditUnavailable


class AuditRequest(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        ctx = self.execution_context
        yield
        privacy = getattr(ctx.context, "privacy", None)
        result = ctx.result
        if privacy is None or result is None or not (privacy.touched or privacy.audit_always):
            return
        record = make_record(
            principal=privacy.principal,
            operation=ctx.operation_name or ctx.operation_type.value,
            outcome=privacy.outcome(bool(result.errors)),
            request_id=ctx.context.request_id,
            query=ctx.query or "",
            customers=privacy.audit_fields(),
            decision_ids=privacy.decision_ids(),
            policy_revision=privacy.services.revision,
            details=privacy.details,
        )
        try:
            if privacy.services.audit is None:
                raise AuditUnavailable("the audit log is not open")
            await privacy.services.audit.append(record)
        except AuditUnavailable as exc:
            # The result object itself is what strawberry returns: change it in place.
            result.data = None
            result.errors = [GraphQLError(str(exc), original_error=exc)]


__all__ = ["AuditRequest"]
