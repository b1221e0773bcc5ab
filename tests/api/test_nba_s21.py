"""Next best action, session 21's fixes, in the real graph with the real Rego engine."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from graph.repositories.accounts import upsert_accounts
from graph.store import GraphStore
from resolvers.nba import fit_recommender
from shared.settings import Settings
from tests.api.conftest import Api, serve
from tests.api.test_nba_qa20 import AGED, AS_OF, CREATE, account, aged_customers, members, window


async def test_fitted_counts_and_audiences_leave_closed_accounts_out(
    store: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    """Session 21: the fitted counts read every account's product as held (a customer whose
    only 朝朝宝 is closed counted among its holders), and a campaign audience's
    ``notHolds`` left out a customer whose account of the product is closed."""
    await aged_customers(store)  # each holds 活期储蓄 (open)
    closer = "QA20-BOLD"
    await upsert_accounts(store, [account(closer, 2, "MMF-ZZB", "WEALTH", "CLOSED")])
    model = await fit_recommender(store, datetime.now(UTC))
    assert model.customers == len(AGED)
    assert model.single["SAV-BASIC"] == len(AGED)
    assert model.single["MMF-ZZB"] == 0
    assert not [k for k in model.pairs if "MMF-ZZB" in k]

    settings = Settings(data_dir=data_dir, introspection=False, as_of=AS_OF)
    mk = make_token(["marketing_analyst"], sub="mk1", purpose="marketing", purposes=None)
    async with serve(store, settings) as client:
        marketing = Api(client, mk)
        body = await marketing.gql(CREATE, {"input": window(audience={"notHolds": "MMF-ZZB"})})
        assert not body.get("errors"), body
        assert closer in await members(store, body["data"]["createCampaign"]["id"])
        body = await marketing.gql(
            CREATE, {"input": window(product="WM-STABLE", audience={"holds": "MMF-ZZB"})}
        )
        assert not body.get("errors"), body
        assert await members(store, body["data"]["createCampaign"]["id"]) == set()
