"""The fast parameter header: every value FalkorDB gets back is the value that was sent."""

from __future__ import annotations

import pytest

from graph.cypher_params import params_header
from graph.store import GraphStore

TRICKY = [
    "plain", 'q"uote', "back\\slash", "new\nline\ttab", "ctl\x01x", "中文🙂", 'a":b', ',"k":1',
    '{"k":', "`tick`", "", "x'y", "\u2028", "\\u0041", 0, -1, 1.5, 1e-5, 12345678901234, 3.0,
    True, False, None, [1, "a", None], {"k": "v", "n": [1, 2], "deep": {"x": 'y"'}},
]  # fmt: skip


def test_header_shape() -> None:
    assert params_header(None) == ""
    assert params_header({"n": 1, "rows": [{"id": "x"}]}) == 'CYPHER n=1 rows=[{`id`:"x"}] '
    with pytest.raises(ValueError, match="not a Cypher name"):
        params_header({"bad name": 1})


async def test_values_round_trip_through_falkordb(store: GraphStore) -> None:
    rows = [{"i": i, "v": value} for i, value in enumerate(TRICKY)]
    back = await store.read("UNWIND $rows AS r RETURN r.i AS i, r.v AS v", {"rows": rows})
    assert [r["v"] for r in sorted(back, key=lambda r: r["i"])] == TRICKY


@pytest.mark.parametrize(
    "value", ["a\x00b", {"k": ["x\x00"]}, "\ud800", 10**26, [1, 2**64]], ids=str
)
def test_values_the_graph_cannot_take_are_refused_before_the_query(value: object) -> None:
    # A NUL written raw into the query text ended it early ("expected '='" from FalkorDB); a
    # 26-digit int was a TypeError deep in the encoder (a forged cursor: a 500).
    with pytest.raises(ValueError, match="cannot be sent to the graph"):
        params_header({"v": value})
