"""Scoped searches read the caller's scope, not the book (issue 16): the scope's policy
classes go into the search's Cypher, so an advisor's scan returns only its own customers,
and the listing is the same as when every customer was read and decided."""

from __future__ import annotations

from collections.abc import Callable

from graph.repositories.access import Scope, access_classes, class_key, search_candidates
from graph.store import GraphStore
from tests.api.conftest import Api
from tests.api.privacy_seed import ADVISOR_1, ADVISOR_2, PEOPLE, seed_privacy_book

LIST = "{ customers(first: 50) { totalCount edges { node { id } } } }"


async def _scan(store: GraphStore, scope: Scope | None) -> list[str]:
    rows = await search_candidates(
        store, text=None, name=None, phone=None, min_assets=None, max_assets=None,
        with_assets=False, cap=1000, scan=True, scope=scope,
    )  # fmt: skip
    return [r["id"] for r in rows]


async def test_a_scope_keeps_the_scan_to_its_classes(store: GraphStore) -> None:
    await seed_privacy_book(store)
    classes = await access_classes(store)
    # Advisors x branch, plus no advisor, times four consent combinations.
    assert {c["advisorId"] for c in classes} == {ADVISOR_1, ADVISOR_2, None}
    assert len(classes) == 3 * 4
    everyone = sorted(p.id for p in PEOPLE)
    assert await _scan(store, None) == everyone

    mine = frozenset(class_key(c) for c in classes if c["advisorId"] == ADVISOR_1)
    by_advisor = Scope(mine, advisors=frozenset({ADVISOR_1}))
    by_class = Scope(mine, advisors=None)
    expected = sorted(p.id for p in PEOPLE if p.advisor == ADVISOR_1)
    assert await _scan(store, by_advisor) == expected
    assert await _scan(store, by_class) == expected

    consenting = frozenset(class_key(c) for c in classes if c["consentMarketing"])
    assert await _scan(store, Scope(consenting, None)) == sorted(p.id for p in PEOPLE if p.consent)
    assert await _scan(store, Scope(frozenset(), None)) == []


async def test_scoped_listings_list_what_the_policy_allows(
    store: GraphStore, as_role: Callable[..., Api]
) -> None:
    await seed_privacy_book(store)
    advisor = await as_role("advisor", "service", ADVISOR_1).gql(LIST)
    listed = [e["node"]["id"] for e in advisor["data"]["customers"]["edges"]]
    assert listed == sorted(p.id for p in PEOPLE if p.advisor == ADVISOR_1)
    assert advisor["data"]["customers"]["totalCount"] == len(listed)

    marketing = await as_role("marketing_analyst", "marketing").gql(LIST)
    listed = [e["node"]["id"] for e in marketing["data"]["customers"]["edges"]]
    assert listed == sorted(p.id for p in PEOPLE if p.consent)
