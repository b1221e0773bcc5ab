"""Session 20 QA findings on churn and care tasks, through the ASGI app on the demo book in
the real graph with the real Rego engine: date-only times under the trained model, churnRisk
as of a past day, care task ids of customers whose id holds ":", CARE interactions as a
filter, and roles without a CareTask grant."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from graph.store import GraphStore
from hub.demo import seed_demo
from insights import churn
from resolvers.nba import CHURN_FILE, load_histories, rule_score, write_model
from tests.api.conftest import Api, codes

TASKS = "query { advisorTasks(first: 100) { totalCount edges { node { id kind customerId } } } }"
RISK = """query($id: ID!) { customer(id: $id) { churnRisk { score reasons model } } }"""


async def train(store: GraphStore, data_dir: Path) -> None:
    """The trained churn model in the hub's data dir, as `c360 churn train` leaves it."""
    now = datetime.now(UTC)
    histories = await load_histories(store, now - timedelta(days=churn.HISTORY_DAYS))
    model = churn.fit(churn.training_samples(histories, now, rule_score), now, now)
    write_model(data_dir, CHURN_FILE, model.to_json())


async def busiest_advisor(store: GraphStore) -> tuple[str, list[str]]:
    (row,) = await store.read(
        "MATCH (c:Customer)-[:MANAGED_BY]->(a:Advisor) "
        "RETURN a.id AS id, collect(c.id) AS customers ORDER BY size(customers) DESC, id LIMIT 1"
    )
    return row["id"], sorted(row["customers"])


async def test_date_only_times_are_midnight_utc_for_the_trained_model(
    store: GraphStore, data_dir: Path, as_role: Callable[..., Api], officer: Api
) -> None:
    """H1: the importer keeps a date-only createdAt, openedAt or interaction time as given
    ("2020-01-01"); the model's features compared it, naive, with aware moments: TypeError,
    INTERNAL_SERVER_ERROR for the whole advisor's advisorTasks and the customer's churnRisk."""
    await seed_demo(store, customers=300, seed=42, progress=False)
    await train(store, data_dir)
    advisor_id, customers = await busiest_advisor(store)
    created, opened, talked = customers[:3]
    recent = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
    await store.write(
        "MATCH (c:Customer {id: $id}) SET c.createdAt = '2020-01-01'", {"id": created}
    )
    await store.write(
        "MATCH (:Customer {id: $id})-[:OWNS]->(a:Account) SET a.openedAt = '2019-06-01'",
        {"id": opened},
    )
    await store.write(
        "MATCH (:Customer {id: $id})-[:HAD]->(i:Interaction) SET i.time = $t",
        {"id": talked, "t": recent},
    )
    advisor = as_role("advisor", "service", advisor_id)
    body = await advisor.gql(TASKS)
    assert not body.get("errors"), body
    assert body["data"]["advisorTasks"]["totalCount"] > 0
    for cid in (created, opened, talked):
        risk = await officer.gql(RISK, {"id": cid})
        assert not risk.get("errors"), risk
        assert risk["data"]["customer"]["churnRisk"]["model"].startswith("logistic-regression")
    # The date-only interaction three days ago is activity three days ago (midnight UTC).
    reasons = (await officer.gql(RISK, {"id": talked}))["data"]["customer"]["churnRisk"]
    assert not any(r.startswith("no activity for") for r in reasons["reasons"]), reasons


AS_OF = """query($after: String, $d: Date!, $from: DateTime!, $to: DateTime!) {
  customers(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id churnRisk(asOf: $d) { reasons model }
      transactions(first: 1, from: $from, to: $to) { totalCount } } } } }"""


async def test_churn_risk_as_of_a_past_day_reads_the_history_before_that_day(
    store: GraphStore, data_dir: Path, officer: Api
) -> None:
    """H2: with the trained model, churnRisk(asOf:) read the transactions of the 200 days
    before now: a customer who paid every week before a day a year ago was "only 0
    transactions in the last 90 days" then."""
    await seed_demo(store, customers=300, seed=42, progress=False)
    await train(store, data_dir)
    day = (datetime.now(UTC) - timedelta(days=365)).date()
    at = datetime.combine(day, time(23, 59, 59), UTC)  # what asOf means: the end of that day
    window = {"d": day.isoformat(), "from": (at - timedelta(days=90)).isoformat(),
              "to": at.isoformat()}  # fmt: skip
    said = re.compile(r"only (\d+) transactions in the last 90 days")
    checked, after = 0, None
    while True:
        body = await officer.gql(AS_OF, {**window, "after": after})
        assert not body.get("errors"), body
        page = body["data"]["customers"]
        for edge in page["edges"]:
            node = edge["node"]
            assert node["churnRisk"]["model"].startswith("logistic-regression")
            paid = node["transactions"]["totalCount"]
            for reason in node["churnRisk"]["reasons"] or []:
                if (m := said.match(reason)) is not None:
                    checked += 1
                    assert int(m.group(1)) == paid, (node["id"], reason, paid)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert checked, "some reason counts the transactions before that day"


