"""Seeding the demo book into an empty FalkorDB graph with GRAPH.BULK (graph.bulk_insert):
the same nodes, properties and relationships the repositories' upserts write (personal
fields sealed the same way), without a Cypher query per batch.

The rows of each label become one node token (its columns: every property any row has,
absent ones null, which stores nothing, as ``SET += `` does); relationships are linked by the
internal ids the loader hands out. Transactions, nine in ten of the nodes, are encoded from
numpy columns (hub.demo_transactions) without a Python loop over them, or from the row
generator's rows for a book of one part.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from graph.bulk_insert import (
    STRING,
    BulkLoader,
    doubles,
    edge_pairs,
    fixed_column,
    numbered,
    pack_rows,
    string_column,
)
from graph.fieldcipher import ADVISOR, HOUSEHOLD, INTERACTION, seal_rows
from graph.repositories.bulk_create import ACCOUNT_COLUMNS, INTERACTION_COLUMNS, TRANSACTION_COLUMNS
from graph.repositories.customers import seal_customer_rows
from graph.store import GraphStore, Row
from hub.demo import DemoBook, transactions
from hub.demo_transactions import CHANNELS, DESCRIPTIONS, KINDS, iso_times, transaction_columns

# Transactions encoded per command: ~40 MB of payload.
TX_SLICE = 400_000
Advance = Callable[[str, int], object]


class BookLoader:
    """Writes the parts of one book through one BulkLoader; remembers the internal ids of
    what later parts link to (products, advisors)."""

    def __init__(self, store: GraphStore, loader: BulkLoader, advance: Advance) -> None:
        self.store = store
        self.loader = loader
        self.advance = advance
        self.products: dict[str, int] = {}
        self.advisors: dict[str, int] = {}

    def _nodes(self, label: str, key: str, rows: Sequence[Row]) -> dict[str, int]:
        """Rows ``{key, props}`` as nodes; their internal ids by key."""
        columns = list(dict.fromkeys(name for row in rows for name in row.get("props") or {}))
        columns = [c for c in columns if c != key]
        first = self.loader.add_node_rows(
            label,
            (key, *columns),
            ((row[key], *map((row.get("props") or {}).get, columns)) for row in rows),
        )
        return {row[key]: first + i for i, row in enumerate(rows)}

    async def write(self, book: DemoBook) -> None:
        """The part's nodes and edges. Accounts and their transactions go first: they are
        nine in ten of the graph server's work, so it loads them while Python seals and
        encodes the customers, households and interactions (the seed's other half of CPU)."""
        store, adv = self.store, self.advance
        if book.products:
            self.products.update(self._nodes("Product", "code", book.products))
            adv("products", len(book.products))
        if book.branches_advisors:
            branches: dict[str, Row] = {}
            for row in book.branches_advisors:
                branches.setdefault(
                    row["branchId"], {"id": row["branchId"], "props": row["branch"]}
                )
            branch_ids = self._nodes("Branch", "id", list(branches.values()))
            advisors = seal_rows(store, ADVISOR, book.branches_advisors)
            self.advisors.update(self._nodes("Advisor", "id", advisors))
            self.loader.add_edge_rows(
                "WORKS_AT",
                ((self.advisors[r["id"]], branch_ids[r["branchId"]], ()) for r in advisors),
            )
            adv("advisors", len(advisors))

        accounts = self._account_nodes(book.accounts)
        if book.vector_transactions:
            await self._vector_transactions(book, accounts)
        else:
            await self._row_transactions(book, accounts)

        customers = self._nodes("Customer", "id", seal_customer_rows(store, book.customers))
        self.loader.add_edge_rows(
            "MANAGED_BY",
            ((customers[r["id"]], self.advisors[r["advisorId"]], ()) for r in book.customers),
        )
        adv("customers", len(customers))

        households: dict[str, Row] = {}
        for row in book.households:
            households.setdefault(row["id"], {"id": row["id"], "props": row["props"]})
        house_ids = self._nodes(
            "Household", "id", seal_rows(store, HOUSEHOLD, list(households.values()))
        )
        self.loader.add_edge_rows(
            "MEMBER_OF",
            (
                (customers[r["customerId"]], house_ids[r["id"]], (r.get("role") or "MEMBER",))
                for r in book.households
            ),
            ("role",),
        )
        adv("households", len(book.households))

        owners = [
            (customers[r["customerId"]], accounts[r["id"]], ("OWNER",)) for r in book.accounts
        ]
        owners += [
            (customers[r["customerId"]], accounts[r["accountId"]], (r["role"],))
            for r in book.holdings
        ]
        self.loader.add_edge_rows("OWNS", owners, ("role",))
        adv("accounts", len(book.accounts))
        related = dict.fromkeys((r["fromId"], r["toId"], r["kind"]) for r in book.related)
        self.loader.add_edge_rows(
            "RELATED_TO",
            ((customers[a], customers[b], (kind,)) for a, b, kind in related),
            ("kind",),
        )
        adv("relations", len(book.related))

        interactions = seal_rows(store, INTERACTION, book.interactions, owner="customerId")
        first = self.loader.add_node_rows(
            "Interaction",
            ("id", "customerId", *INTERACTION_COLUMNS),
            (
                (r["id"], r["customerId"], *map(r["props"].get, INTERACTION_COLUMNS))
                for r in interactions
            ),
        )
        self.loader.add_edge_rows(
            "HAD", ((customers[r["customerId"]], first + i, ()) for i, r in enumerate(interactions))
        )
        self.loader.add_edge_rows(
            "ABOUT",
            (
                (first + i, self.products[r["productCode"]], ())
                for i, r in enumerate(interactions)
                if r.get("productCode") in self.products
            ),
        )
        adv("interactions", len(interactions))
        await self.loader.maybe_flush()

    def _account_nodes(self, rows: list[Row]) -> dict[str, int]:
        first = self.loader.add_node_rows(
            "Account",
            ("id", *ACCOUNT_COLUMNS),
            ((r["id"], *map(r["props"].get, ACCOUNT_COLUMNS)) for r in rows),
        )
        return {r["id"]: first + i for i, r in enumerate(rows)}

    async def _row_transactions(self, book: DemoBook, accounts: dict[str, int]) -> None:
        columns = ("id", "accountId", *TRANSACTION_COLUMNS)
        rows: list[Row] = []
        for row in transactions(book):
            rows.append(row)
            if len(rows) == TX_SLICE // 4:
                await self._row_slice(columns, rows, accounts)
                rows = []
        await self._row_slice(columns, rows, accounts)

    async def _row_slice(
        self, columns: Sequence[str], rows: list[Row], accounts: dict[str, int]
    ) -> None:
        if not rows:
            return
        first = self.loader.add_node_rows(
            "Transaction",
            columns,
            ((r["id"], r["accountId"], *map(r["props"].get, TRANSACTION_COLUMNS)) for r in rows),
        )
        src = np.array([accounts[r["accountId"]] for r in rows], dtype=np.int64)
        self.loader.add_edges(
            "HAS_TRANSACTION", (), edge_pairs(src, first + np.arange(len(rows))), len(rows)
        )
        self.advance("transactions", len(rows))
        await self.loader.maybe_flush()

    async def _vector_transactions(self, book: DemoBook, accounts: dict[str, int]) -> None:
        tx = transaction_columns(book)
        ids = [p.id for p in book.plans]
        account_of_plan = np.array([accounts[i] for i in ids], dtype=np.int64)
        plan_ids = string_column(ids)
        currency = string_column(["CNY"])
        channels, kinds, descriptions = (string_column(v) for v in (CHANNELS, KINDS, DESCRIPTIONS))
        columns = ("id", "accountId", *TRANSACTION_COLUMNS)
        for lo in range(0, len(tx), TX_SLICE):
            hi = min(len(tx), lo + TX_SLICE)
            plan = tx.plan[lo:hi]
            times = iso_times(tx.time[lo:hi]).view(np.uint8).reshape(-1, 20)
            body = pack_rows(
                [
                    numbered("T", tx.number[lo:hi], 9),
                    (*plan_ids, plan),
                    doubles(tx.amount[lo:hi]),
                    (*currency, np.zeros(hi - lo, dtype=np.intp)),
                    fixed_column(STRING, times, terminated=True),
                    (*channels, tx.channel[lo:hi]),
                    (*kinds, tx.kind[lo:hi]),
                    (*descriptions, tx.description[lo:hi]),
                ]
            )
            first = self.loader.add_nodes("Transaction", columns, body, hi - lo)
            edges = edge_pairs(account_of_plan[plan], first + np.arange(hi - lo, dtype=np.int64))
            self.loader.add_edges("HAS_TRANSACTION", (), edges, hi - lo)
            self.advance("transactions", hi - lo)
            await self.loader.maybe_flush()


__all__ = ["BookLoader"]
