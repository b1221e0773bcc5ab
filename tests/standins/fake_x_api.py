"""STAND-IN for the X API v2 recent-search endpoint (the real one needs the internet).

Serves ``GET /2/tweets/search/recent`` on 127.0.0.1 with the real response shapes: ``data``,
``includes.users``, ``meta{newest_id, oldest_id, result_count, next_token}``, ``errors``.
Honours ``since_id``, ``max_results`` and ``next_token``/``pagination_token``; can be told
to answer a given request with a 429 (``x-rate-limit-reset`` one second ahead) or any other
error status.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class FakeXState:
    tweets: list[dict[str, Any]] = field(default_factory=list)  # any order; ids numeric strings
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_at: dict[int, int] = field(default_factory=dict)  # request number (1-based) -> status
    requests: list[dict[str, list[str]]] = field(default_factory=list)

    def add_tweet(
        self, tweet_id: int, text: str, author: str, created_at: str, **extra: Any
    ) -> None:
        user_id = (
            str(1000 + len(self.users)) if author not in self.users else self.users[author]["id"]
        )
        self.users.setdefault(
            author,
            {
                "id": user_id,
                "username": author,
                "name": author.title(),
                "public_metrics": {"followers_count": 100, "following_count": 1, "tweet_count": 5},
            },
        )
        self.tweets.append(
            {
                "id": str(tweet_id),
                "text": text,
                "author_id": user_id,
                "created_at": created_at,
                "lang": extra.pop("lang", "zh"),
                "conversation_id": str(tweet_id),
                "public_metrics": {
                    "retweet_count": 1,
                    "reply_count": 0,
                    "like_count": 3,
                    "quote_count": 0,
                    "impression_count": 50,
                },
                "edit_history_tweet_ids": [str(tweet_id)],
                **extra,
            }
        )


class _Handler(BaseHTTPRequestHandler):
    state: FakeXState

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet test output: requests are checked through FakeXState, not the log."""

    def _send(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        self.state.requests.append(query)
        if url.path != "/2/tweets/search/recent":
            self._send(404, {"title": "Not Found Error", "detail": url.path, "status": 404})
            return
        if not self.headers.get("Authorization", "").startswith("Bearer "):
            self._send(401, {"title": "Unauthorized", "detail": "Unauthorized", "status": 401})
            return
        status = self.state.fail_at.pop(len(self.state.requests), None)
        if status is not None:
            headers = {"x-rate-limit-reset": str(int(time.time()) + 1)} if status == 429 else {}
            title = {429: "Too Many Requests", 403: "Forbidden"}.get(status, "Server Error")
            self._send(status, {"title": title, "detail": title, "status": status}, headers)
            return
        since = int(query.get("since_id", ["0"])[0])
        size = int(query.get("max_results", ["10"])[0])
        # Search endpoints page with next_token; others with pagination_token.
        token = query.get("next_token") or query.get("pagination_token") or ["p0"]
        offset = int(token[0].removeprefix("p"))
        matching = sorted(
            (t for t in self.state.tweets if int(t["id"]) > since), key=lambda t: -int(t["id"])
        )
        page = matching[offset : offset + size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if not page:
            self._send(200, {"meta": meta})
            return
        meta |= {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"]}
        if offset + size < len(matching):
            meta["next_token"] = f"p{offset + size}"
        by_id = {u["id"]: u for u in self.state.users.values()}
        users = [by_id[a] for a in dict.fromkeys(t["author_id"] for t in page)]
        self._send(200, {"data": page, "includes": {"users": users}, "meta": meta})


@contextmanager
def fake_x_api(state: FakeXState | None = None) -> Iterator[tuple[str, FakeXState]]:
    """Run the stand-in on a random port; yields (base URL, state)."""
    state = state or FakeXState()
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
