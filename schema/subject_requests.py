"""Data-subject requests: ``proposeErasure`` / ``approveErasure`` / ``rejectErasure`` (two
privacy officers), ``withdrawErasure`` (the proposer), ``erasureRequests`` (the list, paged)
and ``customerExport`` (everything held about a customer plus their access history)."""

from __future__ import annotations

import strawberry

from privacy.erasure import ErasureRequest as _Request
from privacy.erasure import ErasureStore
from resolvers import subject_requests
from resolvers.pagination import check_first
from schema.pagination import Connection, connection
from schema.types import Ctx


@strawberry.type(
    description="A request to erase a customer's personal data: proposed by one privacy "
    "officer, carried out when a second approves it."
)
class ErasureRequest:
    id: str = strawberry.field(description="the request's id")
    customer_id: strawberry.ID = strawberry.field(description="the customer to erase")
    reason: str = strawberry.field(description="why, as the proposer gave it")
    proposer: str = strawberry.field(description="who proposed it")
    created_at: str = strawberry.field(description="when it was proposed, ISO-8601 UTC")
    status: str = strawberry.field(
        description="pending (awaiting a second officer), approved (being carried out), done "
        "(erased), rejected, or withdrawn (by its proposer)"
    )
    approver: str | None = strawberry.field(description="who approved it")
    done_at: str | None = strawberry.field(description="when the erasure finished, ISO-8601 UTC")
    erased: strawberry.scalars.JSON = strawberry.field(
        description="what was erased: field names and ids only"
    )
    rejected_by: str | None = strawberry.field(description="who rejected it")
    rejected_at: str | None = strawberry.field(description="when, ISO-8601 UTC")
    rejection_reason: str | None = strawberry.field(description="why, as the rejecter gave it")
    withdrawn_at: str | None = strawberry.field(
        description="when its proposer withdrew it, ISO-8601 UTC"
    )
    withdraw_reason: str | None = strawberry.field(
        description="why its proposer withdrew it, when they said"
    )

    @classmethod
    def of(cls, r: _Request) -> ErasureRequest:
        return cls(
            id=r.id,
            customer_id=strawberry.ID(r.customer_id),
            reason=r.reason,
            proposer=r.proposer,
            created_at=r.created_at,
            status=r.status,
            approver=r.approver,
            done_at=r.done_at,
            erased=strawberry.scalars.JSON(r.erased),
            rejected_by=r.rejected_by,
            rejected_at=r.rejected_at,
            rejection_reason=r.rejection_reason,
            withdrawn_at=r.withdrawn_at,
            withdraw_reason=r.withdraw_reason,
        )


@strawberry.type
class SubjectRequestQuery:
    @strawberry.field(
        description="erasure requests, oldest first (status: pending by default; approved, "
        "done, rejected, withdrawn, or null for all); privacy officers, audited"
    )
    async def erasure_requests(
        self,
        info: Ctx,
        status: str | None = "pending",
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[ErasureRequest]:
        page = await subject_requests.erasure_requests(
            info.context.privacy,
            info.context.settings.resolved_data_dir,
            status,
            check_first(first, info.context.settings.max_page_size),
            after,
        )
        return connection(page.map(ErasureRequest.of))

    @strawberry.field(
        description="access request (PIPL Art. 45): everything held about one customer as JSON, "
        "with their access history from the audit log; privacy officers, audited"
    )
    async def customer_export(
        self, info: Ctx, customer_id: strawberry.ID
    ) -> strawberry.scalars.JSON:
        return strawberry.scalars.JSON(
            await subject_requests.export_subject(
                info.context.privacy, info.context.store, str(customer_id)
            )
        )


@strawberry.type
class SubjectRequestMutation:
    @strawberry.mutation(
        description="propose erasing a customer (PIPL Art. 47); another privacy officer must "
        "approveErasure"
    )
    async def propose_erasure(
        self, info: Ctx, customer_id: strawberry.ID, reason: str
    ) -> ErasureRequest:
        request = await subject_requests.propose_erasure(
            info.context.privacy,
            info.context.store,
            info.context.settings.resolved_data_dir,
            str(customer_id),
            reason,
        )
        return ErasureRequest.of(request)

    @strawberry.mutation(
        description="approve another privacy officer's erasure request and carry it out: the "
        "customer's data key is destroyed, their node, links and index entries removed, the "
        "graph log compacted (the proposer cannot approve); of two officers approving at once "
        "one carries it out, the other gets BAD_USER_INPUT"
    )
    async def approve_erasure(self, info: Ctx, request_id: str) -> ErasureRequest:
        request = await subject_requests.approve_erasure(
            info.context.privacy,
            info.context.store,
            ErasureStore.of(info.context.settings),
            request_id,
        )
        return ErasureRequest.of(request)

    @strawberry.mutation(
        description="reject another privacy officer's pending erasure request, with a reason "
        "(the proposer cannot); a rejected request can no longer be approved"
    )
    async def reject_erasure(self, info: Ctx, request_id: str, reason: str) -> ErasureRequest:
        request = await subject_requests.reject_erasure(
            info.context.privacy, ErasureStore.of(info.context.settings), request_id, reason
        )
        return ErasureRequest.of(request)

    @strawberry.mutation(
        description="withdraw your own pending erasure request, optionally saying why (only "
        "its proposer can; another officer rejects it); a withdrawn request can no longer be "
        "approved"
    )
    async def withdraw_erasure(
        self, info: Ctx, request_id: str, reason: str | None = None
    ) -> ErasureRequest:
        request = await subject_requests.withdraw_erasure(
            info.context.privacy, ErasureStore.of(info.context.settings), request_id, reason
        )
        return ErasureRequest.of(request)


__all__ = ["ErasureRequest", "SubjectRequestMutation", "SubjectRequestQuery"]
