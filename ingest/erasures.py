"""Rows an erasure refuses: a customer erased under a data-subject request (PIPL Art. 47) must
not come back through an import of an old export, nor any row keyed to them.

The ids come from the erasure ledger, read at the edge (the CLI hands them in: ingest does not
read privacy's files); this module only judges rows, a pure function of the ids and the row.
Accounts and transactions outlive an erasure (retention of financial records, unlinked), so a
transaction row is never refused for its account; an account row naming an erased customer as
its owner is, as are holdings, household members, interactions and social handles."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shared.validators import id_key

# What an erased id is, per the ImportKind.erased vocabulary: the noun for the reason.
_NOUNS = {"customers": "customer", "households": "household"}


@dataclass(frozen=True)
class Erasures:
    """The ids the erasure ledger lists (customers, and the households erased with them),
    case-folded (shared.validators.id_key): ``c900002`` names the erased ``C900002`` (QA,
    session 21: it was imported as a new customer)."""

    customers: frozenset[str] = frozenset()
    households: frozenset[str] = frozenset()

    @classmethod
    def of(cls, customers: Iterable[str], households: Iterable[str] = ()) -> Erasures:
        return cls(frozenset(map(id_key, customers)), frozenset(map(id_key, households)))

    def __bool__(self) -> bool:
        return bool(self.customers or self.households)

    def reasons(self, fields: dict[str, str], row: dict[str, Any]) -> list[str]:
        """Why ``row`` must not be imported: one reason per ``fields`` entry (row field ->
        "customers" / "households") whose value was erased; [] when none was."""
        out = []
        for name, what in fields.items():
            value = row.get(name)
            if value is not None and id_key(str(value)) in getattr(self, what):
                out.append(
                    f"{name} {value}: this {_NOUNS[what]} was erased under a data-subject "
                    "request (erasure ledger) and must not be imported again; delete the row "
                    "from the export (a privacy officer holds the erasure record)"
                )
        return out


NO_ERASURES = Erasures()

__all__ = ["NO_ERASURES", "Erasures"]
