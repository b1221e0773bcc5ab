"""Pending policy changes (four eyes): one JSON file in the data dir (privacy.proposals, the
store erasure requests use too).

A proposal carries the source, who proposed it, the revision it was tested against and the
test results; approving or rejecting it records who decided and when.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privacy.proposals import PENDING, ProposalFile

__all__ = ["PENDING", "STATUSES", "Proposal", "ProposalStore"]

FAILED, APPROVED, REJECTED = "failed", "approved", "rejected"
STATUSES = (PENDING, FAILED, APPROVED, REJECTED)
FILE_NAME = "policy-proposals.json"


@dataclass
class Proposal:
    id: str
    policy_id: str
    source: str
    proposer: str
    created_at: str
    base_revision: str  # the active revision the tests ran against
    candidate_revision: str
    passed: bool
    results: list[tuple[str, bool, str]] = field(default_factory=list)
    status: str = PENDING  # pending (passed, awaiting a second officer), failed, approved, rejected
    decided_by: str | None = None
    decided_at: str | None = None
    note: str | None = None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Proposal:
        raw = dict(raw)
        raw["results"] = [tuple(r) for r in raw.get("results") or []]
        return cls(**raw)


class ProposalStore(ProposalFile[Proposal]):
    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir / FILE_NAME, "proposals", Proposal.from_json)
