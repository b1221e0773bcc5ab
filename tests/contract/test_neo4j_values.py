"""Neo4j backend logic that needs no server: value conversion and schema statements."""

from __future__ import annotations

import datetime as dt

from neo4j.time import Date, DateTime, Duration

from graph.neo4j import iso, plain, schema_statements
from graph.store import LOOKUP_INDEXES, NATURAL_KEYS


def test_temporal_values_become_the_iso_strings_c360_stores() -> None:
    assert iso(DateTime(2025, 3, 1, 8, 0, 0, tzinfo=dt.UTC)) == "2025-03-01T08:00:00Z"
    shanghai = dt.timezone(dt.timedelta(hours=8))
    assert iso(DateTime(2025, 3, 1, 16, 0, 0, tzinfo=shanghai)) == "2025-03-01T08:00:00Z"
    assert iso(Date(2025, 3, 1)) == "2025-03-01"
    assert iso(Duration(days=2)) == "P2D"


def test_plain_walks_lists_and_maps() -> None:
    value = {"when": [Date(2024, 1, 2)], "n": 1, "s": "中文", "none": None}
    assert plain(value) == {"when": ["2024-01-02"], "n": 1, "s": "中文", "none": None}


def test_schema_has_a_unique_constraint_per_natural_key_and_every_lookup_index() -> None:
    statements = schema_statements()
    assert len(statements) == len(NATURAL_KEYS) + len(LOOKUP_INDEXES)
    assert all("IF NOT EXISTS" in s for s in statements)
    assert (
        "CREATE CONSTRAINT c360_Post_platform_postId_unique IF NOT EXISTS "
        "FOR (n:Post) REQUIRE (n.platform, n.postId) IS UNIQUE"
    ) in statements
    # NODE KEY is Enterprise-only; Community must be able to run every statement.
    assert not any("NODE KEY" in s for s in statements)
