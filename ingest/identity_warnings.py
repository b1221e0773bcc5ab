"""Warnings on a customers import that a KYC review wants to see, never refusals: two
customers holding one national ID number, and a gender the ID number's 17th digit contradicts
(odd: male, even: female, GB 11643). Both imported silently before (QA, session 26); either
may be a data-entry slip or a real case (a corrected ID, a changed gender), which only the bank
can tell, so the row is imported and the summary names the line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import LiteralString

from graph.fieldcipher import cipher_of
from graph.repositories.imports import Found
from graph.store import GraphStore, Row
from shared.echo import echo

# Sealed ID numbers match by their keyed blind index (indexed); without a cipher (a graph
# written in plain text) by the value.
_SEALED_HOLDERS: LiteralString = """
UNWIND $numbers AS n
MATCH (c:Customer {idNumberBidx: n.bidx})
RETURN n.plain AS number, c.id AS id
"""
_PLAIN_HOLDERS: LiteralString = """
UNWIND $numbers AS n
MATCH (c:Customer {idNumber: n.plain})
RETURN n.plain AS number, c.id AS id
"""


def gender_disagrees(gender: object, number: object) -> str | None:
    """The gender the 18-digit ID ``number`` says when ``gender`` is the other, else None."""
    if not isinstance(number, str) or len(number) != 18 or not number[16].isdigit():
        return None
    said = "M" if int(number[16]) % 2 else "F"
    return (
        ("male" if said == "M" else "female") if gender in ("M", "F") and gender != said else None
    )


@dataclass
class IdentityWarnings:
    """One import's: the ID numbers its rows gave so far (a hash -> customer id, line)."""

    _seen: dict[int, tuple[str, int]] = field(default_factory=dict)
    _stored: dict[str, set[str]] = field(default_factory=dict)

    async def prepare(self, store: GraphStore, rows: list[Row], found: list[Found]) -> None:
        """Read the stored customers holding the ID numbers ``rows`` give (one read)."""
        numbers = sorted({str(n) for r in rows if (n := (r.get("props") or {}).get("idNumber"))})
        self._stored = {}
        if not numbers:
            return
        cipher = cipher_of(store)
        params = [{"plain": n, "bidx": cipher.blind("idNumber", n)} for n in numbers]
        query = _PLAIN_HOLDERS if params[0]["bidx"] is None else _SEALED_HOLDERS
        for r in await store.read(query, {"numbers": params}):
            self._stored.setdefault(r["number"], set()).add(r["id"])

    def warnings(self, row: Row, state: Found, line: int) -> list[str]:
        given = row.get("props") or {}
        stored = (state.get("props") or {}) if state.get("exists") else {}
        out = []
        if "idNumber" in given or "gender" in given:
            number = given.get("idNumber", stored.get("idNumber"))
            said = gender_disagrees(given.get("gender", stored.get("gender")), number)
            if said is not None:
                out.append(
                    f"gender disagrees with the ID number, whose 17th digit says {said}; "
                    "imported as given: check both in the source system"
                )
        number = given.get("idNumber")
        if number is None:
            return out
        customer = str(row["id"])
        first = self._seen.setdefault(hash(number), (customer, line))
        others = sorted(self._stored.get(str(number), set()) - {customer})
        if first[0] != customer:
            out.append(
                f"idNumber is also customer {echo(first[0])}'s, on line {first[1]} of this "
                "import; one ID number is one person: merge the two customers or fix the number"
            )
        elif others:
            out.append(
                f"idNumber is also stored for customer {echo(others[0])}; one ID number is one "
                "person: merge the two customers or fix the number"
            )
        return out


__all__ = ["IdentityWarnings", "gender_disagrees"]
