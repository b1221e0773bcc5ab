"""The four-eyes proposal file both policy changes and erasure requests keep their state in."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from privacy.erasure import (
    DuplicateRequest,
    ErasureError,
    ErasureStore,
    FourEyesViolation,
    MissingReason,
)
from privacy.policy_proposals import Proposal, ProposalStore
from privacy.proposals import same_person


def test_same_person_rule() -> None:
    assert same_person("po1", "po1")
    assert same_person("po1", "")  # nobody identified may not decide either
    assert not same_person("po1", "po2")


def test_same_person_sees_through_case_blanks_and_full_width_letters() -> None:
    # QA finding: a token with sub "ｐｏ-1" (full-width letters) approved po-1's proposal.
    for spelling in ("PO-1", " po-1 ", "ｐｏ-1", "ＰＯ－１"):
        assert same_person("po-1", spelling), spelling
    assert not same_person("po-1", "po-2")


def test_concurrent_proposals_are_all_kept(data_dir: Path) -> None:
    store = ErasureStore(data_dir)
    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda n: store.propose(f"C{n}", f"ticket {n}", "po1").id, range(40)))
    assert sorted(store.load()) == sorted(made)  # no read-modify-write lost another's request
    assert (data_dir / "erasure-requests.json").stat().st_mode & 0o777 == 0o600


def test_erasure_requests_need_a_second_officer(data_dir: Path) -> None:
    store = ErasureStore(data_dir)
    with pytest.raises(ErasureError, match="reason"):
        store.propose("C1", "  ", "po1")
    request = store.propose("C1", "ticket 1", "po1")
    with pytest.raises(FourEyesViolation):
        store.pending(request.id, "po1")
    pending = store.pending(request.id, "po2")
    store.mark_done(pending, "po2", {"fields": ["name"]})
    with pytest.raises(ErasureError, match="done already"):
        store.pending(request.id, "po3")
    (done,) = store.list("done")
    assert (done.approver, done.erased) == ("po2", {"fields": ["name"]})


def test_policy_proposals_round_trip(data_dir: Path) -> None:
    store = ProposalStore(data_dir)
    p = Proposal("p1", "access", "package x", "po1", "t", "r0", "r1", True, [("t", True, "")])
    store.add(p)
    assert store.load() == {"p1": p}  # results come back as tuples


def test_one_open_erasure_request_per_customer(data_dir: Path) -> None:
    store = ErasureStore(data_dir)

    def propose(n: int) -> str:
        try:
            return store.propose("C1", f"ticket {n}", f"po{n}").id
        except DuplicateRequest as exc:
            return f"dup:{exc.existing.id}"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(propose, range(8)))
    made = [o for o in outcomes if not o.startswith("dup:")]
    assert len(made) == 1 and set(outcomes) - set(made) == {f"dup:{made[0]}"}
    assert [r.id for r in store.list()] == made


def test_a_rejected_erasure_request_is_closed(data_dir: Path) -> None:
    store = ErasureStore(data_dir)
    ids = [store.propose(f"C{n}", "t", "po1").id for n in range(5)]
    assert [r.id for r in store.list()] == ids  # creation order, within one second too
    with pytest.raises(FourEyesViolation, match="cannot reject"):
        store.reject(ids[0], "PO1 ", "no")
    with pytest.raises(MissingReason):
        store.reject(ids[0], "po2", " ")
    rejected = store.reject(ids[0], "po2", " retention ")
    assert (rejected.status, rejected.rejected_by, rejected.rejection_reason) == (
        "rejected", "po2", "retention"
    )  # fmt: skip
    with pytest.raises(ErasureError, match="rejected already"):
        store.claim(ids[0], "po3")
    with pytest.raises(ErasureError, match="rejected already"):
        store.reject(ids[0], "po3", "x")
    assert store.propose("C0", "t2", "po1").status == "pending"  # closed: a new one may come
    claimed = store.claim(ids[1], "po2")
    assert store.list("approved") == [claimed]
    with pytest.raises(ErasureError, match="approved already"):
        store.reject(ids[1], "po3", "too late")  # being carried out: no longer rejectable
    with pytest.raises(DuplicateRequest):
        store.propose("C1", "t", "po3")
    store.unclaim(claimed)
    assert store.load()[ids[1]].status == "pending"
