"""Writing a small import input (a CSV, a mapping) for the tests."""

from __future__ import annotations

from pathlib import Path

from graph.store import GraphStore
from ingest.crm import import_file
from ingest.summary import ImportSummary


def input_file(folder: Path, name: str, text: str) -> Path:
    """``folder / name`` holding ``text`` (UTF-8)."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


async def import_steps(store: GraphStore, folder: Path, *steps: tuple[str, str]) -> ImportSummary:
    """Import each ``(kind, CSV text)`` in turn, the i-th as ``folder / f"{kind}{i}.csv"``
    (its dead letters: ``{kind}{i}.dead.jsonl``); the last one's summary."""
    summary = ImportSummary()
    for i, (kind, text) in enumerate(steps):
        summary = await import_file(store, kind, input_file(folder, f"{kind}{i}.csv", text))
    return summary
