"""customer(id:) decides an unknown id as it decides a customer the caller may not see.

QA, session 26: an advisor's customer(id:) for another advisor's customer answered ~1 ms later
than for an id that does not exist (the hidden one was decided, the unknown one was not), which
told the advisor which ids exist. Counted, not timed (a loaded machine flakes timings): both
ask the real engine the same question, so one's answer is kept for the other."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from graph.repositories.access import ACCESS_KEY, customer_attributes
from graph.store import Row
from privacy.engines.embedded import EmbeddedEngine
from privacy.policy_set import load_policy_set
from privacy.services import PrivacyServices
from privacy.types import Principal
from resolvers.privacy import Forbidden, RequestPrivacy

ADVISOR = Principal("ADV0014", ("advisor",), "service", "B1")
# Another advisor's customer in another branch, without consents: hidden from ADVISOR.
HIDDEN = "C000777"
UNKNOWN = "C999999"
ROWS: dict[str, Row] = {
    HIDDEN: {"id": HIDDEN, ACCESS_KEY: customer_attributes("ADV0099", "B9", False, False)}
}


async def graph_rows(ids: list[str]) -> list[Row | None]:
    """The customer loader's answer: the row, or None for an id the graph does not hold."""
    return [ROWS.get(cid) for cid in ids]


@pytest.fixture
async def services() -> AsyncIterator[PrivacyServices]:
    engine = EmbeddedEngine(load_policy_set(None))
    yield PrivacyServices(engine, None, b"k" * 32)
    await engine.close()


async def _asked(services: PrivacyServices, customer_id: str) -> tuple[int, str, dict[str, str]]:
    """(questions the engine was asked, the error's message and extensions) for one
    customer(id:) by the advisor."""
    request = RequestPrivacy(services, ADVISOR, graph_rows, customer_id)
    await request.reach()  # the caller's grants, asked once whatever the id
    before = services.engine_questions
    with pytest.raises(Forbidden) as denied:
        await request.require(customer_id)
    return services.engine_questions - before, str(denied.value), denied.value.extensions


@pytest.mark.parametrize("first", [UNKNOWN, HIDDEN])
async def test_an_unknown_id_asks_the_engine_what_a_hidden_customer_asks(
    services: PrivacyServices, first: str
) -> None:
    then = HIDDEN if first == UNKNOWN else UNKNOWN
    asked_first, message, extensions = await _asked(services, first)
    asked_then, message_then, extensions_then = await _asked(services, then)
    # The first asks one question (the customer's, or the pad's in its place); the second
    # finds it kept: the same question, so the same work.
    assert (asked_first, asked_then) == (1, 0)
    assert message == message_then
    assert {**extensions, "id": None} == {**extensions_then, "id": None}


async def test_the_pads_answer_leaves_an_unknown_id_unknown(services: PrivacyServices) -> None:
    request = RequestPrivacy(services, ADVISOR, graph_rows, "load")
    assert await request.customers.load_many([UNKNOWN, HIDDEN, UNKNOWN]) == [
        None,
        request.decided[HIDDEN],
        None,
    ]
    assert not request.decided[HIDDEN].allow
    assert UNKNOWN not in request.decided and UNKNOWN not in request.own
