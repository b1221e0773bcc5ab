"""`POST /ingest/posts`: signed pushes of the same post objects as the JSONL exports.

The body is a JSON object or list of objects; ``X-C360-Signature: sha256=<hex>`` is the
HMAC-SHA256 of the raw body with C360_WEBHOOK_SECRET. Every item is validated before any is
written, so a 400 means nothing was stored.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from graph.store import GraphStore
from ingest.social.model import SocialPost, parse_post
from ingest.social.pipeline import PostPipeline
from ingest.social.terms import TermMatcher
from sentiment.batch import BatchScorer
from sentiment.scorer import ScorerConfig

SIGNATURE_HEADER = "X-C360-Signature"
MAX_ITEMS = 1000


def sign(secret: str, body: bytes) -> str:
    """The header value a sender puts on ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    return header is not None and hmac.compare_digest(sign(secret, body), header.strip())


def parse_items(body: bytes, platform: str) -> tuple[list[SocialPost], list[dict[str, Any]]]:
    """Posts and per-item errors ({index, reasons}); index -1 is the body as a whole."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return [], [{"index": -1, "reasons": [f"not valid JSON ({exc.msg})"]}]
    items = doc if isinstance(doc, list) else [doc]
    if not items:
        return [], [{"index": -1, "reasons": ["no posts in the body"]}]
    if len(items) > MAX_ITEMS:
        return [], [{"index": -1, "reasons": [f"more than {MAX_ITEMS} posts in one request"]}]
    posts, errors = [], []
    for index, item in enumerate(items):
        try:
            posts.append(parse_post(item, platform))
        except ValueError as exc:
            errors.append({"index": index, "reasons": str(exc).split("; ")})
    return posts, errors


async def app_store(request: Request) -> GraphStore | None:
    """The hub's store: ``app.state.graph`` (hub.app's GraphHolder) or ``app.state.store``."""
    holder = getattr(request.app.state, "graph", None)
    if holder is not None:
        store: GraphStore | None = await holder.get()
        return store
    return getattr(request.app.state, "store", None)


class PostsWebhook:
    """The endpoint; its scorer and term matcher are built on first use, the store is the
    app's own (see :func:`app_store`) unless ``get_store`` says otherwise."""

    def __init__(
        self,
        secret: str,
        *,
        scorer_config: ScorerConfig | None = None,
        matcher: TermMatcher | None = None,
        default_platform: str = "forum",
        get_store: Callable[[Request], Awaitable[GraphStore | None]] | None = None,
    ) -> None:
        self.secret = secret
        self.scorer_config = scorer_config or ScorerConfig()
        self.matcher = matcher
        self.default_platform = default_platform
        self.get_store = get_store or app_store
        self._scorer: BatchScorer | None = None

    def _pipeline(self, store: GraphStore) -> PostPipeline:
        if self._scorer is None:
            # Pushes are small: score in-process (max_workers=1), no pool to own.
            self._scorer = BatchScorer(self.scorer_config, max_workers=1)
        if self.matcher is None:
            self.matcher = TermMatcher.default()
        return PostPipeline(store, self._scorer, self.matcher)

    async def handle(self, request: Request) -> JSONResponse:
        if not self.secret:
            return JSONResponse({"error": "webhook disabled: set C360_WEBHOOK_SECRET"}, 503)
        body = await request.body()
        if not signature_ok(self.secret, body, request.headers.get(SIGNATURE_HEADER)):
            return JSONResponse({"error": f"bad or missing {SIGNATURE_HEADER}"}, 401)
        posts, errors = parse_items(body, self.default_platform)
        if errors:
            return JSONResponse({"error": "invalid posts; nothing stored", "items": errors}, 400)
        store = await self.get_store(request)
        if store is None:
            return JSONResponse({"error": "the graph is unavailable; retry later"}, 503)
        prepared, _stored = await self._pipeline(store).ingest(posts)
        return JSONResponse(
            {"accepted": prepared.received - prepared.duplicates, "duplicates": prepared.duplicates}
        )


def webhook_route(webhook: PostsWebhook, path: str = "/ingest/posts") -> Route:
    return Route(path, webhook.handle, methods=["POST"])


__all__ = [
    "SIGNATURE_HEADER",
    "PostsWebhook",
    "app_store",
    "parse_items",
    "sign",
    "signature_ok",
    "webhook_route",
]
