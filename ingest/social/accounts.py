"""Customer <-> social account links: confirmed imports, and candidates for a human to confirm."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, field_validator
from rapidfuzz import fuzz, utils

from graph.repositories import social as repo
from graph.store import GraphStore, Row
from ingest.social.model import PLATFORMS, check_handle

LINK_FIELDS = ("customerId", "platform", "handle")


class SocialAccountLink(BaseModel):
    """One row of `c360 import social-accounts`: a handle a customer confirmed as theirs."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    KEY_FIELDS: ClassVar[tuple[str, ...]] = LINK_FIELDS

    customerId: str
    platform: str
    handle: str

    @field_validator("customerId")
    @classmethod
    def _given(cls, value: str) -> str:
        value = value.removeprefix("@").strip()
        if not value:
            raise ValueError("must not be empty")
        return value

    @field_validator("handle")
    @classmethod
    def _handle(cls, value: str) -> str:
        # The handle rule of posts (model.check_handle): a handle ingest refuses (over 256
        # characters, an invisible U+202E, a space, full-width) can be no post's author, so
        # it links nothing; "@jack" is stored as ingest stores it, "jack".
        handle = check_handle(value)
        if handle is None:
            raise ValueError("must not be empty")
        return handle

    @field_validator("platform")
    @classmethod
    def _platform(cls, value: str) -> str:
        name = value.lower()
        if name not in PLATFORMS:
            raise ValueError(f"must be one of {', '.join(PLATFORMS)}")
        return name

    def to_graph_row(self) -> Row:
        return {"customerId": self.customerId, "platform": self.platform, "handle": self.handle}


HANDLE_LINKED = (
    "handle: already linked to another customer, and a handle is one person's (both 360 "
    "views would show its posts): nothing was linked"
)


def link_conflicts(row: Row, found: Row) -> list[str]:
    """The one rule of a confirmed handle, for linkSocialAccount and ``c360 import
    social-accounts`` alike: a handle is linked to one customer at most. ``found``: what the
    lookup (graph.repositories.imports ``lookup_social_accounts``) found for ``row``:
    ``links``, the customers holding the handle (in an import, also the customer an earlier
    row of the file links it to: its line is ``claimedBy``). [] when the row may link; else
    the reason, which names no other customer (the caller may not see them)."""
    others = [c for c in found.get("links") or [] if c != row.get("customerId")]
    if not others:
        return []
    line = found.get("claimedBy")
    return [HANDLE_LINKED + (f" (line {line} of this file links it)" if line else "")]


@dataclass(frozen=True)
class Candidate:
    platform: str
    handle: str
    name: str | None
    followers: int | None
    score: float  # 0..100


def rank_candidates(
    customer_name: str, accounts: list[Row], limit: int = 5, cutoff: float = 60.0
) -> list[Candidate]:
    """Accounts whose display name or handle resembles the customer's name, best first."""
    scored = []
    for account in accounts:
        best = max(
            fuzz.WRatio(customer_name, value, processor=utils.default_process)
            for value in (account.get("name") or "", account.get("handle") or "")
        )
        if best >= cutoff:
            scored.append(
                Candidate(
                    account["platform"],
                    account["handle"],
                    account.get("name"),
                    account.get("followers"),
                    round(float(best), 1),
                )
            )
    scored.sort(key=lambda c: (-c.score, c.platform, c.handle))
    return scored[:limit]


async def link_candidates(store: GraphStore, customer_id: str, limit: int = 5) -> list[Candidate]:
    """Suggestions only: nothing is linked until someone confirms (linkSocialAccount)."""
    data = await repo.link_candidate_data(store, customer_id)
    if not data["found"] or not data["name"]:
        return []
    return rank_candidates(data["name"], data["accounts"], limit)


__all__ = [
    "HANDLE_LINKED",
    "LINK_FIELDS",
    "Candidate",
    "SocialAccountLink",
    "link_candidates",
    "link_conflicts",
    "rank_candidates",
]