COMPLETE = """mutation C($id: ID!, $note: String!) { completeTask(id: $id, note: $note) { id } }"""
CARE = """query($id: ID!) { customer(id: $id) {
  interactions(kind: "care", first: 10) { totalCount edges { node { kind summary } } } } }"""


async def test_care_tasks_of_customers_whose_id_holds_a_colon_can_be_completed(
    store: GraphStore, as_role: Callable[..., Api], officer: Api
) -> None:
    """M5: the task id "BIRTHDAY:CRM:1:2026-12-05:" was split at every ":" and refused as
    "not a care task id". L1: the CARE interaction completeTask writes could not be listed
    with interactions(kind: CARE) (BAD_USER_INPUT, the whole customer null)."""
    await seed_demo(store, customers=300, seed=42, progress=False)
    advisor_id, _ = await busiest_advisor(store)
    advisor = as_role("advisor", "service", advisor_id)
    before = await advisor.gql(TASKS)
    assert not before.get("errors"), before
    with_tasks = sorted({e["node"]["customerId"] for e in before["data"]["advisorTasks"]["edges"]})
    assert len(with_tasks) >= 2, "the busiest advisor has tasks for two customers"
    renamed = {with_tasks[0]: "CRM:1", with_tasks[1]: "CRM:50%:x"}
    for old, new in renamed.items():
        await store.write("MATCH (c:Customer {id: $old}) SET c.id = $new", {"old": old, "new": new})
    body = await advisor.gql(TASKS)
    assert not body.get("errors"), body
    tasks = [e["node"] for e in body["data"]["advisorTasks"]["edges"]]
    first = next(t for t in tasks if t["customerId"] == "CRM:1")
    assert first["id"].startswith(f"v2:{first['kind']}:CRM%3A1:"), first
    done = await advisor.gql(COMPLETE, {"id": first["id"], "note": "已致电"})
    assert not done.get("errors"), done
    # The other: "%" is escaped too, and the id as written before the escape still reads.
    second = next(t for t in tasks if t["customerId"] == "CRM:50%:x")
    assert f"{second['kind']}:CRM%3A50%25%3Ax:" in second["id"], second
    kind, _, day, ref = second["id"].removeprefix("v2:").split(":")
    unescaped = f"{kind}:CRM:50%:x:{day}:{ref}"
    done = await advisor.gql(COMPLETE, {"id": unescaped, "note": "已致电"})
    assert not done.get("errors"), done
    # A completion stored before ":" was escaped holds the id as it was then: still done.
    f_kind, _, f_day, f_ref = first["id"].removeprefix("v2:").split(":")
    await store.write(
        "MATCH (i:Interaction) WHERE i.taskId = $new SET i.taskId = $old",
        {"new": first["id"], "old": f"{f_kind}:CRM:1:{f_day}:{f_ref}"},
    )
    after = await advisor.gql(TASKS)
    left = {e["node"]["id"] for e in after["data"]["advisorTasks"]["edges"]}
    assert first["id"] not in left and second["id"] not in left
    again = await advisor.gql(COMPLETE, {"id": first["id"], "note": "again"})
    assert codes(again) == ["NOT_FOUND"], again
    for cid in renamed.values():
        care = await officer.gql(CARE, {"id": cid})
        assert not care.get("errors"), care
        listed = care["data"]["customer"]["interactions"]
        assert listed["totalCount"] == 1, listed
        assert listed["edges"][0]["node"]["kind"] == "CARE"


async def test_roles_without_a_care_task_grant_are_refused(
    store: GraphStore, as_role: Callable[..., Api]
) -> None:
    """L3: a marketer, a brand analyst or a service agent has no CareTask grant, but managing
    no customer they got advisorTasks { totalCount: 0 }: an empty list, not a refusal."""
    await seed_demo(store, customers=100, seed=42, progress=False)
    advisor_id, _ = await busiest_advisor(store)
    for role, purpose, sub in (
        ("marketing_analyst", "marketing", "mk1"),
        ("brand_analyst", "marketing", "br1"),
        ("service_agent", "service", "sa1"),
        ("advisor", "marketing", advisor_id),  # a grant for another purpose only
        ("advisor", "service", "ADV-NOBODY"),  # granted: manages nobody, nothing to do
    ):
        body = await as_role(role, purpose, sub).gql(TASKS)
        if sub == "ADV-NOBODY":
            assert not body.get("errors") and body["data"]["advisorTasks"]["totalCount"] == 0
        else:
            assert codes(body) == ["FORBIDDEN"], (role, body)
