"""As-of analytics see only the past of their date; an unknown balance stays unknown in filters.

Through the ASGI app over the real embedded graph."""

from __future__ import annotations

from graph.repositories.accounts import upsert_accounts, upsert_transactions
from graph.repositories.customers import upsert_customers
from graph.repositories.interactions import upsert_interactions
from graph.store import GraphStore
from tests.api.conftest import Api

AS_OF = """query($id: ID!, $d: Date) { customer(id: $id) {
  lifecycleStage(asOf: $d) churnRisk(asOf: $d) { reasons } } }"""


async def _book(store: GraphStore) -> None:
    """A 1990s customer: active in 1996, then a transaction and a complaint decades later."""
    await upsert_customers(
        store, [{"id": "o-1", "props": {"name": "周敏", "createdAt": "1995-01-01T00:00:00Z"}}]
    )
    await upsert_accounts(
        store,
        [{"id": "o-a", "customerId": "o-1", "props": {"type": "SAVINGS", "balance": 900.0}}],
    )
    tx = {"amount": 50.0, "currency": "CNY", "kind": "DEPOSIT", "channel": "BRANCH"}
    await upsert_transactions(
        store,
        [
            {"id": "o-t1", "accountId": "o-a", "props": {**tx, "time": "1996-06-01T02:00:00Z"}},
            {"id": "o-t2", "accountId": "o-a", "props": {**tx, "time": "2020-01-01T02:00:00Z"}},
        ],
    )
    await upsert_interactions(
        store,
        [
            {
                "id": "o-i1",
                "customerId": "o-1",
                "props": {"channel": "PHONE", "kind": "COMPLAINT", "time": "2021-03-01T00:00:00Z"},
            }
        ],
    )


async def test_activity_as_of_a_date_ignores_what_came_after_it(
    store: GraphStore, api: Api
) -> None:
    await _book(store)

    async def as_of(day: str) -> dict[str, object]:
        body = await api.gql(AS_OF, {"id": "o-1", "d": day})
        assert "errors" not in body, body
        return body["data"]["customer"]

    # 213 days after the last 1996 transaction: dormant, not active on the 2020 one.
    late_1996 = await as_of("1996-12-31")
    assert late_1996["lifecycleStage"] == "DORMANT"
    assert late_1996["churnRisk"]["reasons"] == ["no activity for 213 days"]  # no 2021 complaint
    # Before any transaction: silent for the 425 days since joining (nothing later counted).
    early = await as_of("1996-03-01")
    assert early["lifecycleStage"] == "CHURNED"
    assert early["churnRisk"]["reasons"] == ["no recorded activity"]
    # The day of the complaint counts it (the bound is the end of that day).
    complaint_day = await as_of("2021-03-01")
    assert complaint_day["churnRisk"]["reasons"] == ["1 complaint(s) in the last 180 days"]


async def test_unknown_balance_is_in_no_segment_of_a_filter(store: GraphStore, api: Api) -> None:
    await upsert_customers(
        store,
        [{"id": f"u-{n}", "props": {"name": name}} for n, name in ((1, "吴强"), (2, "郑洋"))],
    )
    await upsert_accounts(
        store,
        [
            # u-1: one balance unknown, so its assets are unknown (not 1 000, not MASS).
            {"id": "u-a1", "customerId": "u-1", "props": {"type": "SAVINGS", "balance": 1000.0}},
            {"id": "u-a2", "customerId": "u-1", "props": {"type": "SAVINGS"}},
            {"id": "u-a3", "customerId": "u-2", "props": {"type": "SAVINGS", "balance": 500.0}},
        ],
    )
    body = await api.gql("""{ customer(id: "u-1") { totalAssets segment } }""")
    assert body["data"]["customer"] == {"totalAssets": None, "segment": None}
    for query in (
        """{ customers(segment: MASS) { totalCount edges { node { id segment } } } }""",
        """{ customers(segment: MASS, search: "u-1") { totalCount edges { node { id } } } }""",
    ):
        listing = (await api.gql(query))["data"]["customers"]
        ids = [e["node"]["id"] for e in listing["edges"]]
        assert "u-1" not in ids and listing["totalCount"] == len(ids), listing
    mass = await api.gql("""{ customers(segment: MASS) { edges { node { id } } } }""")
    assert [e["node"]["id"] for e in mass["data"]["customers"]["edges"]] == ["u-2"]
