"""Seal what was written before sealing existed: every sealed property of every label that
holds sealed values (``privacy.fieldcrypt.FIELDS``: customers, households, advisors,
interaction notes, social accounts' display names) still plain in the graph (the cipher passes
plain values through on read).

Found by label and property, not by walking from customers: an interaction no ``HAD`` edge
reaches is sealed under its ``customerId``, unless the erasure ledger lists that customer
(the caller passes the erased owners): no data key is ever made for an erased owner. Each
label is read once in node order (``id(n)``, in batches), so a value that cannot be sealed
does not hold up the rest: the run goes on and :class:`Resealed` lists what is still plain
at the end, by label, node and property (never the value), with the reason. Each batch
writes a node back only where its plain values are still the ones it read (a node the hub
rewrote meanwhile is left as the hub wrote it, and listed if that left it plain). A run cut
short leaves the rest plain; the next run does the rest.
``c360 keys reseal`` runs it, then compacts the graph's write log so the plain records leave it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import LiteralString, NamedTuple

from graph.errors import GraphError
from graph.fieldcipher import cipher_of, social_owner
from graph.store import GraphStore, Row

__all__ = ["SEALED_PREFIX", "ResealError", "Resealed", "Unsealed", "reseal_plain"]

SEALED_PREFIX = "enc1:"  # privacy.fieldcrypt.PREFIX (graph does not import privacy)

# What each label's count is called (the command's output, its audit record).
COUNTS: dict[str, str] = {
    "Customer": "customers",
    "Household": "households",
    "Advisor": "advisors",
    "Interaction": "interactions",
    "SocialAccount": "social_accounts",
}
# An interaction's notes are sealed under its customer's data key: the customer whose HAD edge
# reaches it (the one a 360 view opens it as), else the customer its customerId names.
_HAD: LiteralString = "head([(c:Customer)-[:HAD]->(n) | c.id])"
_NO_OWNER = "no customer to seal it under (no HAD edge, no customerId)"
_AGAIN = "plain again, or written plain meanwhile (a writer that does not seal): run it again"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Why an owner the erasure ledger lists is not sealed (sealing would make it a new data key):
# what is left of them is removed by `c360 erase --reapply` (privacy.erasure.reapply_erasures).
_ERASED = {
    "Interaction": "its customer {owner} was erased (erasure ledger): no data key is made for "
    "an erased customer; `c360 erase --reapply` removes the note",
    "Customer": "this customer was erased (erasure ledger) and is back in the graph (a "
    "restore?): no data key is made for them; `c360 erase --reapply` erases them again",
    "Household": "this household was erased with its customer (erasure ledger) and is back in "
    "the graph: no data key is made for it; `c360 erase --reapply` removes it",
    "SocialAccount": "its display name was erased with a customer (erasure ledger): no data key "
    "is made for it; `c360 erase --reapply` removes the plain name",
}


class ResealError(RuntimeError):
    """The store seals nothing (no cipher handed to it): resealing would loop for ever."""


class Unsealed(NamedTuple):
    """A value still plain after the run: where it is and why, never the value."""

    label: str
    node: str
    prop: str
    reason: str


@dataclass
class Resealed:
    done: dict[str, int]  # nodes rewritten, by COUNTS name
    unsealed: list[Unsealed] = field(default_factory=list)


def _sealed(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.startswith(SEALED_PREFIX))


def _node(label: str, props: Row) -> str:
    if label == "SocialAccount":
        return social_owner(str(props.get("platform")), str(props.get("handle")))
    return str(props.get("id"))


def _owner(label: str, row: Row) -> str | None:
    if label == "Interaction":
        owner = row["had"] or row["props"].get("customerId")
        return str(owner) if owner else None
    return _node(label, row["props"])


def _queries(label: str, fields: tuple[str, ...]) -> tuple[LiteralString, LiteralString]:
    """The read of a label's nodes holding a plain value (after ``$after`` in node order) and
    the write of their sealed values (where the plain ones read are still there)."""
    if label not in COUNTS or not all(_NAME.fullmatch(f) for f in fields):
        raise ValueError(f"no reseal known for {label} {fields}")
    # Labels and properties come from the fixed tables above and privacy.fieldcrypt.FIELDS.
    plain = " OR ".join(
        f"(n.{f} IS NOT NULL AND NOT toString(n.{f}) STARTS WITH $p)" for f in fields
    )
    had = _HAD if label == "Interaction" else "null"
    read = f"""
        MATCH (n:{label}) WHERE id(n) > $after AND ({plain})
        RETURN id(n) AS nid, properties(n) AS props, {had} AS had
        ORDER BY nid LIMIT $n
    """
    same = " AND ".join(f"(r.old.{f} IS NULL OR n.{f} = r.old.{f})" for f in fields)
    write = f"""
        UNWIND $rows AS r
        MATCH (n:{label}) WHERE id(n) = r.nid AND {same}
        SET n += r.new
        RETURN count(n) AS n
    """
    return read, write


def _plain_rows(label: str, fields: tuple[str, ...], rows: list[Row]) -> list[tuple[Row, Row]]:
    return [(r, {f: r["props"][f] for f in fields if not _sealed(r["props"].get(f))}) for r in rows]


def _seal_one(store: GraphStore, label: str, item: tuple[str, Row]) -> Row | Exception:
    try:
        return cipher_of(store).seal_many(label, [item])[0]
    except GraphError:  # the key store itself (a full disk): the run stops
        raise
    except Exception as exc:  # listed by the caller, never the value
        return exc


def _seal(store: GraphStore, label: str, items: list[tuple[str, Row]]) -> list[Row | Exception]:
    """Each item sealed, or why it could not be: a batch that fails is sealed owner by owner,
    so one data key that does not open (its master key lost) costs only its own values."""
    try:
        return list(cipher_of(store).seal_many(label, items))
    except GraphError:
        raise
    except Exception:  # which owner fails is found below
        return [_seal_one(store, label, item) for item in items]


async def reseal_plain(
    store: GraphStore,
    fields: Mapping[str, tuple[str, ...]],
    batch: int = 1000,
    erased: Mapping[str, Collection[str]] | None = None,
) -> Resealed:
    """Seal every plain value of ``fields`` (label -> sealed properties); how many nodes of
    each label were rewritten, and every value still plain after it. ``erased``: per label,
    the owners (what a value is sealed under: an interaction's customer) the erasure ledger
    lists as erased: sealing would make them a new data key, so their values are left plain
    and listed, with what to do. Raises ResealError when the store has no cipher."""
    erased = erased or {}
    if batch < 1:
        raise ValueError("the batch size must be at least 1")
    result = Resealed(done={COUNTS[label]: 0 for label in fields})
    reasons: dict[tuple[str, str], str] = {}  # (label, node) -> why it was not sealed
    for label, props in fields.items():
        read, write = _queries(label, props)
        after = -1
        while rows := await store.read(read, {"p": SEALED_PREFIX, "after": after, "n": batch}):
            after = rows[-1]["nid"]
            todo: list[tuple[Row, Row, str]] = []
            for row, old in _plain_rows(label, props, rows):
                owner = _owner(label, row)
                if owner is None:
                    reasons[(label, _node(label, row["props"]))] = _NO_OWNER
                elif owner in erased.get(label, ()):
                    why = _ERASED[label].format(owner=owner)
                    reasons[(label, _node(label, row["props"]))] = why
                else:
                    todo.append((row, old, owner))
            sealed = _seal(store, label, [(owner, old) for _, old, owner in todo])
            writes: list[Row] = []
            for (row, old, _), new in zip(todo, sealed, strict=True):
                if isinstance(new, Exception):
                    why = f"its data key does not open ({type(new).__name__})"
                    reasons[(label, _node(label, row["props"]))] = why
                    continue
                if not all(_sealed(new[f]) for f in old):
                    raise ResealError("the graph store has no field cipher: nothing can be sealed")
                writes.append({"nid": row["nid"], "old": old, "new": new})
            if writes:
                done = await store.write(write, {"rows": writes})
                result.done[COUNTS[label]] += int(done[0]["n"]) if done else 0
    # What is still plain now, whatever the reason (one the run met, or a writer's since).
    for label, props in fields.items():
        read, _ = _queries(label, props)
        after = -1
        while rows := await store.read(read, {"p": SEALED_PREFIX, "after": after, "n": batch}):
            after = rows[-1]["nid"]
            for row, old in _plain_rows(label, props, rows):
                node = _node(label, row["props"])
                why = reasons.get((label, node), _AGAIN)
                result.unsealed += [Unsealed(label, node, prop, why) for prop in old]
    return result
