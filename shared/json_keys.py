"""A JSON object that gives one key twice (``{"text": "a", "text": "b"}``) is ambiguous: JSON
parsers keep the last value (orjson, json) or the first, and nothing says which the sender
meant. The social webhook (a signed body is evidence) and JSONL imports refuse it, naming the
key (QA, session 22). orjson cannot tell: the text is read a second time with the standard
library, which can.

The second read builds no dicts and no numbers (each object's pairs are checked and
dropped): a webhook body of 1,000 posts (470 KB) took 1.2 ms beside orjson's 0.4 ms on the dev
machine (best of 20, session 22), in a worker thread, where the push as a whole (scoring,
fingerprints, the graph write) takes ~1.5 s (README, Webhook): under 0.1 % of it.
"""

from __future__ import annotations

import json
from typing import Any

from shared.echo import echo


class _Duplicate(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _pairs(pairs: list[tuple[str, Any]]) -> None:
    if len(pairs) > 1:
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Duplicate(key)
            seen.add(key)


def _nothing(_: str) -> None:
    return None


def duplicate_key(text: str | bytes) -> str | None:
    """The first key an object of this JSON text gives twice (innermost objects first); None
    when there is none, or when the standard library cannot read the text (orjson has read it:
    its answer stands; e.g. nesting deeper than Python's recursion limit)."""
    try:
        json.loads(
            text,
            object_pairs_hook=_pairs,
            parse_int=_nothing,
            parse_float=_nothing,
            parse_constant=_nothing,
        )
    except _Duplicate as found:
        return found.key
    except (ValueError, RecursionError):
        return None
    return None


def duplicate_key_reason(key: str) -> str:
    """The refusal of a text holding ``key`` twice in one object, the key quoted capped."""
    return (
        f"the key {echo(key)!r} appears twice in one object: which value is meant is "
        "ambiguous; send each key once"
    )


__all__ = ["duplicate_key", "duplicate_key_reason"]
