"""The brand tests' stream helpers: they live in ingest/social/stream_check.py (the bench uses
them too)."""

from __future__ import annotations

from ingest.social.stream_check import ingest_lines, store_counts, summary, write_lines

__all__ = ["ingest_lines", "store_counts", "summary", "write_lines"]
