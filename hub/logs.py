"""Structured logs: one JSON object per line, never a personal value.

A record carries its message and the fields passed as ``extra={"fields": {...}}``. Exceptions
are written as their type and stack frames (file, line, function) only: an exception's message
and the frames' locals can hold query text or customer values, so neither is written.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

FIELDS = "fields"


def safe_traceback(exc_info: Any) -> dict[str, Any]:
    """The exception's type chain and frames, without messages or values."""
    _type, exc, _tb = exc_info
    chain: list[dict[str, Any]] = []
    while exc is not None and len(chain) < 5:
        frames = traceback.extract_tb(exc.__traceback__)
        chain.append(
            {
                "type": f"{type(exc).__module__}.{type(exc).__qualname__}",
                "frames": [f"{f.filename}:{f.lineno} in {f.name}" for f in frames[-30:]],
            }
        )
        exc = exc.__cause__ or exc.__context__
    return {"exception": chain}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(getattr(record, FIELDS, None) or {})
        if record.exc_info and record.exc_info[0] is not None:
            entry.update(safe_traceback(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


# Loggers of libraries whose messages may quote query text or values: kept quiet.
QUIET = ("strawberry.execution",)


def configure_logging(level: str = "INFO") -> dict[str, Any]:
    """Root logger -> JSON lines on stderr; returns a uvicorn ``log_config`` doing the same
    (uvicorn's access log is off: the request log replaces it).

    The returned config sets the root logger too: each ``serve --workers`` process is a fresh
    interpreter that applies only this config, and the hub's own loggers (c360.request, ...)
    would otherwise fall to Python's last-resort handler there: no request lines (INFO), and
    warnings as plain text with the exception's message, i.e. values in the log."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            **{name: {"level": "CRITICAL"} for name in QUIET},
        },
    }


__all__ = ["FIELDS", "JsonFormatter", "configure_logging", "safe_traceback"]
