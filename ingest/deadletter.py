"""Dead letters: rejected input records, kept beside the input with their line and reasons
(mode 0600, whatever the umask: the raw records are personal data)."""

from __future__ import annotations

import bisect
import contextlib
import os
import stat
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import orjson

from shared.files import create_private, sync_dir

_FIRST = 5


class DeadLettersUnwritable(OSError):
    """The dead-letter file cannot be created (a read-only folder, no permission): raised
    when the context opens, before any record is read, so nothing was imported."""


class DeadLetters:
    """Append-only JSON Lines of ``{line, raw, reasons}``.

    A fresh run rewrites the file when the context opens. A run resuming after line N (see
    ``resuming``) keeps the earlier run's dead letters of lines up to N, which it does not read
    again, and drops those after N, which it judges again; ``add`` ignores a line up to N (it
    is in the file already). The file is removed when it closes holding no dead letter, so a
    dead-letter file on disk always means work to do. ``count`` is what this run added,
    ``kept`` what it kept, ``total`` what the file holds. ``keep=False`` (a dry run) only
    counts: the file, and one left by an earlier run, are not touched."""

    def __init__(self, path: Path, keep: bool = True) -> None:
        self.path = path
        self.keep = keep
        self.count = 0
        self.kept = 0
        self.after = 0  # resuming: lines up to this one were judged by an earlier run
        # Resuming: the input lines of the dead letters kept (``kept`` of them): the records
        # of the skipped part that the earlier run rejected, not imported.
        self.kept_lines: set[int] = set()
        self._lines: list[int] = []  # the input lines of every dead letter in the file, sorted
        self.first: list[str] = []  # "line N: reason; ..." of the first few (dry run summary)
        self._open = False
        self._fh: IO[bytes] | None = None
        self._unsynced = False  # written since the last sync

    @classmethod
    def beside(cls, path: Path, keep: bool = True, where: Path | None = None) -> DeadLetters:
        """customers.csv -> customers.dead.jsonl in the same folder, or in the folder
        ``where``, or the file ``where`` (for inputs in a folder that is not writable)."""
        name = f"{path.stem}.dead.jsonl"
        if where is None:
            return cls(path.with_name(name), keep)
        return cls(where / name if where.is_dir() else where, keep)

    def resuming(self, after: int) -> DeadLetters:
        """Open (``with``) as the run resuming after line ``after`` (0: a fresh run)."""
        self.after = max(after, 0)
        return self

    @property
    def total(self) -> int:
        return self.kept + self.count

    def __enter__(self) -> DeadLetters:
        self.count = 0
        self.kept = 0
        self.kept_lines = set()
        self._lines = []
        if self.keep:
            try:
                self._fh = self._reopen() if self.after else None
                # 0600: it copies rows of personal data out of an input that may be owner-only.
                self._fh = self._fh or create_private(self.path)
            except OSError as exc:
                raise DeadLettersUnwritable(
                    f"cannot write the dead-letter file {self.path} ({exc.strerror})"
                ) from exc
        self._open = True
        return self

    def _reopen(self) -> IO[bytes] | None:
        """The file holding the earlier run's dead letters up to line ``after``, open for
        appending; None when there is no regular file to keep from. The kept ones are copied
        into a new private file that replaces the old one whole, so a crash while copying
        leaves the old file as it was."""
        try:
            if not stat.S_ISREG(self.path.stat().st_mode):
                return None
        except FileNotFoundError:
            return None
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fh = create_private(tmp)
        try:
            with self.path.open("rb") as old:
                for text in old:
                    line = _line_of(text)
                    if line is not None and line <= self.after:
                        fh.write(text if text.endswith(b"\n") else text + b"\n")
                        self.kept += 1
                        self.kept_lines.add(line)
                        bisect.insort(self._lines, line)
            fh.flush()
            os.fsync(fh.fileno())  # the kept letters are never judged again: keep them
            os.replace(tmp, self.path)
            sync_dir(self.path.parent)
        except BaseException:
            fh.close()
            tmp.unlink(missing_ok=True)
            raise
        return fh

    def add(self, line: int, raw: Any, reasons: list[str]) -> None:
        if not self._open:
            raise RuntimeError("DeadLetters.add outside its 'with' block")
        if line <= self.after:
            return  # kept from the run that judged it
        self.count += 1
        bisect.insort(self._lines, line)
        if len(self.first) < _FIRST:
            self.first.append(f"line {line}: {'; '.join(reasons)}")
        if self._fh is None:
            return
        record = {"line": line, "raw": raw, "reasons": reasons}
        self._write(orjson.dumps(record, default=str) + b"\n")
        self._unsynced = True

    def _write(self, data: bytes) -> None:
        """``data`` appended whole, or OSError naming the file (a write to an open file names
        none): a disk that fills up half way through leaves no torn line behind, it is cut
        off again (QA, session 26). Written with os.write: nothing waits in a buffer."""
        assert self._fh is not None
        fd = self._fh.fileno()
        regular = stat.S_ISREG(os.fstat(fd).st_mode)  # a FIFO or /dev/stdout cannot be cut
        size = os.lseek(fd, 0, os.SEEK_END) if regular else 0
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(fd, view) :]
        except OSError as exc:
            if regular:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)
            raise OSError(exc.errno, exc.strerror, str(self.path)) from exc

    def state(self, line: int) -> dict[str, object]:
        """What a checkpoint at input line ``line`` keeps of the dead letters: the file and how
        many of its dead letters are of lines up to ``line`` (those a resumed run keeps)."""
        return {"path": str(self.path.absolute()), "upto": bisect.bisect_right(self._lines, line)}

    def lost(self, state: object, line: int) -> str | None:
        """Why the run resuming after input line ``line`` would lose dead letters the earlier
        run wrote (its checkpoint's :meth:`state`): they went to another file (--dead-letters
        changed), or the file no longer holds them (moved, emptied: QA, session 26, the moved
        file's lines were in no file and in no figure, and those a lookup refused were counted
        as imported); None when they are there, or unknown (an older checkpoint, a FIFO)."""
        if not self.keep or not isinstance(state, dict):
            return None
        path, upto = state.get("path"), state.get("upto")
        if not isinstance(upto, int) or upto <= 0:
            return None  # none to lose
        if path != str(self.path.absolute()):
            return f"its {upto} dead letters went to {path} and this run's go to {self.path}"
        try:
            if not stat.S_ISREG(self.path.stat().st_mode):
                return None
            with self.path.open("rb") as fh:
                found = sum(1 for text in fh if (n := _line_of(text)) is not None and n <= line)
        except FileNotFoundError:
            found = 0
        if found >= upto:
            return None
        return (
            f"{self.path} holds {found} of the {upto} dead letters it wrote (the file was moved, "
            "edited or removed)"
        )

    def sync(self) -> None:
        """Make the dead letters written since the last call durable: called before a
        checkpoint moves past their lines (a resumed run does not judge those lines again).
        Most batches have none, and pay nothing."""
        if self._fh is None or not self._unsynced:
            return
        self._unsynced = False
        fd = self._fh.fileno()
        if stat.S_ISREG(os.fstat(fd).st_mode):  # a FIFO or /dev/stdout has no disk
            os.fsync(fd)

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
        if self.total == 0:
            self.path.unlink(missing_ok=True)


def _line_of(text: bytes) -> int | None:
    """The input line of one stored dead letter; None for a line that is not one (the last
    line of a file a killed run was writing may be cut off: its input line is judged again)."""
    try:
        record = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    line = record.get("line") if isinstance(record, dict) else None
    return line if isinstance(line, int) and not isinstance(line, bool) else None


__all__ = ["DeadLetters", "DeadLettersUnwritable"]
