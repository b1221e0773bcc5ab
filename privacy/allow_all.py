"""Allow-all privacy: every resource allowed, every field revealed, no audit record kept.

Only ``bench/privacy_overhead.py`` builds it, to measure what the real privacy layer costs
beside it. The hub never does: without its policy engine a request is refused (fail closed),
never served by this. The request path is the same either way (no ``None`` branches), so
nothing can reveal a value because some part of the privacy layer is missing.
"""

from __future__ import annotations

from typing import Any

from privacy.services import PrivacyServices
from privacy.types import Decision, MaskMode, Principal, Resource, SensitiveKind

ALLOW_ALL_REVISION = "allow-all"
REVEAL_ALL = {kind.value: MaskMode.REVEAL.value for kind in SensitiveKind}


class AllowAllEngine:
    """A PolicyEngine that allows everything and reveals every kind."""

    revision = ALLOW_ALL_REVISION

    async def decide(
        self, principal: Principal, action: str, resources: list[Resource]
    ) -> dict[str, Decision]:
        return {r.id: Decision(True, dict(REVEAL_ALL), "allow-all (bench)") for r in resources}

    async def close(self) -> None:
        return None


class DiscardAudit:
    """An AuditSink that keeps nothing (the records are still built: that cost is measured)."""

    async def append(self, record: dict[str, Any]) -> int:
        return 0

    def read(
        self,
        subject: str | None = None,
        customer: str | None = None,
        since: str | None = None,
        last: int | None = None,
        until: str | None = None,
    ) -> list[dict[str, Any]]:
        return []

    def query(
        self,
        *,
        subject: str | None = None,
        customer: str | None = None,
        since: str | None = None,
        until: str | None = None,
        outcome: str | None = None,
        before_seq: int | None = None,
        limit: int | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        return [], 0


def allow_all_services() -> PrivacyServices:
    return PrivacyServices(engine=AllowAllEngine(), audit=DiscardAudit(), hmac_key=b"allow-all")


__all__ = ["AllowAllEngine", "DiscardAudit", "allow_all_services"]
