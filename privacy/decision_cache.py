"""The process's one cache of policy answers: bounded, least recently used out first.

A decision depends only on who asks as the policy is told it (roles, purpose, and the subject
and its branch as stand-ins: privacy/stand_ins.py), the action, the policy revision and the
resource's type and attributes (its advisor and branch as the asker's own or another's), never
its id, a name or the clock, so equal questions get equal answers: a search that decides every
candidate asks the engine once per attribute set and then costs lookups. Answers are kept
``ttl_s`` (an OPA server fed by a bundle server can change policy behind the hub's back) and at
most ``max_entries``; a new policy revision empties the cache (the one place of invalidation:
whatever reloaded the policy, the revision changed), and so does an engine that failed or
answered nonsense (fail closed: nothing answered from before it); a batch that only timed out
leaves them (privacy/services.py: a slow engine, or one busy with another request, says nothing
about earlier answers).

Keys are SHA-256 digests of the question, so an entry costs a digest and the answer whatever the
size of the caller's claims or the resource's attributes (~1 KB each, measured with
bench/soak.py; see docs/benchmarks.md "Memory").
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

import orjson

from privacy.stand_ins import principal_input, resource_attributes
from privacy.types import Decision, Principal

__all__ = [
    "DECISION_CACHE_ENTRIES",
    "DECISION_TTL_S",
    "DecisionCache",
    "asker",
    "question",
]

DECISION_TTL_S = 30.0
# Sized from the soak: 16 clients over 500 demo customers keep ~3,000 questions live (four
# roles, one token per advisor, each advisor's searches deciding every attribute set); a book
# of 20,000 candidates with a few hundred advisors needs several times that. 16,384 entries
# hold at most ~16 MB.
DECISION_CACHE_ENTRIES = 16_384


def asker(principal: Principal, action: str, revision: str) -> bytes:
    """What a decision depends on besides the resource (computed once per batch): the
    subject as the policy sees it (privacy/stand_ins.py), so holders of the same roles, purpose
    and branch-ness share answers."""
    return orjson.dumps(
        [principal_input(principal), principal.purpose, action, revision],
        option=orjson.OPT_SORT_KEYS,
    )


def question(
    asked_by: bytes, principal: Principal, rtype: str, attributes: dict[str, Any]
) -> bytes:
    """The cache key: a digest of everything a decision may depend on (the resource's
    attributes as the policy sees them: the subject's own advisor or branch, or another's)."""
    seen = resource_attributes(principal, attributes)
    about = orjson.dumps([rtype, seen], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(b"%d:%b%b" % (len(asked_by), asked_by, about)).digest()


class DecisionCache:
    """An LRU of (time kept, decision) by :func:`question`, for one policy revision at a time."""

    def __init__(
        self, max_entries: int = DECISION_CACHE_ENTRIES, ttl_s: float = DECISION_TTL_S
    ) -> None:
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self.revision: str | None = None
        self._entries: OrderedDict[bytes, tuple[float, Decision]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def for_revision(self, revision: str) -> None:
        """Empty the cache when the policy revision changed since the last question."""
        if revision != self.revision:
            self._entries.clear()
            self.revision = revision

    def get(self, key: bytes, now: float) -> Decision | None:
        kept = self._entries.get(key)
        if kept is None:
            return None
        if now - kept[0] >= self.ttl_s:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return kept[1]

    def put(self, key: bytes, decision: Decision, now: float) -> None:
        if self.max_entries <= 0:
            return
        self._entries[key] = (now, decision)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
