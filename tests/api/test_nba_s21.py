"""Next best action, session 21's fixes, in the real graph with the real Rego engine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graph.repositories.accounts import upsert_accounts
from graph.store import GraphStore
from resolvers.nba import fit_recommender
from shared.settings import Settings
from tests.api.conftest import Api, codes, serve
from tests.api.test_nba_qa18 import write_policy_data
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


async def test_two_concurrent_creates_of_one_campaign_make_one(
    store: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    """Session 21: two createCampaign requests for the same product, audience and an
    overlapping window, at the same time, both passed the duplicate check (each read the
    campaigns before either wrote) and made two campaigns: each member contacted twice. The
    graph now checks and creates in one write: one is made, the other refused."""
    await aged_customers(store)
    settings = Settings(data_dir=data_dir, introspection=False, as_of=AS_OF)
    mk = make_token(["marketing_analyst"], sub="mk1", purpose="marketing", purposes=None)
    async with serve(store, settings) as client:
        marketing = Api(client, mk)
        spec = window(audience={"riskProfiles": ["稳健", "保守"]})
        later = {**spec, "from": "2026-06-15T00:00:00Z"}  # overlapping, so the same campaign
        for rnd in range(3):  # three rounds: each a race of two
            bodies = await asyncio.gather(
                marketing.gql(CREATE, {"input": spec}), marketing.gql(CREATE, {"input": later})
            )
            made = [b for b in bodies if not b.get("errors")]
            refused = [b for b in bodies if b.get("errors")]
            assert len(made) == 1 and len(refused) == 1, (rnd, bodies)
            assert codes(refused[0]) == ["BAD_USER_INPUT"], refused[0]
            campaign_id = made[0]["data"]["createCampaign"]["id"]
            assert campaign_id in refused[0]["errors"][0]["message"]  # marketing reads it
            (count,) = await store.read("MATCH (k:Campaign) RETURN count(k) AS n")
            assert count["n"] == 1
            await store.write("MATCH (k:Campaign) DETACH DELETE k")


async def test_a_duplicate_is_named_only_to_a_caller_who_may_read_it(
    store: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    """Session 21: the refusal of a campaign created twice named the other campaign (its id,
    name and window) whoever asked; a role that may create campaigns but not read them
    learnt of campaigns it may not see. Now it hears only that one exists."""

    def planner(tables: dict[str, Any]) -> None:
        resources = tables["resources"]
        for table in ("Customer", "Campaign"):
            resources[table]["campaign_planner"] = resources[table]["marketing_analyst"]
        grant = dict(resources["Campaign"]["marketing_analyst"]["marketing"], actions=["write"])
        resources["Campaign"]["campaign_planner"] = {"marketing": grant}

    write_policy_data(data_dir, planner)
    await aged_customers(store)
    settings = Settings(data_dir=data_dir, introspection=False, as_of=AS_OF)
    mk = make_token(["marketing_analyst"], sub="mk1", purpose="marketing", purposes=None)
    cp = make_token(["campaign_planner"], sub="cp1", purpose="marketing", purposes=None)
    async with serve(store, settings) as client:
        spec = window(name="秘密推介", audience={"riskProfiles": ["稳健"]})
        made = await Api(client, mk).gql(CREATE, {"input": spec})
        assert not made.get("errors"), made
        campaign_id = made["data"]["createCampaign"]["id"]
        body = await Api(client, cp).gql(CREATE, {"input": spec})
        assert codes(body) == ["BAD_USER_INPUT"], body
        error = body["errors"][0]
        assert error["extensions"]["field"] == "audience"
        assert "another campaign already offers MMF-ZZB" in error["message"]
        assert campaign_id not in str(body) and "秘密推介" not in str(body)
        assert "2026-06-01" not in str(body)  # nor its window
        again = await Api(client, mk).gql(CREATE, {"input": spec})
        assert campaign_id in again["errors"][0]["message"]  # a reader hears which one
    (count,) = await store.read("MATCH (k:Campaign) RETURN count(k) AS n")
    assert count["n"] == 1
