"""upsertCustomer dates a customer it creates. QA, session 24: one created through the API
had no createdAt, so lifecycleStage said ACTIVE rather than NEW and the churn tenure was 0.
Through the ASGI app over the real embedded graph and Rego."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from graph.repositories.customers import upsert_customers
from graph.store import GraphStore
from tests.api.conftest import Api

UPSERT = "mutation U($i: CustomerInput!) { upsertCustomer(input: $i) { id } }"
READ = """query($id: ID!) { customer(id: $id) { createdAt lifecycleStage } }"""


async def test_a_customer_created_through_the_api_is_new_from_now(
    store: GraphStore, agent: Api, officer: Api
) -> None:
    async def upsert(cid: str, name: str) -> dict[str, object]:
        done = await agent.gql(UPSERT, {"i": {"id": cid, "name": name}})
        assert not done.get("errors"), done
        body = await officer.gql(READ, {"id": cid})
        assert not body.get("errors"), body
        return body["data"]["customer"]  # type: ignore[no-any-return]

    before = datetime.now(UTC) - timedelta(seconds=5)
    created = await upsert("n-1", "周敏")
    assert created["lifecycleStage"] == "NEW", created
    stamp = datetime.fromisoformat(str(created["createdAt"]).replace("Z", "+00:00"))
    assert before <= stamp <= datetime.now(UTC) + timedelta(seconds=5), created
    # An update keeps it, whatever the time.
    assert await upsert("n-1", "周敏华") == created
    # A stored createdAt is never overwritten, and one imported without any gets none.
    await upsert_customers(
        store,
        [{"id": "n-2", "props": {"name": "吴强", "createdAt": "2019-01-01T00:00:00Z"}},
         {"id": "n-3", "props": {"name": "郑洋"}}],
    )  # fmt: skip
    assert (await upsert("n-2", "吴强强"))["createdAt"] == "2019-01-01T00:00:00Z"
    assert (await upsert("n-3", "郑洋洋"))["createdAt"] is None
