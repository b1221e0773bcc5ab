"""A policy cannot single anyone out: it is told stand-ins, not names (privacy/stand_ins.py).

The invariants refuse the backdoors they can see (tests/security/test_policy_backdoors.py);
README Known gaps listed those they could not (a name assembled at run time, compared by
order, or reached through a message that quotes it). Each module below is such a backdoor,
loaded straight into the real embedded engine as if a reviewer had approved it: whoever asks,
it must answer as the release does, because no name reaches it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from privacy.engines.embedded import EmbeddedEngine
from privacy.policy_set import load_policy_set
from privacy.services import PrivacyServices
from privacy.stand_ins import SUBJECT
from privacy.types import Principal, Resource
from tests.security.test_policy_backdoors import ALL_REVEALED, SHIPPED, granting

MALLORY = Principal("mallory", ("brand_analyst",), None, "B-0007")
HER_ADVISOR = "ADV0099"
CUSTOMER = Resource(
    "Customer",
    "C000042",
    {
        "advisorId": HER_ADVISOR,
        "branchId": "B-0007",
        "consentMarketing": True,
        "consentDataSharing": True,
    },
)

BACKDOORS = {
    "walk_to_the_name": granting('some s in ctx; some v in s; v == "mallory"'),
    "name_assembled_at_run_time": granting(
        'some s in ctx; some v in s; v == concat("", ["mal", "lory"])'
    ),
    "name_by_order": granting(
        'some s in ctx; some v in s; is_string(v); v > "mallorx"; v < "mallorz"'
    ),
    "name_by_length_and_prefix": granting(
        'some s in ctx; some v in s; is_string(v); count(v) == 7; startswith(v, "ma")'
    ),
    "message_quoting_the_name": granting(
        'denial(ctx, {"type": "Customer", "attributes": {}}) == '
        '"no role of mallory may access Customer"'
    ),
    "branch_literal": granting('ctx.subject.branch == "B-0007"'),
    "advisor_attribute_literal": SHIPPED.replace(
        "decisions := decide(input)",
        "decisions := x if {\n"
        "\tsome r in input.resources\n"
        f'\tr.attributes.advisorId == "{HER_ADVISOR}"\n'
        f'\tx := {{id: {{"allow": true, "masks": {ALL_REVEALED}, "reason": "ok"}} | '
        "some q in input.resources; id := q.id}\n"
        "} else := decide(input)",
    ),
}


@pytest.fixture(params=sorted(BACKDOORS))
async def backdoored(request: pytest.FixtureRequest) -> AsyncIterator[PrivacyServices]:
    source = BACKDOORS[request.param]
    assert source != SHIPPED
    engine = EmbeddedEngine(load_policy_set(None).replace("access", source), timeout_s=10)
    yield PrivacyServices(engine, None, b"k" * 32)
    await engine.close()


async def test_a_backdoor_keyed_on_a_name_opens_nothing(backdoored: PrivacyServices) -> None:
    decided = await backdoored.decide(MALLORY, "read", [CUSTOMER], fresh=True)
    assert decided[CUSTOMER.id].allow is False
    assert decided[CUSTOMER.id].reason == "no role of mallory may access Customer"


@pytest.fixture
async def shipped() -> AsyncIterator[PrivacyServices]:
    engine = EmbeddedEngine(load_policy_set(None), timeout_s=10)
    yield PrivacyServices(engine, None, b"k" * 32)
    await engine.close()


async def test_the_release_still_tells_own_from_other(shipped: PrivacyServices) -> None:
    advisor = Principal(HER_ADVISOR, ("advisor",), "service", "B-0007")
    other = Principal("ADV0001", ("advisor",), "service", "B-0007")
    own = (await shipped.decide(advisor, "read", [CUSTOMER]))[CUSTOMER.id]
    assert own.allow and own.masks["PHONE"] == "reveal"
    theirs = (await shipped.decide(other, "read", [CUSTOMER]))[CUSTOMER.id]
    assert not theirs.allow
    # The policy quoted the stand-in; the asker reads their own name.
    assert theirs.reason == "Customer is not managed by advisor ADV0001"
    assert SUBJECT not in theirs.reason


async def test_holders_of_one_role_share_kept_answers(shipped: PrivacyServices) -> None:
    # Two advisors, each about their own customer: one question for the engine, not two.
    mine = Resource("Customer", "C1", {**CUSTOMER.attributes, "advisorId": "ADV0001"})
    first = Principal("ADV0001", ("advisor",), "service", "B-0001")
    second = Principal(HER_ADVISOR, ("advisor",), "service", "B-0002")
    await shipped.decide(first, "read", [mine])
    asked = shipped.engine_questions
    again = await shipped.decide(second, "read", [CUSTOMER])
    assert again[CUSTOMER.id].allow
    assert shipped.engine_questions == asked
