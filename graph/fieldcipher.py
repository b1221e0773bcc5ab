"""The seam through which repositories protect personal fields at rest.

Repositories never hold a key: the hub hands an implementation of :class:`FieldCipher`
(``privacy.fieldcrypt.FieldCrypto``) to the store with :func:`attach_cipher`, and writes and
reads ask :func:`cipher_of` for it. A store without one (unit tests, the plain bench app)
gets :data:`PLAIN`, which stores values as given. Reads always go through ``open_many``, so
rows written before encryption was wired still read (plain values pass through).
"""

from __future__ import annotations

from typing import Any, Protocol

from graph.store import Row

CUSTOMER, HOUSEHOLD = "Customer", "Household"
ADVISOR, INTERACTION, SOCIAL_ACCOUNT = "Advisor", "Interaction", "SocialAccount"
_ATTR = "field_cipher"


class FieldCipher(Protocol):
    def seal_many(self, scope: str, items: list[tuple[str, Row]]) -> list[Row]:
        """Each (owner id, props) with its personal fields encrypted under the owner's data
        key (created on first use) and its blind-index properties added. The owner id of an
        Interaction is its customer's id, of a SocialAccount :func:`social_owner`."""
        ...

    def open_many(self, scope: str, items: list[tuple[str, Row]]) -> list[Row]:
        """Each (owner id, props) with its personal fields decrypted (None where the owner's
        key is gone) and the blind-index properties removed."""
        ...

    def blind(self, field: str, value: str | None) -> str | None:
        """The keyed blind index of an exact value (phone, idNumber, email), for a lookup."""
        ...

    def name_tokens(self, text: str | None) -> list[str]:
        """The keyed tokens a name containing ``text`` must carry (a candidate filter)."""
        ...

    def destroy(self, scope: str, owner_id: str) -> bool:
        """Crypto-shred: forget the owner's data key. True when there was one."""
        ...


class PlainCipher:
    """No encryption (a store nobody wired a cipher to)."""

    def seal_many(self, scope: str, items: list[tuple[str, Row]]) -> list[Row]:
        return [props for _, props in items]

    def open_many(self, scope: str, items: list[tuple[str, Row]]) -> list[Row]:
        return [props for _, props in items]

    def blind(self, field: str, value: str | None) -> str | None:
        return None

    def name_tokens(self, text: str | None) -> list[str]:
        return []

    def destroy(self, scope: str, owner_id: str) -> bool:
        return False


PLAIN = PlainCipher()


def attach_cipher(store: Any, cipher: FieldCipher) -> None:
    setattr(store, _ATTR, cipher)


def cipher_of(store: Any) -> FieldCipher:
    return getattr(store, _ATTR, None) or PLAIN


def social_owner(platform: str, handle: str) -> str:
    """The owner id a social account's display name is sealed under."""
    return f"{platform}:{handle}"


def seal_rows(store: Any, scope: str, rows: list[Row], owner: str = "id") -> list[Row]:
    """Write rows ``{<owner>: ..., props: {...}}`` with their props sealed (one batch)."""
    items = [(str(r[owner]), r.get("props") or {}) for r in rows]
    sealed = cipher_of(store).seal_many(scope, items)
    return [{**r, "props": p} for r, p in zip(rows, sealed, strict=True)]


def open_items(store: Any, scope: str, items: list[tuple[str, Row]]) -> list[Row]:
    """(owner id, props) pairs decrypted in one batch (a list may repeat an owner)."""
    return cipher_of(store).open_many(scope, items) if items else []


def open_rows(store: Any, scope: str, rows: dict[str, Row]) -> dict[str, Row]:
    """A dict of id -> props, decrypted in one batch."""
    ids = list(rows)
    opened = cipher_of(store).open_many(scope, [(i, rows[i]) for i in ids])
    return dict(zip(ids, opened, strict=True))


__all__ = [
    "ADVISOR",
    "CUSTOMER",
    "HOUSEHOLD",
    "INTERACTION",
    "PLAIN",
    "SOCIAL_ACCOUNT",
    "FieldCipher",
    "PlainCipher",
    "attach_cipher",
    "cipher_of",
    "open_items",
    "open_rows",
    "seal_rows",
    "social_owner",
]
