"""GraphQL over HTTP details: media type negotiation, status codes and safe JSON bodies.

Clients that accept ``application/graphql-response+json`` (the GraphQL-over-HTTP spec's type)
get it, with 400 and no ``data`` entry when the request fails before execution (parse,
validation, variable coercion, refused input). Everyone else (``application/json``, ``*/*``,
no Accept) keeps the old behaviour: 200 with ``{"data": null, "errors": [...]}``.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from graphql import GraphQLError

from shared.echo import echo

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
# Deeper request bodies are refused (400): nothing in the API nests this deep, and deep values
# would exhaust the recursion of the layers below.
MAX_JSON_DEPTH = 64
# Codes of errors raised before execution; with them and no path the request itself was bad.
REQUEST_ERROR_CODES = frozenset(
    {
        "BAD_USER_INPUT",
        "GRAPHQL_PARSE_FAILED",
        "GRAPHQL_VALIDATION_FAILED",
        "PERSISTED_QUERY_HASH_MISMATCH",
        "PERSISTED_QUERY_NOT_ALLOWED",
        "PERSISTED_QUERY_NOT_FOUND",
        "QUERY_TOO_COSTLY",
        "QUERY_TOO_DEEP",
        "TOO_MANY_ALIASES",
    }
)


class BadBody(ValueError):
    """The body is not a JSON object/list we accept; the message is safe for the client."""


# Codes of requests refused before GraphQL sees them (bad body, batch, content type, unknown
# operationName), and of an operation type this transport does not serve.
BAD_REQUEST = "BAD_REQUEST"
OPERATION_NOT_SUPPORTED = "OPERATION_NOT_SUPPORTED"
_CODE_BY_STATUS = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


def refusal_code(status: int) -> str:
    return _CODE_BY_STATUS.get(status, BAD_REQUEST)


def refusal_body(message: str, code: str) -> dict[str, Any]:
    """A request refused before execution, shaped as GraphQL errors are (no data)."""
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def _q(params: list[str]) -> float:
    for param in params:
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def response_media_type(accept: str | None) -> str:
    """``GRAPHQL_RESPONSE`` when the client prefers it (or accepts only it), else ``JSON``."""
    if not accept:
        return JSON
    weights: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = part.split(";")
        media = media.strip().lower()
        weights[media] = max(weights.get(media, 0.0), _q(params))
    ours, theirs = weights.get(GRAPHQL_RESPONSE, 0.0), weights.get(JSON, 0.0)
    if ours > 0 and ours >= theirs:
        # "*/*" alone means JSON (spec: legacy clients); an explicit preference wins.
        return GRAPHQL_RESPONSE
    return JSON


def is_request_error(data: Any, errors: list[GraphQLError] | None) -> bool:
    """True when the operation never executed: no data and only path-less request errors."""
    if data is not None or not errors:
        return False
    for error in errors:
        code = (error.extensions or {}).get("code")
        if error.path or (code is not None and code not in REQUEST_ERROR_CODES):
            return False
    return True


def json_depth_ok(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return value


def check_unique_keys(data: str | bytes) -> None:
    """BadBody when an object of the (valid, shallow) JSON ``data`` names a key twice.

    orjson, like most parsers, keeps the last value silently; a proxy or firewall in front of
    the hub may keep the first, and then it checked a query the hub does not run. The stdlib
    parser is the one here that hands over every pair (about one more parse of the body)."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    try:
        json.loads(text, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as exc:
        raise BadBody(
            f"the request body names the key {echo(json.dumps(str(exc), ensure_ascii=False))} "
            "twice in one object; send each key once"
        ) from None
    except ValueError:
        return  # what orjson reads and the stdlib does not (an int of 5 000 digits): no pairs


def decode_body(data: str | bytes) -> Any:
    """The request JSON; BadBody for malformed, non-object, over-deep bodies or one with a
    key twice in an object."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadBody("Unable to parse request body as JSON") from exc
    if not isinstance(value, dict | list):
        raise BadBody("the request body must be a JSON object (or a list of them)")
    if not json_depth_ok(value):
        raise BadBody(f"the request body nests deeper than {MAX_JSON_DEPTH} levels")
    check_unique_keys(data)
    return value


__all__ = [
    "BAD_REQUEST",
    "GRAPHQL_RESPONSE",
    "JSON",
    "MAX_JSON_DEPTH",
    "OPERATION_NOT_SUPPORTED",
    "BadBody",
    "decode_body",
    "is_request_error",
    "json_depth_ok",
    "refusal_body",
    "refusal_code",
    "response_media_type",
]
