"""The four-eyes proposal file both policy changes and erasure requests keep their state in."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from privacy.erasure import ErasureError, ErasureStore, FourEyesViolation
from privacy.policy_proposals import Proposal, ProposalStore
from privacy.proposals import same_person


def test_same_person_rule() -> None:
    assert same_person("po1", "po1")
    assert same_person("po1", "")  # nobody identified may not decide either
    assert not same_person("po1", "po2")


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
