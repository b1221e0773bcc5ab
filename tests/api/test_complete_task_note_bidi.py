"""completeTask refuses a note holding an invisible formatting character (U+202E and the
other bidi controls, U+200B), as ids and handles are refused: it would make the note read as
other text (QA, session 24: "已联系\u202e...". The emoji joiner U+200D is kept, as in
handles.) Through the ASGI app over the real embedded graph and Rego."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from graph.repositories.customers import upsert_customers
from graph.repositories.interactions import upsert_interactions
from graph.store import GraphStore
from tests.api.conftest import Api, codes

COMPLETE = """
mutation C($id: ID!, $note: String!) { completeTask(id: $id, note: $note) { id summary } }
"""


async def test_a_note_with_a_bidi_control_is_refused(
    store: GraphStore, as_role: Callable[..., Api]
) -> None:
    await upsert_customers(store, [{"id": "z-1", "props": {"name": "周敏"}, "advisorId": "adv-z"}])
    made = datetime.now(UTC) - timedelta(days=10)
    complaint = {"kind": "COMPLAINT", "channel": "PHONE", "resolved": False,
                 "time": made.strftime("%Y-%m-%dT%H:%M:%SZ")}  # fmt: skip
    await upsert_interactions(store, [{"id": "z-c", "customerId": "z-1", "props": complaint}])
    task_id = f"COMPLAINT:z-1:{(made + timedelta(days=7)).date().isoformat()}:z-c"
    advisor = as_role("advisor", "service", "adv-z")
    for note in ("已联系\u202e款退已", "已联系\u2066客户\u2069", "已\u200b联系"):
        body = await advisor.gql(COMPLETE, {"id": task_id, "note": note})
        assert codes(body) == ["BAD_USER_INPUT"], (note, body)
        error = body["errors"][0]
        assert error["extensions"]["field"] == "note", body
        assert "invisible" in error["message"] and "U+202E" in error["message"], body
    (row,) = await store.read(
        "MATCH (:Customer {id: 'z-1'})-[:HAD]->(i:Interaction {kind: 'CARE'}) RETURN count(i) AS n"
    )
    assert row["n"] == 0
    done = await advisor.gql(COMPLETE, {"id": task_id, "note": "已联系 👨\u200d👩\u200d👧"})
    assert not done.get("errors"), done
