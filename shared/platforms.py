"""The social platforms c360 ingests from: the names ingest writes and the API accepts."""

from __future__ import annotations

PLATFORMS = ("x", "weibo", "wechat", "forum")

__all__ = ["PLATFORMS"]
