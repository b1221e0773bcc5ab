"""Warnings on a households import: a customer who is a member of two households, and a
household with two heads. The graph takes both (MEMBER_OF edges), but the 360 view shows one
household per customer and a household's head is the one it is named after, so either was a
silent surprise (QA, session 26). Warned, not refused: a family that moves (a child who founds
a household) is a real change the bank's file may bring before the old membership is gone."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import LiteralString

from graph.repositories.imports import Found
from graph.store import GraphStore, Row
from shared.echo import echo

_MEMBERSHIPS: LiteralString = """
UNWIND $ids AS id
MATCH (:Customer {id: id})-[:MEMBER_OF]->(h:Household)
RETURN id, h.id AS household
"""
_HEADS: LiteralString = """
UNWIND $ids AS id
MATCH (c:Customer)-[:MEMBER_OF {role: 'HEAD'}]->(:Household {id: id})
RETURN id, c.id AS customer
"""


@dataclass
class HouseholdWarnings:
    """One import's: the first household each customer joined and the first head each
    household got in its rows (-> the line), and the stored ones of the batch's."""

    _homes: dict[str, tuple[str, int]] = field(default_factory=dict)
    _heads: dict[str, tuple[str, int]] = field(default_factory=dict)
    _stored_homes: dict[str, set[str]] = field(default_factory=dict)
    _stored_heads: dict[str, set[str]] = field(default_factory=dict)

    async def prepare(self, store: GraphStore, rows: list[Row], found: list[Found]) -> None:
        """Read the stored households of the rows' customers and the heads of their
        households (one round trip's wait)."""
        members = sorted({str(r["customerId"]) for r in rows if r.get("customerId")})
        heads = sorted({str(r["id"]) for r in rows if r.get("role") == "HEAD"})
        homes, chiefs = await asyncio.gather(
            store.read(_MEMBERSHIPS, {"ids": members}) if members else _none(),
            store.read(_HEADS, {"ids": heads}) if heads else _none(),
        )
        self._stored_homes, self._stored_heads = {}, {}
        for r in homes:
            self._stored_homes.setdefault(r["id"], set()).add(r["household"])
        for r in chiefs:
            self._stored_heads.setdefault(r["id"], set()).add(r["customer"])

    def warnings(self, row: Row, state: Found, line: int) -> list[str]:
        customer, household = row.get("customerId"), str(row["id"])
        if customer is None:
            return []
        out = []
        other = _other(self._homes, self._stored_homes, str(customer), household, line)
        if other is not None:
            out.append(
                f"customer {echo(customer)} is also a member of household {other}; the 360 "
                "view shows one household per customer: keep one membership in the export"
            )
        if row.get("role") == "HEAD":
            other = _other(self._heads, self._stored_heads, household, str(customer), line)
            if other is not None:
                out.append(
                    f"household {echo(household)} has another HEAD, customer {other}; one head "
                    "per household: give the other one another role"
                )
        return out


def _other(
    firsts: dict[str, tuple[str, int]], stored: dict[str, set[str]], key: str, value: str, line: int
) -> str | None:
    """Another value than ``value`` that ``key`` has: the first an earlier row of the import
    gave it (noted, as ``value`` at ``line`` if none), else a stored one; None if none."""
    first = firsts.setdefault(key, (value, line))
    if first[0] != value:
        return f"{echo(first[0])} (line {first[1]} of this import)"
    others = sorted(stored.get(key, set()) - {value})
    return f"{echo(others[0])} (stored)" if others else None


async def _none() -> list[Row]:
    return []


__all__ = ["HouseholdWarnings"]
