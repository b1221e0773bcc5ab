"""``auditChain``: is the audit log's hash chain intact (privacy officers, auditors)."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from privacy.audit_status import ChainStatus
from resolvers.audit_chain import audit_chain
from schema.types import Ctx


@strawberry.type(description="the latest signed checkpoint (c360 audit checkpoint)")
class AuditCheckpoint:
    seq: int = strawberry.field(description="the last record it covers")
    time: datetime = strawberry.field(description="when it was signed")


@strawberry.type(description="the hash chain's verification (the walk c360 audit verify does)")
class AuditChain:
    verified: bool = strawberry.field(description="every record checks out and no problem")
    records: int = strawberry.field(description="records verified")
    last_seq: int = strawberry.field(description="the last record in the log")
    last_checkpoint: AuditCheckpoint | None = strawberry.field(
        description="the latest signed checkpoint; null: none yet"
    )
    problems: list[str] = strawberry.field(description="the first broken record, checkpoints")
    checked_at: datetime = strawberry.field(description="when the log was last walked")

    @classmethod
    def from_status(cls, s: ChainStatus) -> AuditChain:
        cp = s.last_checkpoint
        return cls(
            verified=s.verified,
            records=s.records,
            last_seq=s.last_seq,
            last_checkpoint=AuditCheckpoint(
                seq=cp.seq, time=datetime.fromisoformat(cp.time.replace("Z", "+00:00"))
            )
            if cp
            else None,
            problems=list(s.problems),
            checked_at=datetime.fromtimestamp(s.checked_at, UTC),
        )


@strawberry.type
class AuditChainQuery:
    @strawberry.field(
        description="the audit log's hash chain status (privacy officers, auditors); walked "
        "incrementally, at most a few seconds old"
    )
    async def audit_chain(self, info: Ctx) -> AuditChain:
        settings = info.context.settings
        status = await audit_chain(
            info.context.privacy, settings.resolved_data_dir, settings.audit_signing_key
        )
        return AuditChain.from_status(status)


__all__ = ["AuditChain", "AuditChainQuery", "AuditCheckpoint"]
