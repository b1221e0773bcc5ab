"""What an import reports: its summary, and the two ways it stops (refused, interrupted)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from graph.errors import GraphError, GraphLoading


class ImportRefused(ValueError):
    """The input cannot be imported at all; nothing was written. One sentence, what to do next."""


class ImportInterrupted(GraphError):
    """The graph failed part way; ``committed`` records are in and a re-run resumes after them."""

    def __init__(self, message: str, committed: int) -> None:
        super().__init__(message)
        self.committed = committed


def graph_cause(exc: GraphError) -> str:
    """Why the graph stopped an import, in a command-line user's terms: a graph still loading
    its data (a restarted server) without the /readyz hint the server's own message gives."""
    if isinstance(exc, GraphLoading):
        return "the graph restarted and is still loading its data"
    return str(exc)


# Warnings a summary lists (their count is kept whole): a million flagged rows are a
# million-line report nobody reads, and the first ones say what to look for.
WARNINGS_SHOWN = 20


@dataclass
class ImportSummary:
    """What one import did. ``imported`` = inserted + updated + unchanged + upserted."""

    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    upserted: int = 0  # kinds without a lookup: written, new or changed unknown
    rejected: int = 0  # dead letters this run added
    # Dead letters the file holds: ``rejected`` and, on a resumed run, those an earlier run
    # wrote for the lines it committed (kept, not judged again).
    rejected_total: int = 0
    duplicates: int = 0
    # Keys repeated in the input whose last row was rejected: nothing of them was imported.
    duplicates_rejected: int = 0
    missing_parents: int = 0
    erased: int = 0  # rejected because they name a customer (or household) erased on request
    # Moved records (an interaction to another customer) whose sealed field, not given by the
    # row, could not come along: the old owner's key is gone (erased). It reads as null.
    unreadable_moved: int = 0
    # Ids of one input that differ only in case (C001 / c001): imported as two records.
    case_twins: int = 0
    # Customer rows whose consents were not written: the stored ones were changed after the
    # row's evidence (its consentUpdatedAt, or --as-of), or the row's are undated.
    stale_consents: int = 0
    warnings: list[str] = field(default_factory=list)  # "line N: ...", the first few
    warnings_total: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    rejected_first: list[str] = field(default_factory=list)  # "line N: reasons", first few
    dead_letter_path: Path | None = None
    resumed_after: int = 0  # records skipped because an earlier run had committed them
    # Why a checkpoint of this input was not resumed from (its options differ): "" if none.
    not_resumed: str = ""
    dry_run: bool = False
    source: str = ""

    @property
    def imported(self) -> int:
        return self.inserted + self.updated + self.unchanged + self.upserted

    def count(self, outcome: str, n: int = 1) -> None:
        """Add ``n`` to the counter named ``outcome`` (inserted / updated / unchanged)."""
        setattr(self, outcome, getattr(self, outcome) + n)

    def warn(self, text: str) -> None:
        """Note a warning: listed while fewer than WARNINGS_SHOWN are, always counted."""
        self.warnings_total += 1
        if len(self.warnings) < WARNINGS_SHOWN:
            self.warnings.append(text)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["imported"] = self.imported
        data["dead_letter_path"] = str(self.dead_letter_path) if self.dead_letter_path else None
        return data


__all__ = [
    "WARNINGS_SHOWN",
    "ImportInterrupted",
    "ImportRefused",
    "ImportSummary",
    "graph_cause",
]
