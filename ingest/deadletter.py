"""Dead letters: rejected input records, kept beside the input with their line and reasons."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import IO, Any

import orjson


class DeadLetters:
    """Append-only JSON Lines of ``{line, raw, reasons}``.

    The file is truncated when the context opens (a re-run rewrites it) and removed when it
    closes with nothing rejected, so a dead-letter file on disk always means work to do."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._fh: IO[bytes] | None = None

    @classmethod
    def beside(cls, path: Path) -> DeadLetters:
        """customers.csv -> customers.dead.jsonl in the same folder."""
        return cls(path.with_name(f"{path.stem}.dead.jsonl"))

    def __enter__(self) -> DeadLetters:
        self.count = 0
        self._fh = self.path.open("wb")
        return self

    def add(self, line: int, raw: Any, reasons: list[str]) -> None:
        if self._fh is None:
            raise RuntimeError("DeadLetters.add outside its 'with' block")
        record = {"line": line, "raw": raw, "reasons": reasons}
        self._fh.write(orjson.dumps(record, default=str) + b"\n")
        self._fh.flush()
        self.count += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self.count == 0:
            self.path.unlink(missing_ok=True)


__all__ = ["DeadLetters"]
