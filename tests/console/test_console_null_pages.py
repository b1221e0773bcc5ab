"""The 360 card when one of its paged lists cannot be answered: the list says so, the rest of
the customer shows (Customer.transactions/interactions/mentions are nullable since session 22;
the card read ``c.transactions.totalCount`` without a null check)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.console.browser import CHROMIUM, ConsoleHub, Watched
from tests.console.conftest import demo_hub

pytest.importorskip("playwright.sync_api", reason="pip install -e '.[test]' installs playwright")
if not Path(CHROMIUM).is_file():
    pytest.skip(
        f"no chromium at {CHROMIUM}: apt-get install -y chromium (.ci/run does)",
        allow_module_level=True,
    )

# The card asks for transactions(first: 10) and interactions(first: 10), mentions(first: 5):
# with pages capped at 8 the first two are BAD_USER_INPUT ("first must be at most 8"), a real
# refusal of the hub, and mentions is answered.
MAX_PAGE = 8


@pytest.fixture(scope="module")
def hub() -> Iterator[ConsoleHub]:
    with demo_hub(C360_MAX_PAGE_SIZE=str(MAX_PAGE)) as started:
        yield started


def test_a_list_that_cannot_be_answered_says_so_and_the_card_shows(
    watched: Watched, hub: ConsoleHub
) -> None:
    watched.sign_in("privacy_officer")
    watched.open("customer?id=C000001")
    card = watched.page.locator("#c360-card")
    card.wait_for()
    assert card.get_attribute("data-customer") == "C000001"
    phone = card.locator("[data-field=phone]").inner_text().strip()
    assert phone.startswith("+86"), phone
    unavailable = card.locator("[data-unavailable]")
    assert unavailable.count() == 2, card.inner_text()
    assert "此列表未能加载" in unavailable.first.inner_text()
    # The errors are shown above the card, naming the argument.
    notice = watched.page.locator("#customer-out .notice.error").first.inner_text()
    assert f"first must be at most {MAX_PAGE}" in notice, notice
    # The mentions list was answered: its count shows.
    assert card.locator("section h2", has_text="社交提及 (").count() == 1
    watched.shot("customer-null-pages", full_page=True)
    assert watched.errors == []
