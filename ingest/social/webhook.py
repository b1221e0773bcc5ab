"""`POST /ingest/posts`: signed pushes of the same post objects as the JSONL exports.

The body is a JSON object or list of objects. ``X-C360-Timestamp`` is the send time (Unix
seconds) and ``X-C360-Signature: sha256=<hex>`` the HMAC-SHA256 with C360_WEBHOOK_SECRET of
``<timestamp>.<raw body>``, so the time cannot be changed without the secret. A push more than
5 minutes off the hub's clock is refused, and so is a signature already taken within that
window (a replay): in this process's memory first, then by a claim in the graph written
before any post is, so the same push sent to two workers at once, or again after a restart,
is stored by one (graph/repositories/webhook_pushes.py). Every item is validated before any
is written, so a 400 means nothing was stored; a post's engagement figures only grow (an old
push cannot roll likes back).
"""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import hmac
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from graph.errors import GraphError, GraphUnavailable
from graph.repositories.webhook_pushes import LEASE_S, claim_push, mark_stored, release_push
from graph.store import GraphStore
from ingest.readers import detect_encoding
from ingest.social.model import SocialPost, parse_post
from ingest.social.pipeline import OnWritten, PostPipeline
from ingest.social.terms import TermMatcher
from sentiment.batch import BatchScorer
from sentiment.scorer import ScorerConfig
from shared.json_keys import duplicate_key, duplicate_key_reason

SIGNATURE_HEADER = "X-C360-Signature"
TIMESTAMP_HEADER = "X-C360-Timestamp"
MAX_ITEMS = 1000
TOLERANCE_S = 300
MAX_TIMESTAMP_DIGITS = 12
# Signatures remembered within the tolerance window; past this many the oldest are dropped
# (a sender would need more than this many pushes in 10 minutes to make a replay pass).
REPLAY_CACHE_SIZE = 100_000
# Seconds a sender should wait before retrying a push the graph could not take (503).
RETRY_AFTER_S = 1
UNAVAILABLE = "the graph is unavailable; retry the same push later (it is stored once)"
REPLAY = "this signed push was already received (replay)"
MUST_BE_UTF8 = "the body must be UTF-8 JSON"
# A webhook has no mapping to give other time formats by: what a created_at may be instead
# (after "not a time in ISO-8601 (e.g. ...)"; no "; ", which splits an item's reasons).
TIME_ADVICE = (
    ", the one text format a webhook takes (with an offset, else Asia/Shanghai time) besides "
    "Unix epoch seconds (10 digits) or milliseconds (13 digits)"
)

log = logging.getLogger("c360.ingest")


def sign(secret: str, body: bytes, timestamp: int | str) -> str:
    """The signature header value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """Both headers a sender puts on ``body`` (for senders, tests and benches)."""
    timestamp = str(int(time.time() if now is None else now))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, body, timestamp)}


def signature_ok(secret: str, body: bytes, timestamp: str | None, header: str | None) -> bool:
    if header is None or timestamp is None or not timestamp.strip().isdigit():
        return False
    return hmac.compare_digest(sign(secret, body, timestamp.strip()), header.strip())


class ReplayGuard:
    """Refuses a timestamp outside ``tolerance_s`` of now and a signature seen before in
    that window, in this process: two copies in flight at once are one push. What other
    processes (or this one before a restart) took is claimed in the graph as well."""

    def __init__(self, tolerance_s: float = TOLERANCE_S, max_size: int = REPLAY_CACHE_SIZE) -> None:
        self.tolerance_s = tolerance_s
        self.max_size = max_size
        self._seen: OrderedDict[str, float] = OrderedDict()

    def check(self, timestamp: str, signature: str, now: float | None = None) -> str | None:
        """None when fresh (and remembered), else the reason to refuse."""
        now = time.time() if now is None else now
        # Digits only (signature_ok), but any number of them: a time of more than 12 digits
        # (after the year 33658) is refused before int() meets it, which would fail past 4300
        # digits, and float arithmetic, which overflows past ~309.
        stamp = timestamp.strip()
        if len(stamp) > MAX_TIMESTAMP_DIGITS or abs(now - int(stamp)) > self.tolerance_s:
            return f"{TIMESTAMP_HEADER} is more than {int(self.tolerance_s)} s from the hub's clock"
        self._forget_before(now - 2 * self.tolerance_s)
        key = signature.strip()
        if key in self._seen:
            return REPLAY
        self._seen[key] = now
        if len(self._seen) > self.max_size:
            self._seen.popitem(last=False)
        return None

    def forget(self, signature: str) -> None:
        """Forget a signature whose push was not stored, so the sender's retry is taken."""
        self._seen.pop(signature.strip(), None)

    def _forget_before(self, cutoff: float) -> None:
        while self._seen:
            key, seen_at = next(iter(self._seen.items()))
            if seen_at >= cutoff:
                return
            del self._seen[key]


