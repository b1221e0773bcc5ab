"""An erased customer's social account stays erased: a post from it ingested after the erasure
is stored (public, linked to nobody), but its author's display name is not sealed under a
fresh data key, so nothing of the person reads again. Real embedded FalkorDB, the real key
store and AES-GCM, the erasure run by privacy.erasure (session 22)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from graph.repositories.customers import upsert_customers
from graph.repositories.social import accounts_by_key, link_social_accounts
from graph.store import GraphStore
from hub.services import field_crypto
from hub.settings import Settings
from ingest.social.model import SocialPost
from ingest.social.pipeline import PostPipeline
from ingest.social.terms import TermMatcher
from privacy.datakeys import DataKeyStore
from privacy.erasure import erase_customer
from privacy.erasure_ledger import Erased, ErasureLedger, LedgerError
from privacy.erasure_upgrade import LEDGER_ERASURES_MARK, mark_ledger_erasures
from privacy.keyprovider import LocalKeyFileProvider
from sentiment.batch import BatchScorer

OWNER = "SocialAccount:weibo:wang_li88"
KEY = ("weibo", "wang_li88")
ACCOUNT = {"platform": "weibo", "handle": "wang_li88"}


def _post(post_id: str, created_at: str) -> SocialPost:
    return SocialPost(
        platform="weibo",
        post_id=post_id,
        text="招商银行 手机银行 很好用",
        created_at=created_at,
        author_handle="wang_li88",
        author_name="王丽",
        author_followers=120,
    )


async def _ingest(store: GraphStore, post: SocialPost) -> None:
    with BatchScorer(max_workers=1) as scorer:
        await PostPipeline(store, scorer, TermMatcher.default()).ingest([post])


async def test_a_post_from_an_erased_customers_account_makes_no_new_key(
    sealed_store: GraphStore, data_dir: Path
) -> None:
    store = sealed_store
    await upsert_customers(store, [{"id": "C1", "props": {"name": "王丽"}}])
    await link_social_accounts(
        store, [{"customerId": "C1", "platform": "weibo", "handle": "wang_li88"}]
    )
    await _ingest(store, _post("p1", "2026-11-01T08:00:00Z"))
    before = (await accounts_by_key(store, [ACCOUNT]))[KEY]
    assert (before["name"], before["customerIds"]) == ("王丽", ["C1"])

    assert await erase_customer(store, "C1", ErasureLedger(data_dir), "er-1") is not None
    await _ingest(store, _post("p2", "2026-11-02T08:00:00Z"))

    # The post is stored, by the account, which is no customer's.
    posts = await store.read(
        "MATCH (a:SocialAccount {handle: 'wang_li88'})-[:POSTED]->(p:Post) "
        "RETURN p.postId AS id ORDER BY id"
    )
    assert [r["id"] for r in posts] == ["p1", "p2"]
    after = (await accounts_by_key(store, [ACCOUNT]))[KEY]
    assert (after["name"], after["customerIds"], after["followers"]) == (None, [], 120)
    # No data key for the account, in this process or in a fresh one on the key files.
    fresh = DataKeyStore.in_data_dir(data_dir, LocalKeyFileProvider.in_data_dir(data_dir))
    assert fresh.get_many([OWNER]) == {}
    assert field_crypto(Settings(data_dir=data_dir)).keys.get_many([OWNER]) == {}
    # What the graph holds for the name is the ciphertext the erasure shredded, or nothing.
    (stored,) = await store.read(
        "MATCH (a:SocialAccount {handle: 'wang_li88'}) RETURN a.name AS name"
    )
    assert stored["name"] is None or "王丽" not in str(stored["name"])


def test_a_destroyed_owner_gets_no_key_again(data_dir: Path) -> None:
    """The key store's half: destroy() marks the owner, and no process makes it a key again
    (also an owner that never had one: an erasure applied again after a restore)."""
    keys = DataKeyStore.in_data_dir(data_dir, LocalKeyFileProvider.in_data_dir(data_dir))
    made = keys.get_or_create_many([OWNER, "SocialAccount:weibo:other"])
    assert set(made) == {OWNER, "SocialAccount:weibo:other"}
    assert keys.destroy(OWNER) is True
    assert keys.destroy("Customer:never-keyed") is False
    other = DataKeyStore.in_data_dir(data_dir, LocalKeyFileProvider.in_data_dir(data_dir))
    for store in (keys, other):
        got = store.get_or_create_many([OWNER, "Customer:never-keyed", "Customer:C2"])
        assert set(got) == {"Customer:C2"}
    assert keys.destroyed([OWNER, "Customer:C2"]) == {OWNER}


def test_erasures_before_the_destroyed_list_make_no_key_after_the_upgrade(
    data_dir: Path,
) -> None:
    """A data dir whose erasures were done before the key store listed destroyed owners (its
    ``destroyed`` table empty, the ledger naming them): the first open lists every owner of an
    erasure that counts, once; a cancelled erasure's owner still gets a key."""
    ledger = ErasureLedger(data_dir)
    ledger.record(Erased.of("C1", ["H1"], "er-1", ["weibo:wang_li88"]))
    ledger.record(Erased.of("C2", [], "er-2", []))
    assert ledger.cancel("er-2", "C2") == 1
    keys = field_crypto(Settings(data_dir=data_dir)).keys
    owners = ["Customer:C1", "Household:H1", OWNER, "Customer:C2", "Customer:C3"]
    assert set(keys.get_or_create_many(owners)) == {"Customer:C2", "Customer:C3"}
    fresh = DataKeyStore.in_data_dir(data_dir, LocalKeyFileProvider.in_data_dir(data_dir))
    assert fresh.marked(LEDGER_ERASURES_MARK)
    assert set(fresh.get_or_create_many(owners)) == {"Customer:C2", "Customer:C3"}
    # Once: an entry written since (an erasure lists its owners itself) is not read again.
    ledger.record(Erased.of("C4", [], "er-4", []))
    assert mark_ledger_erasures(fresh, ledger) == 0
    assert fresh.destroyed(["Customer:C4"]) == set()


def test_an_unreadable_ledger_leaves_the_listing_for_the_next_open(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = ErasureLedger(data_dir)
    ledger.record(Erased.of("C1", [], "er-1", []))
    with ledger.paths[0].open("a", encoding="utf-8") as f:
        f.write("not json\n")  # a damaged line (not the last: that one may be cut off)
    ledger.record(Erased.of("C2", [], "er-2", []))
    keys = DataKeyStore.in_data_dir(data_dir, LocalKeyFileProvider.in_data_dir(data_dir))
    with pytest.raises(LedgerError):
        mark_ledger_erasures(keys, ledger)
    assert not keys.marked(LEDGER_ERASURES_MARK)
    with caplog.at_level(logging.WARNING, logger="c360.hub"):
        field_crypto(Settings(data_dir=data_dir))
    assert "tried again at the next start" in caplog.text
    lines = ledger.paths[0].read_text(encoding="utf-8").splitlines()
    ledger.paths[0].write_text("\n".join(x for x in lines if x != "not json") + "\n")
    assert mark_ledger_erasures(keys, ledger) == 2
    assert keys.destroyed(["Customer:C1", "Customer:C2"]) == {"Customer:C1", "Customer:C2"}
