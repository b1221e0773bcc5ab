"""Seal what was written before sealing existed: advisors' name/phone/email and interaction
notes (``summary``) still plain in the graph (the cipher passes plain values through on read).

Batched (``UNWIND``), resumable and idempotent: each batch reads values that do not start with
the sealed prefix, seals them (``FieldCipher.seal_many`` skips sealed ones) and writes each
back only where the stored value is still the plain one it read (a value the hub rewrote
meanwhile is left as the hub wrote it). A run cut short leaves the rest plain; the next run
does the rest. ``c360 keys reseal`` runs it, then compacts the graph's write log so the
plain records leave it.
"""

from __future__ import annotations

from typing import LiteralString

from graph.fieldcipher import ADVISOR, INTERACTION, cipher_of
from graph.store import GraphStore, Row

__all__ = ["SEALED_PREFIX", "ResealError", "reseal_plain"]

SEALED_PREFIX = "enc1:"  # privacy.fieldcrypt.PREFIX (graph does not import privacy)
_ADVISOR_FIELDS = ("name", "phone", "email")

_PLAIN_ADVISORS: LiteralString = """
MATCH (a:Advisor)
WHERE (a.name IS NOT NULL AND NOT toString(a.name) STARTS WITH $p)
   OR (a.phone IS NOT NULL AND NOT toString(a.phone) STARTS WITH $p)
   OR (a.email IS NOT NULL AND NOT toString(a.email) STARTS WITH $p)
RETURN a.id AS id, a.name AS name, a.phone AS phone, a.email AS email
LIMIT $n
"""
_SEAL_ADVISORS: LiteralString = """
UNWIND $rows AS r
MATCH (a:Advisor {id: r.id})
SET a.name = CASE WHEN a.name = r.old.name THEN r.new.name ELSE a.name END,
    a.phone = CASE WHEN a.phone = r.old.phone THEN r.new.phone ELSE a.phone END,
    a.email = CASE WHEN a.email = r.old.email THEN r.new.email ELSE a.email END
RETURN count(a) AS n
"""
_PLAIN_NOTES: LiteralString = """
MATCH (c:Customer)-[:HAD]->(i:Interaction)
WHERE i.summary IS NOT NULL AND NOT toString(i.summary) STARTS WITH $p
RETURN i.id AS id, c.id AS customer, i.summary AS summary
LIMIT $n
"""
_SEAL_NOTES: LiteralString = """
UNWIND $rows AS r
MATCH (i:Interaction {id: r.id})
SET i.summary = CASE WHEN i.summary = r.old THEN r.new ELSE i.summary END
RETURN count(i) AS n
"""


class ResealError(RuntimeError):
    """The store seals nothing (no cipher handed to it): resealing would loop for ever."""


def _sealed(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.startswith(SEALED_PREFIX))


def _still_plain(count: int, kind: str, done: dict[str, int]) -> str:
    return (
        f"{count} {kind} are plain again after they were sealed (a writer that does not seal, "
        f"or nodes sharing an id); sealed so far: {done}. Stop that writer and run "
        "`c360 keys reseal` again"
    )


async def reseal_plain(store: GraphStore, batch: int = 1000) -> dict[str, int]:
    """Seal every plain advisor field and interaction note; how many nodes each batch kind
    rewrote (``advisors``, ``interactions``). Raises ResealError when the store has no
    cipher."""
    if batch < 1:
        raise ValueError("the batch size must be at least 1")
    cipher = cipher_of(store)
    done = {"advisors": 0, "interactions": 0}
    seen_advisors: set[str] = set()
    while rows := await store.read(_PLAIN_ADVISORS, {"p": SEALED_PREFIX, "n": batch}):
        old = [{f: r[f] for f in _ADVISOR_FIELDS if not _sealed(r[f])} for r in rows]
        new = cipher.seal_many(ADVISOR, [(r["id"], o) for r, o in zip(rows, old, strict=True)])
        if not all(_sealed(v) for n in new for v in n.values()):
            raise ResealError("the graph store has no field cipher: nothing can be sealed")
        ids = {r["id"] for r in rows}
        if ids <= seen_advisors:  # rewritten meanwhile by a writer that does not seal
            raise ResealError(_still_plain(len(ids), "advisors", done))
        seen_advisors |= ids
        batch_rows: list[Row] = [
            {"id": r["id"], "old": o, "new": n} for r, o, n in zip(rows, old, new, strict=True)
        ]
        await store.write(_SEAL_ADVISORS, {"rows": batch_rows})
        done["advisors"] += len(rows)
    seen_notes: set[str] = set()
    while rows := await store.read(_PLAIN_NOTES, {"p": SEALED_PREFIX, "n": batch}):
        new = cipher.seal_many(
            INTERACTION, [(r["customer"], {"summary": r["summary"]}) for r in rows]
        )
        if not all(_sealed(n["summary"]) for n in new):
            raise ResealError("the graph store has no field cipher: nothing can be sealed")
        ids = {r["id"] for r in rows}
        if ids <= seen_notes:
            raise ResealError(_still_plain(len(ids), "interaction notes", done))
        seen_notes |= ids
        notes: list[Row] = [
            {"id": r["id"], "old": r["summary"], "new": n["summary"]}
            for r, n in zip(rows, new, strict=True)
        ]
        await store.write(_SEAL_NOTES, {"rows": notes})
        done["interactions"] += len(rows)
    return done
