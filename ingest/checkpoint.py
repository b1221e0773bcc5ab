"""A small JSON key-value file that survives crashes: every change is an atomic replace."""

from __future__ import annotations

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
    over; that is safe where every write is an idempotent upsert."""

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
        self._data[key] = value
        self._save()

    def clear(self, key: str) -> None:
        if self._data.pop(key, None) is not None:
            self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = orjson.dumps(self._data, option=orjson.OPT_INDENT_2)
        replace_file(self.path, data, durable=self.durable)


__all__ = ["Checkpoint"]
