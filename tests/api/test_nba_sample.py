"""The recommender fitted in process on a book larger than its cap: a sample spread over the
whole book, in the real graph (QA probe, session 22)."""

from __future__ import annotations

from datetime import UTC, datetime

from graph.repositories.accounts import upsert_accounts
from graph.repositories.customers import upsert_customers
from graph.store import GraphStore
from resolvers.nba import fit_recommender
from tests.api.test_nba_qa20 import account


async def test_a_capped_fit_samples_the_whole_book_not_its_first_ids(store: GraphStore) -> None:
    # QA probe: after importing B000001..B050000, all holding one product, the in-process fit
    # read the first 50 000 ids (the import) and recommended nothing of the book's mix.
    imported = [f"B{n:04d}" for n in range(1, 31)]  # sort first, hold savings only
    book = [f"C{n:04d}" for n in range(1, 11)]  # also hold 朝朝宝
    await upsert_customers(store, [{"id": cid, "props": {}} for cid in imported + book])
    await upsert_accounts(
        store,
        [account(cid, 1, "SAV-BASIC", "SAVINGS", "ACTIVE") for cid in imported + book]
        + [account(cid, 2, "MMF-ZZB", "WEALTH", "ACTIVE") for cid in book],
    )
    now = datetime.now(UTC)
    whole = await fit_recommender(store, now)
    assert (whole.customers, whole.single["MMF-ZZB"]) == (40, 10)
    # 40 customers, cap 10: every 4th of the walk (B0004 .. B0028, C0002, C0006, C0010).
    sampled = await fit_recommender(store, now, cap=10)
    assert sampled.customers == 10
    assert sampled.single["SAV-BASIC"] == 10 and sampled.single["MMF-ZZB"] == 3
    # A cap the book fits in reads every customer.
    assert (await fit_recommender(store, now, cap=40)).single["MMF-ZZB"] == 10
