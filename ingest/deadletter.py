"""Dead letters: rejected input records, kept beside the input with their line and reasons
(mode 0600, whatever the umask: the raw records are personal data)."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import IO, Any

import orjson

from shared.files import create_private

_FIRST = 5


class DeadLettersUnwritable(OSError):
    """The dead-letter file cannot be created (a read-only folder, no permission): raised
    when the context opens, before any record is read, so nothing was imported."""


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
    def beside(cls, path: Path, keep: bool = True, where: Path | None = None) -> DeadLetters:
        """customers.csv -> customers.dead.jsonl in the same folder, or in the folder
        ``where``, or the file ``where`` (for inputs in a folder that is not writable)."""
        name = f"{path.stem}.dead.jsonl"
        if where is None:
            return cls(path.with_name(name), keep)
        return cls(where / name if where.is_dir() else where, keep)

    def __enter__(self) -> DeadLetters:
        if self.keep:
            try:
                # 0600: it copies rows of personal data out of an input that may be owner-only.
                self._fh = create_private(self.path)
            except OSError as exc:
                raise DeadLettersUnwritable(
                    f"cannot write the dead-letter file {self.path} ({exc.strerror})"
                ) from exc
        self.count = 0
        self._open = True
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


__all__ = ["DeadLetters", "DeadLettersUnwritable"]
