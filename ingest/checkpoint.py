"""A small JSON key-value file that survives crashes: every change is an atomic replace."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from shared.files import replace_file


class Checkpoint:
    """``Checkpoint(path)``; ``set``/``clear`` persist at once (tmp file + fsync + os.replace),
    so a crash leaves either the old or the new content, never a torn file.

    ``durable=False`` skips the fsync (the CRM importer checkpoints after every batch, and an
    fsync on the event loop stalled the writes behind it): a power cut may then lose the
    newest checkpoint or leave an unreadable file, which reads as empty, so the run starts
    over; that is safe where every write is an idempotent upsert.

    Several processes share one file (imports of different inputs at once, each its own key):
    a change re-reads the file under an exclusive flock of its folder and writes it back with
    only that key changed, so one run's saves never drop another's entry."""

    def __init__(self, path: Path, durable: bool = True) -> None:
        self.path = path
        self.durable = durable
        self._data: dict[str, Any] = self._load()

    def _load(self) -> dict[str, Any]:
        try:
            data = orjson.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {}
        except orjson.JSONDecodeError:
            # Only our atomic writes touch it; an unreadable file means start over, not crash.
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        with self._locked():
            self._data = {**self._load(), key: value}
            self._save()

    def clear(self, key: str) -> None:
        with self._locked():
            self._data = self._load()
            if self._data.pop(key, None) is not None:
                self._save()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # The folder, not a lock file beside the checkpoint: nothing more to leave behind.
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # also lets the flock go

    def _save(self) -> None:
        data = orjson.dumps(self._data, option=orjson.OPT_INDENT_2)
        replace_file(self.path, data, durable=self.durable)


__all__ = ["Checkpoint"]
