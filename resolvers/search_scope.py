"""A scoped caller's search scope, pushed into the search's Cypher.

A caller whose grants single customers out (an advisor sees the customers it manages, a
marketer those who consented) used to scan the whole book: every customer read, decided and
matched in Python. The policy decides a customer on four attributes only (advisor, branch,
two consents), so :func:`search_scope` decides every combination of them that exists
(advisors x consents, a few dozen, answered from the engine's cache after the first time) and
hands the allowed ones to the search query, which then reads only customers in scope (walking
from the allowed advisors when every allowed combination names one). The work depends on the
caller's scope, never on what the search text matches, and each candidate is still decided.
"""

from __future__ import annotations

from graph.repositories.access import Scope, access_classes, class_key
from graph.store import GraphStore
from privacy.types import Resource
from resolvers.privacy import CUSTOMER, RequestPrivacy


async def search_scope(privacy: RequestPrivacy, store: GraphStore) -> Scope:
    """The policy-attribute classes this request's caller may see customers of."""
    classes = await access_classes(store)
    resources = [Resource(CUSTOMER, f"\x00class{i}", attrs) for i, attrs in enumerate(classes)]
    decided = await privacy.decide(resources)
    allowed = [attrs for r, attrs in zip(resources, classes, strict=True) if decided[r.id].allow]
    managed = all(a["advisorId"] is not None for a in allowed)
    return Scope(
        classes=frozenset(class_key(a) for a in allowed),
        advisors=frozenset(a["advisorId"] for a in allowed) if managed else None,
    )


__all__ = ["search_scope"]
