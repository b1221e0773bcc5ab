"""Every property type c360 stores comes back identical from every backend."""

from __future__ import annotations

from typing import Any

from graph.store import GraphStore

PROPS: dict[str, Any] = {
    "name": "张三丰 Zhang",
    "address": "北京市朝阳区建国路88号",
    "age": 42,
    "bigInt": 2**53 + 1,
    "negative": -7,
    "balance": 1234567.89,
    "score": 0.25,
    "vip": True,
    "closed": False,
    "tags": ["高净值", "vip"],
    "counts": [1, 2, 3],
    "weights": [0.5, 1.5],
    "createdAt": "2025-03-01T08:00:00Z",
    "birthDate": "1990-05-17",
}


async def _put(store: GraphStore, props: dict[str, Any]) -> None:
    await store.write(
        "UNWIND $rows AS r MERGE (c:Customer {id: r.id}) SET c += r.props",
        {"rows": [{"id": "C1", "props": props}]},
    )


async def test_every_property_type_round_trips(cstore: GraphStore) -> None:
    await _put(cstore, PROPS)
    rows = await cstore.read(
        "MATCH (c:Customer {id: $id}) RETURN c {.*} AS projected, c AS node", {"id": "C1"}
    )
    expected = {"id": "C1", **PROPS}
    assert rows == [{"projected": expected, "node": expected}]
    for key, value in expected.items():
        assert type(rows[0]["node"][key]) is type(value), key


async def test_parameters_come_back_unchanged(cstore: GraphStore) -> None:
    params = {"s": "中文", "i": 3, "f": 2.5, "b": False, "n": None, "l": ["a", "b"], "m": {"k": 1}}
    rows = await cstore.read(
        "RETURN $s AS s, $i AS i, $f AS f, $b AS b, $n AS n, $l AS l, $m AS m", params
    )
    assert rows == [params]


async def test_null_in_set_plus_removes_the_property(cstore: GraphStore) -> None:
    await _put(cstore, {"name": "张三", "phone": "+8613812345678", "vip": True})
    await _put(cstore, {"phone": None, "vip": False})
    rows = await cstore.read(
        "MATCH (c:Customer {id: 'C1'}) RETURN c {.*} AS c, c.phone IS NULL AS gone"
    )
    assert rows == [{"c": {"id": "C1", "name": "张三", "vip": False}, "gone": True}]


async def test_iso_timestamps_order_and_filter_as_strings(cstore: GraphStore) -> None:
    times = ["2025-03-01T08:00:00Z", "2024-12-31T23:59:59Z", "2025-03-01T07:59:59Z"]
    await cstore.write(
        "UNWIND $rows AS r MERGE (t:Transaction {id: r.id}) SET t.time = r.time",
        {"rows": [{"id": f"T{i}", "time": t} for i, t in enumerate(times)]},
    )
    rows = await cstore.read(
        "MATCH (t:Transaction) WHERE t.time >= $from RETURN t.time AS time ORDER BY t.time",
        {"from": "2025-01-01T00:00:00Z"},
    )
    assert [r["time"] for r in rows] == ["2025-03-01T07:59:59Z", "2025-03-01T08:00:00Z"]
    day = await cstore.read("MATCH (t:Transaction) RETURN max(substring(t.time, 0, 10)) AS d")
    assert day == [{"d": "2025-03-01"}]


async def test_relationship_properties_are_plain_dicts(cstore: GraphStore) -> None:
    await cstore.write(
        "MERGE (a:Customer {id: 'C1'}) MERGE (b:Account {id: 'AC1'}) "
        "MERGE (a)-[o:OWNS]->(b) SET o.role = $role",
        {"role": "JOINT"},
    )
    rows = await cstore.read(
        "MATCH (:Customer)-[o:OWNS]->(a:Account) RETURN o, properties(o) AS p, a.id AS id"
    )
    assert rows == [{"o": {"role": "JOINT"}, "p": {"role": "JOINT"}, "id": "AC1"}]
