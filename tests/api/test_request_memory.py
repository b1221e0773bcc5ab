"""A finished request frees what it loaded by reference counting, not at the next full garbage
collection (RequestContext.release): under load the collector's oldest generation waits
minutes, and requests waiting for it were the hub's RSS growth (bench/soak.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from graph.repositories.access import ACCESS_KEY
from graph.store import GraphStore
from tests.api.conftest import Api
from tests.api.seed import seed_family
from tests.api.test_customer360 import FULL_360


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


def loaded_rows() -> int:
    """Customer rows as the customer loader reads them (with their policy attributes), alive
    or waiting for the collector."""
    return sum(1 for o in gc.get_objects() if type(o) is dict and ACCESS_KEY in o)


async def test_a_finished_request_leaves_no_rows_for_the_collector(
    store: GraphStore, api: Api, collector_off: None
) -> None:
    await seed_family(store, "fam", accounts=4, transactions=10, interactions=5)
    body = await api.gql(FULL_360, {"id": "fam-1"})
    assert "errors" not in body, body
    before = loaded_rows()
    for _ in range(5):
        body = await api.gql(FULL_360, {"id": "fam-1"})
        assert body["data"]["customer"]["id"] == "fam-1"
    assert loaded_rows() == before
