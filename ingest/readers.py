"""Read CRM exports (CSV or JSON Lines) as numbered raw records, one bad line never stops a run."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

CSV_SUFFIXES = (".csv",)
JSONL_SUFFIXES = (".jsonl", ".ndjson")


class UnsupportedFile(ValueError):
    """The file is not one c360 can read; the message is one sentence a person can act on."""


@dataclass
class RawRecord:
    """One input record: ``line`` is the physical line it starts on (1-based, header is 1)."""

    line: int
    data: dict[str, Any] | None
    error: str | None = None


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    raise UnsupportedFile(
        f"{path.name} is not a CSV (.csv) or JSON Lines (.jsonl/.ndjson) file; "
        "export it as one of those and try again"
    )


def _read_csv(path: Path) -> Iterator[RawRecord]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        # DictReader advances line_num past quoted newlines, so remember where each row began.
        start = 2
        for row in reader:
            extra = row.pop(None, None)  # type: ignore[call-overload]
            data = {k.strip(): v for k, v in row.items() if k is not None}
            if extra:
                yield RawRecord(start, data, f"{len(extra)} more value(s) than header columns")
            else:
                yield RawRecord(start, data)
            start = reader.line_num + 1


def _read_jsonl(path: Path) -> Iterator[RawRecord]:
    with path.open(encoding="utf-8-sig") as fh:
        for number, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                value = orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                yield RawRecord(number, None, f"not valid JSON ({exc.msg})")
                continue
            if not isinstance(value, dict):
                yield RawRecord(number, None, f"expected a JSON object, got {type(value).__name__}")
                continue
            yield RawRecord(number, value)


def read_records(path: Path) -> Iterator[RawRecord]:
    """Yield every record of a .csv (UTF-8, BOM allowed, header row) or .jsonl/.ndjson file.

    Malformed JSON lines and non-object values come back with ``error`` set and ``data`` None;
    reading goes on. Raises UnsupportedFile for any other extension."""
    kind = _kind(path)
    return _read_csv(path) if kind == "csv" else _read_jsonl(path)


def read_header(path: Path) -> list[str] | None:
    """The CSV header columns (None for JSON Lines, whose keys vary per line)."""
    if _kind(path) != "csv":
        return None
    with path.open(encoding="utf-8-sig", newline="") as fh:
        first = next(csv.reader(fh), [])
    return [c.strip() for c in first]


def count_records(path: Path) -> int:
    """How many records the file holds (for progress totals); cheap line count for JSONL."""
    if _kind(path) == "csv":
        return sum(1 for _ in _read_csv(path))
    with path.open("rb") as fh:
        return sum(1 for line in fh if line.strip())


__all__ = ["RawRecord", "UnsupportedFile", "count_records", "read_header", "read_records"]