def parse_items(body: bytes, platform: str) -> tuple[list[SocialPost], list[dict[str, Any]]]:
    """Posts and per-item errors ({index, reasons}); index -1 is the body as a whole."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        reason = not_utf8(body) or f"not valid JSON ({exc.msg})"
        return [], [{"index": -1, "reasons": [reason]}]
    if (key := duplicate_key(body)) is not None:
        # A signed body is evidence: one that says two things is refused, not read as its
        # last value (shared/json_keys.py).
        return [], [{"index": -1, "reasons": [duplicate_key_reason(key)]}]
    items = doc if isinstance(doc, list) else [doc]
    if not items:
        return [], [{"index": -1, "reasons": ["no posts in the body"]}]
    if len(items) > MAX_ITEMS:
        return [], [{"index": -1, "reasons": [f"more than {MAX_ITEMS} posts in one request"]}]
    posts, errors = [], []
    for index, item in enumerate(items):
        try:
            posts.append(parse_post(item, platform, time_advice=TIME_ADVICE))
        except ValueError as exc:
            errors.append({"index": index, "reasons": str(exc).split("; ")})
    return posts, errors


def not_utf8(body: bytes) -> str | None:
    """What is wrong with a body that is not UTF-8 JSON by its encoding, in words a sender can
    act on ("... it looks like UTF-16"); None when the body is UTF-8 (its JSON is what is wrong).
    orjson's own message for these ("str is not valid UTF-8: surrogates not allowed",
    "unexpected character") named no encoding (QA, session 22)."""
    if body.startswith(codecs.BOM_UTF8):
        return f"{MUST_BE_UTF8}; it starts with a UTF-8 byte order mark: send it without"
    # RFC 4627 section 3: a JSON text starts with two ASCII characters, so UTF-32 without a
    # byte order mark shows as three NUL bytes beside the first (00 00 00 xx or xx 00 00 00),
    # UTF-16 as one beside each. UTF-32 first: its little-endian mark FF FE 00 00 begins with
    # UTF-16's FF FE (a UTF-32 body was called UTF-16: QA, session 22).
    head = body[:4]
    if head in (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE) or (
        len(head) == 4 and (head[:3] == b"\0\0\0" or head[1:] == b"\0\0\0")
    ):
        return f"{MUST_BE_UTF8}; it looks like UTF-32"
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head:
        return f"{MUST_BE_UTF8}; it looks like UTF-16"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return None
    found = detect_encoding(body, complete=True)
    if found == "gb18030":
        return f"{MUST_BE_UTF8}; it looks like GBK/GB18030 (e.g. iconv -f GB18030 -t UTF-8)"
    if found is None:
        return f"{MUST_BE_UTF8}; it is not text in any encoding the hub recognises"
    if codecs.lookup(found).name.startswith("utf-8"):
        # Mostly UTF-8, some bytes not: a piece pasted from another encoding.
        return f"{MUST_BE_UTF8}; some of its bytes are not UTF-8"
    if _single_byte(found):
        # Which code page is a guess (charset-normalizer called a Latin-1 body cp1250: QA,
        # session 22); that it is one byte a character is not.
        return f"{MUST_BE_UTF8}; it looks like a single-byte encoding such as Latin-1/cp1252"
    return f"{MUST_BE_UTF8}; it looks like {found}"


def _single_byte(encoding: str) -> bool:
    """Whether ``encoding`` reads every byte as one character (a code page: Latin-1, cp1250,
    KOI8-R), not some byte pairs as one (Big5, Shift JIS)."""
    return len(bytes(range(256)).decode(encoding, errors="replace")) == 256


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
        on_written: OnWritten | None = None,
    ) -> None:
        self.secret = secret
        self.scorer_config = scorer_config or ScorerConfig()
        self.matcher = matcher
        self.default_platform = default_platform
        self.get_store = get_store or app_store
        self._scorer: BatchScorer | None = None
        self.replays = ReplayGuard()
        self.on_written = on_written

    def _pipeline(self, store: GraphStore) -> PostPipeline:
        if self._scorer is None:
            # Pushes are small: score in-process (max_workers=1), no pool to own.
            self._scorer = BatchScorer(self.scorer_config, max_workers=1)
        if self.matcher is None:
            self.matcher = TermMatcher.default()
        return PostPipeline(store, self._scorer, self.matcher, on_written=self.on_written)

    async def handle(self, request: Request) -> JSONResponse:
        if not self.secret:
            return JSONResponse({"error": "webhook disabled: set C360_WEBHOOK_SECRET"}, 503)
        body = await request.body()
        timestamp = request.headers.get(TIMESTAMP_HEADER)
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature_ok(self.secret, body, timestamp, signature):
            return JSONResponse(
                {
                    "error": f"bad or missing {SIGNATURE_HEADER}/{TIMESTAMP_HEADER}: sign "
                    "'<unix seconds>.<body>' with HMAC-SHA256"
                },
                401,
            )
        assert timestamp is not None and signature is not None
        refused = self.replays.check(timestamp.strip(), signature)
        if refused:
            return JSONResponse({"error": refused}, 401)
        # Remembered before the write, so a copy sent meanwhile is refused; forgotten again
        # when the push is not stored (graph down, timeout, any failure): a signed push is
        # taken once, and a sender retrying a push the hub could not store is not a replay.
        stored = False
        try:
            response = await self._store(request, body, signature.strip())
            stored = response.status_code == 200
            return response
        finally:
            if not stored:
                self.replays.forget(signature)

    async def _store(self, request: Request, body: bytes, signature: str) -> JSONResponse:
        # JSON decoding and validation of up to MAX_ITEMS posts: one hop to a worker thread,
        # so /healthz and other requests are not held up behind a large push.
        posts, errors = await asyncio.to_thread(parse_items, body, self.default_platform)
        if errors:
            whole = errors[0]["reasons"][0] if errors[0]["index"] == -1 else "invalid posts"
            return JSONResponse({"error": f"{whole}; nothing stored", "items": errors}, 400)
        store = await self.get_store(request)
        if store is None:
            return _unavailable()
        now = time.time()
        window = 2 * self.replays.tolerance_s  # a timestamp is good for tolerance_s each way
        claim = uuid.uuid4().hex
        try:
            # Claimed before any post is written: of two workers sent the same push at once,
            # one stores it and the other refuses it as a replay.
            if not await claim_push(store, signature, claim, now, now - window):
                return JSONResponse({"error": REPLAY}, 401)
        except GraphError as exc:
            # Nothing is stored, so the sender's retry must be taken: a claim applied but not
            # answered (the store's own retry failed too) is dropped if the graph lets us.
            log.warning("webhook push not stored, its claim could not be written: %s", exc)
            await _release(store, signature, claim)
            return _unavailable()
        except BaseException:
            await _release(store, signature, claim)  # cancelled (the request's timeout)
            raise
        try:
            prepared, _written = await self._pipeline(store).ingest(posts)
        except GraphUnavailable as exc:
            log.warning("webhook push not stored, the graph is unavailable: %s", exc)
            return await _released(store, signature, claim, _unavailable())
        except GraphError:
            log.exception("webhook push not stored: the graph refused the write")
            refused = JSONResponse({"error": "the graph refused the write; nothing stored"}, 500)
            return await _released(store, signature, claim, refused)
        except BaseException:
            # Any other failure, or the request cancelled (its timeout): not stored, or not
            # known to be, so the sender's retry must be taken (it merges if it was).
            await _release(store, signature, claim)
            raise
        try:
            await mark_stored(store, signature, claim, now - window)
        except GraphError as exc:
            # Stored, so the sender gets its 200. The claim stays unstored: a replay is
            # refused until LEASE_S passes, and after that merges into the same posts.
            log.warning("webhook push stored but not marked so for replays: %s", exc)
        # accepted (new) + updated (a stored post's text edited, re-scored) + duplicates
        # (repeats: within the push, or stored with the same text) = the posts pushed.
        return JSONResponse(
            {
                "accepted": prepared.new,
                "updated": prepared.updated,
                "duplicates": prepared.duplicates,
            }
        )


async def _release(store: GraphStore, signature: str, claim: str) -> bool:
    """Drops the claim of a push not stored; False when the graph would not take that."""
    try:
        await release_push(store, signature, claim)
        return True
    except GraphError as exc:
        log.warning("webhook push not stored, and its claim not released: %s", exc)
        return False


async def _released(
    store: GraphStore, signature: str, claim: str, response: JSONResponse
) -> JSONResponse:
    """``response`` for a push not stored, once its claim is dropped. A claim the graph would
    not drop holds the push for up to LEASE_S, so the sender is told to retry after that."""
    if not await _release(store, signature, claim):
        response.headers["Retry-After"] = str(int(LEASE_S))
    return response


def _unavailable() -> JSONResponse:
    return JSONResponse({"error": UNAVAILABLE}, 503, headers={"Retry-After": str(RETRY_AFTER_S)})


def webhook_route(webhook: PostsWebhook, path: str = "/ingest/posts") -> Route:
    return Route(path, webhook.handle, methods=["POST"])


__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "PostsWebhook",
    "ReplayGuard",
    "app_store",
    "parse_items",
    "sign",
    "signature_ok",
    "signed_headers",
    "webhook_route",
]
