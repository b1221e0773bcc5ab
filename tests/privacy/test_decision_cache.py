"""The one cache of policy answers: keyed by the whole question, bounded, timed, per revision."""

from __future__ import annotations

from privacy.decision_cache import DecisionCache, asker, question
from privacy.types import Decision, Principal, Resource

ADVISOR = Principal("a1", ("advisor",), "service", "B1")
CUSTOMER = Resource("Customer", "C1", {"advisorId": "a1", "consentMarketing": True})


def ask(principal: Principal, action: str, revision: str, resource: Resource) -> bytes:
    return question(
        asker(principal, action, revision), principal, resource.type, resource.attributes
    )


def answer(reason: str) -> Decision:
    return Decision(True, {"phone": "reveal"}, reason, "d")


def test_the_key_covers_what_a_decision_depends_on_and_not_the_resource_id() -> None:
    key = ask(ADVISOR, "read", "r1", CUSTOMER)
    same_but_id = Resource("Customer", "C2", dict(CUSTOMER.attributes))
    assert ask(ADVISOR, "read", "r1", same_but_id) == key
    in_b1 = Resource("Customer", "C1", {**CUSTOMER.attributes, "branchId": "B1"})
    others = [
        ask(Principal("a2", ("advisor",), "service", "B1"), "read", "r1", CUSTOMER),
        ask(Principal("a1", ("auditor",), "service", "B1"), "read", "r1", CUSTOMER),
        ask(Principal("a1", ("advisor",), "marketing", "B1"), "read", "r1", CUSTOMER),
        ask(Principal("a1", ("advisor",), "service", None), "read", "r1", CUSTOMER),
        ask(ADVISOR, "write", "r1", CUSTOMER),
        ask(ADVISOR, "read", "r2", CUSTOMER),
        ask(ADVISOR, "read", "r1", Resource("Post", "C1", CUSTOMER.attributes)),
        ask(ADVISOR, "read", "r1", Resource("Customer", "C1", {"advisorId": "a2"})),
        ask(ADVISOR, "read", "r1", in_b1),
        ask(Principal("a1", ("advisor",), "service", "B2"), "read", "r1", in_b1),
    ]
    assert len({key, *others}) == len(others) + 1


def test_the_key_is_the_question_the_policy_sees_not_who_asks() -> None:
    # The policy is told stand-ins (privacy/stand_ins.py): another advisor about their own
    # customer, in another branch, asks what a1 asks, and shares a1's kept answer.
    own = Resource("Customer", "C7", {"advisorId": "a9", "consentMarketing": True})
    a9 = Principal("a9", ("advisor",), "service", "B9")
    assert ask(a9, "read", "r1", own) == ask(ADVISOR, "read", "r1", CUSTOMER)
    stranger = Resource("Customer", "C8", {"advisorId": "a7", "consentMarketing": True})
    assert ask(a9, "read", "r1", stranger) == ask(
        ADVISOR,
        "read",
        "r1",
        Resource("Customer", "C9", {"advisorId": "a8", "consentMarketing": True}),
    )


def test_least_recently_used_answers_leave_first_when_full() -> None:
    cache = DecisionCache(max_entries=2, ttl_s=30)
    cache.put(b"a", answer("a"), 0)
    cache.put(b"b", answer("b"), 0)
    assert cache.get(b"a", 1) is not None  # a is now the most recently used
    cache.put(b"c", answer("c"), 1)
    assert len(cache) == 2
    assert cache.get(b"b", 1) is None
    assert cache.get(b"a", 1).reason == "a"
    assert cache.get(b"c", 1).reason == "c"


def test_answers_expire_and_a_new_revision_empties_the_cache() -> None:
    cache = DecisionCache(max_entries=10, ttl_s=30)
    cache.for_revision("r1")
    cache.put(b"a", answer("a"), 0)
    cache.put(b"b", answer("b"), 20)
    assert cache.get(b"a", 30) is None and len(cache) == 1  # expired, and dropped
    cache.for_revision("r1")
    assert cache.get(b"b", 30) is not None
    cache.for_revision("r2")
    assert len(cache) == 0


def test_a_cache_of_no_entries_keeps_nothing() -> None:
    cache = DecisionCache(max_entries=0)
    cache.put(b"a", answer("a"), 0)
    assert len(cache) == 0
