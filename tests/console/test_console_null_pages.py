"""The 360 card when one of its paged lists cannot be answered: the list says so, the rest of
the customer shows (Customer.transactions/interactions/mentions are nullable since session 22;
the card read ``c.transactions.totalCount`` without a null check)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from resolvers.nba import CHURN_FILE, STAT_INTERVAL_S, model_path
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


def test_a_churn_risk_that_cannot_be_answered_says_so_and_the_card_shows(
    watched: Watched, hub: ConsoleHub
) -> None:
    """churnRisk is nullable since session 22 (its error nulled the whole customer): a churn
    model file trained on other features (a stale file: the hub refuses to score with it)
    nulls churnRisk alone; the card read ``churn.score`` without a null check."""
    stale = model_path(hub.data_dir, CHURN_FILE)
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text(json.dumps({"features": ["not-a-feature"]}), encoding="utf-8")
    try:
        time.sleep(STAT_INTERVAL_S * 1.5)  # the hub looks at the file at most this often
        watched.sign_in("privacy_officer")
        watched.open("customer?id=C000001")
        card = watched.page.locator("#c360-card")
        card.wait_for()
        phone = card.locator("[data-field=phone]").inner_text().strip()
        assert phone.startswith("+86"), phone
        churn = card.locator("section", has_text="流失风险")
        assert "此项未能加载" in churn.locator("[data-unavailable]").inner_text()
        assert churn.locator("meter").count() == 0
        # Its error is shown above the card (with the lists' refusals of this capped hub).
        assert watched.page.locator("#customer-out .notice.error").count() == 1
        watched.shot("customer-null-churn", full_page=True)
        assert watched.errors == []
    finally:
        stale.unlink()
