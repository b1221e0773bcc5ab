"""Raw graph reads in tests see personal fields sealed (when the store has a cipher, e.g. once
an app was opened on it): this opens them the way the repositories do."""

from __future__ import annotations

from graph.fieldcipher import CUSTOMER, cipher_of
from graph.store import GraphStore, Row


def opened(store: GraphStore, rows: list[Row], scope: str = CUSTOMER) -> list[Row]:
    """``rows`` (each with ``id``) with sealed values opened; plain values pass through."""
    return cipher_of(store).open_many(scope, [(r["id"], r) for r in rows])
