"""The privacy layer's vocabulary, shared by the engines, masking, audit and the GraphQL layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable


class SensitiveKind(StrEnum):
    """What a personal field holds; policies decide a MaskMode per kind."""

    NAME = "NAME"
    PHONE = "PHONE"
    NATIONAL_ID = "NATIONAL_ID"
    EMAIL = "EMAIL"
    ADDRESS = "ADDRESS"
    BIRTH_DATE = "BIRTH_DATE"
    AMOUNT = "AMOUNT"
    SOCIAL_HANDLE = "SOCIAL_HANDLE"
    # That a social account (and so its public posts) is a customer's: a fact about a customer,
    # shown only where the caller may see customers (QA, session 23: brand analysts mapped
    # hashed authors to public profiles and learned who banks here).
    CUSTOMER_LINK = "CUSTOMER_LINK"


class MaskMode(StrEnum):
    REVEAL = "reveal"
    PARTIAL = "partial"
    HASH = "hash"
    REDACT = "redact"
    BAND = "band"
    YEAR = "year"


class Purpose(StrEnum):
    SERVICE = "service"
    MARKETING = "marketing"
    RISK = "risk"
    COMPLIANCE = "compliance"


@dataclass(frozen=True)
class Principal:
    """Who is asking and why, from a verified JWT (plus the X-Purpose header)."""

    subject: str
    roles: tuple[str, ...]
    purpose: str | None = None
    branch: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Resource:
    """One thing a decision is about: type Customer/SocialAccount/Post/AuditLog/Policy."""

    type: str
    id: str
    attributes: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Decision:
    """The policy's answer for one resource. ``masks`` maps a SensitiveKind to a MaskMode;
    a kind missing from ``masks`` is redacted (fail closed)."""

    allow: bool
    masks: dict[str, str]
    reason: str
    decision_id: str = ""

    def mode_for(self, kind: str) -> str:
        if not self.allow:
            return MaskMode.REDACT
        return self.masks.get(kind, MaskMode.REDACT)


class PrivacyError(Exception):
    """Base of the privacy layer's errors; ``code`` goes to GraphQL extensions.code."""

    code = "PRIVACY_ERROR"

    @property
    def public_message(self) -> str:
        """What a client is told (the message itself unless a subclass says otherwise)."""
        return str(self) or self.code


class PolicyUnavailable(PrivacyError):
    """The policy engine is unreachable, erroring or too slow: deny everything. The message
    (compiler output, file and line, OPA's answer) is for the server log; clients get
    ``public_message`` only."""

    code = "POLICY_UNAVAILABLE"

    @property
    def public_message(self) -> str:
        return "the policy engine cannot decide now; access denied (the server log says why)"


class PolicyTimeout(PolicyUnavailable):
    """The engine did not answer one batch within the policy timeout: that batch is denied.
    A slow answer says nothing about the answers kept from before it (PrivacyServices keeps
    them), unlike an engine that failed or answered nonsense."""


class AuditUnavailable(PrivacyError):
    """The audit record could not be made durable: return no data."""

    code = "AUDIT_UNAVAILABLE"


class PolicyEngine(Protocol):
    """Embedded Rego (regopy) or an OPA server; the same .rego files, the same answers."""

    @property
    def revision(self) -> str:
        """A hash of the active policy sources and data."""
        ...

    async def decide(
        self, principal: Principal, action: str, resources: list[Resource]
    ) -> dict[str, Decision]:
        """One batched decision for every resource, keyed by resource id. Raises
        PolicyUnavailable on any engine failure or timeout."""
        ...

    async def close(self) -> None:
        """Release what the engine holds (an HTTP client, an interpreter pool)."""
        ...


@runtime_checkable
class ProbedEngine(Protocol):
    """An engine in another process (the OPA server), which can go away after the hub
    started: /readyz asks it. The embedded engine has no probe; it lives in the hub."""

    async def health(self) -> None:
        """Return when the engine answers its health check; PolicyUnavailable otherwise."""
        ...
