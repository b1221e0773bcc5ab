"""Pending policy changes (four eyes): one JSON file in the data dir, written atomically, 0600.

A proposal carries the source, who proposed it, the revision it was tested against and the
test results; approving or rejecting it records who decided and when.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["PENDING", "Proposal", "ProposalStore"]

PENDING, FAILED, APPROVED, REJECTED = "pending", "failed", "approved", "rejected"
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


class ProposalStore:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE_NAME

    def load(self) -> dict[str, Proposal]:
        if not self.path.is_file():
            return {}
        raw = json.loads(self.path.read_text(encoding="utf-8"))
        return {p["id"]: Proposal.from_json(p) for p in raw.get("proposals", [])}

    def save(self, proposals: dict[str, Proposal]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(
            {"proposals": [asdict(p) for p in proposals.values()]}, ensure_ascii=False, indent=1
        )
        tmp = self.path.with_name(f".{FILE_NAME}.tmp")
        # Created 0600: proposals hold policy sources and officers' subjects.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)
