"""Dead letters: rejected input records, kept beside the input with their line and reasons."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import IO, Any

import orjson

_FIRST = 5


class DeadLetters:
    """Append-only JSON Lines of ``{line, raw, reasons}``.

    The file is truncated when the context opens (a re-run rewrites it) and removed when it
    closes with nothing rejected, so a dead-letter file on disk always means work to do.
    ``keep=False`` (a dry run) only counts: the file, and one left by an earlier run, are not
    touched."""

    def __init__(self, path: Path, keep: bool = True) -> None:
        self.path = path
        self.keep = keep
        self.count = 0
        self.first: list[str] = []  # "line N: reason; ..." of the first few (dry run summary)
        self._open = False
        self._fh: IO[bytes] | None = None

    @classmethod
    def beside(cls, path: Path, keep: bool = True) -> DeadLetters:
        """customers.csv -> customers.dead.jsonl in the same folder."""
        return cls(path.with_name(f"{path.stem}.dead.jsonl"), keep)

    def __enter__(self) -> DeadLetters:
        self.count = 0
        self._open = True
        if self.keep:
            self._fh = self.path.open("wb")
        return self

    def add(self, line: int, raw: Any, reasons: list[str]) -> None:
        if not self._open:
            raise RuntimeError("DeadLetters.add outside its 'with' block")
        self.count += 1
        if len(self.first) < _FIRST:
            self.first.append(f"line {line}: {'; '.join(reasons)}")
        if self._fh is None:
            return
        record = {"line": line, "raw": raw, "reasons": reasons}
        self._fh.write(orjson.dumps(record, default=str) + b"\n")
        self._fh.flush()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._open = False
        if self._fh is None:
            return
        self._fh.close()
        self._fh = None
        if self.count == 0:
            self.path.unlink(missing_ok=True)


__all__ = ["DeadLetters"]
