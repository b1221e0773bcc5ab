"""Field encryption for personal data at rest: AES-256-GCM envelope encryption.

Each customer (and household) has its own data key (privacy.datakeys), wrapped by a master
key from a key provider (privacy.keyprovider). A sealed value is ``enc1:`` + base64(nonce ||
ciphertext || tag); the associated data binds it to its owner and field, so a value copied to
another customer or field does not open.

Encrypted: NAME, PHONE, NATIONAL_ID, EMAIL, ADDRESS, BIRTH_DATE (customer ``name``, ``phone``,
``idNumber``, ``email``, ``address``, ``birthDate``; household ``name``, ``address`` — a
household is named after its head and shares their address); an interaction's ``summary``
(free-text notes about the customer) under the *customer's* data key, so erasing the customer
shreds their notes in every copy; an advisor's ``name``, ``phone``, ``email`` under a key of
their own (``Advisor:<id>``); a social account's display ``name`` (often a real name) under a
key per account (``SocialAccount:<platform>:<handle>``), destroyed with a customer who
confirmed the account. A destroyed key is never made again (privacy.datakeys): a value
written later for an erased owner (a post from their account naming them) is left out, not
sealed under a fresh key. Amounts stay plain: balances and
transaction amounts are summed, compared and banded inside the graph (segments, net flow), and
on their own they do not identify anyone once names and numbers are sealed.

Exact lookups use blind indexes: ``phoneBidx``, ``idNumberBidx``, ``emailBidx`` =
HMAC-SHA256(blind key, field || normalised value), 128 bits, hex. Names carry ``nameTok``:
HMAC-SHA256(name key, gram), 64 bits, for every character and every pair of adjacent
characters of the case-folded name; a search asks for the tokens of its text and the few
candidates are decrypted and checked. What that leaks to someone holding the graph files but
no key: which customers share a phone / ID / e-mail, the length of each name (token count),
and which customers share a character or bigram (so frequency analysis can guess common
surnames); not the values themselves, and nothing without the graph files.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterator
from typing import Any, TypeGuard

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from privacy.datakeys import DataKeyStore

Row = dict[str, Any]
PREFIX = "enc1:"

FIELDS: dict[str, tuple[str, ...]] = {
    "Customer": ("name", "phone", "idNumber", "email", "address", "birthDate"),
    "Household": ("name", "address"),
    "Advisor": ("name", "phone", "email"),
    "Interaction": ("summary",),
    "SocialAccount": ("name",),
}
# Scopes sealed under another owner's data key: an interaction's owner id is its customer's.
KEY_SCOPE = {"Interaction": "Customer"}


def key_owner(scope: str, owner_id: str) -> str:
    """The data key store's owner of a ``scope`` node's values (an Interaction's are its
    customer's): ``<label>:<id>``."""
    return f"{KEY_SCOPE.get(scope, scope)}:{owner_id}"


BLIND_FIELDS = ("phone", "idNumber", "email")
NAME_TOKENS = "nameTok"
# Lookup properties, not the record's data: left out of opened rows. ``idKey``: a customer's
# id case-folded, how its case twins are found (graph.repositories.customers); not sealed (the
# id itself is plain).
INDEX_PROPS = frozenset({f"{f}Bidx" for f in BLIND_FIELDS} | {NAME_TOKENS, "idKey"})
# Name grams whose token is kept (a character or a pair of them: names share most of theirs,
# so an import computes each HMAC once instead of ~6 per customer).
TOKEN_CACHE = 50_000


def is_sealed(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and value.startswith(PREFIX)


def normalise(field: str, value: str) -> str:
    value = value.strip()
    if field == "email":
        return value.lower()
    if field == "idNumber":
        return value.upper()
    return value


def name_grams(name: str) -> set[str]:
    text = "".join(name.casefold().split())
    return set(text) | {text[i : i + 2] for i in range(len(text) - 1)}


class FieldCrypto:
    def __init__(self, keys: DataKeyStore, blind_key: bytes, name_key: bytes) -> None:
        self.keys = keys
        self._blind_key = blind_key
        self._name_key = name_key
        self._tokens: dict[str, str] = {}

    # -- writes ---------------------------------------------------------------------------
    def seal_many(self, scope: str, items: list[tuple[str, Row]]) -> list[Row]:
        fields = FIELDS.get(scope, ())
        needs_key = {i for i, p in items if any(isinstance(p.get(f), str) for f in fields)}
        keys = self.keys.get_or_create_many([key_owner(scope, i) for i in needs_key])
        nonces = _nonces()  # this call's own: a nonce is never handed out twice
        out = []
        for owner_id, props in items:
            if owner_id in needs_key and key_owner(scope, owner_id) not in keys:
                # Erased (its key destroyed, privacy.datakeys): no new key, and its personal
                # fields are not written at all, so what is stored stays unreadable.
                out.append({k: v for k, v in props.items() if k not in fields})
                continue
            sealed = dict(props)
            aead: AESGCM | None = None  # one cipher per owner, for all of its fields
            for field in fields:
                if field not in props:
                    continue
                value = props[field]
                if scope == "Customer":
                    sealed.update(self._index_props(field, value))
                if value is None or is_sealed(value):
                    continue
                aead = aead or AESGCM(keys[key_owner(scope, owner_id)])
                sealed[field] = _seal(aead, str(value), _aad(scope, owner_id, field), nonces)
            out.append(sealed)
        return out

    def _index_props(self, field: str, value: Any) -> Row:
        if is_sealed(value):
            return {}
        if field in BLIND_FIELDS:
            return {f"{field}Bidx": self.blind(field, value)}
        if field == "name":
            grams = name_grams(value) if isinstance(value, str) else set()
            return {NAME_TOKENS: sorted(self._token(g) for g in grams) or None}
        return {}

    # -- reads ----------------------------------------------------------------------------
    def open_many(self, scope: str, items: list[tuple[str, Row]]) -> list[Row]:
        fields = FIELDS.get(scope, ())
        owners = [key_owner(scope, i) for i, p in items if any(is_sealed(p.get(f)) for f in fields)]
        keys = self.keys.get_many(owners) if owners else {}
        out = []
        for owner_id, props in items:
            opened = {k: v for k, v in props.items() if k not in INDEX_PROPS}
            key = keys.get(key_owner(scope, owner_id))
            for field in fields:
                value = props.get(field)
                if is_sealed(value):
                    opened[field] = _open(key, str(value), _aad(scope, owner_id, field))
            out.append(opened)
        return out

    # -- lookups --------------------------------------------------------------------------
    def blind(self, field: str, value: str | None) -> str | None:
        if not value:
            return None
        msg = f"{field}\x00{normalise(field, str(value))}".encode()
        # hmac.digest: the one-shot C path, same bytes as hmac.new(...).digest(), ~3x faster.
        return hmac.digest(self._blind_key, msg, hashlib.sha256).hex()[:32]

    def name_tokens(self, text: str | None) -> list[str]:
        if not text:
            return []
        folded = "".join(text.casefold().split())
        grams = (
            {folded} if len(folded) == 1 else {folded[i : i + 2] for i in range(len(folded) - 1)}
        )
        return sorted(self._token(g) for g in grams)

    def _token(self, gram: str) -> str:
        token = self._tokens.get(gram)
        if token is None:
            token = hmac.digest(self._name_key, f"n\x00{gram}".encode(), hashlib.sha256).hex()[:16]
            if len(self._tokens) >= TOKEN_CACHE:
                self._tokens.clear()
            self._tokens[gram] = token
        return token

    def destroy(self, scope: str, owner_id: str) -> bool:
        return self.keys.destroy(key_owner(scope, owner_id))


def _aad(scope: str, owner_id: str, field: str) -> bytes:
    return f"{scope}\x00{owner_id}\x00{field}".encode()


def _nonces() -> Iterator[bytes]:
    """Random 96-bit GCM nonces from the OS, read 256 at a time (one system call each)."""
    while True:
        pool = os.urandom(12 * 256)
        for at in range(0, len(pool), 12):
            yield pool[at : at + 12]


def _seal(aead: AESGCM, value: str, aad: bytes, nonces: Iterator[bytes]) -> str:
    nonce = next(nonces)
    blob = nonce + aead.encrypt(nonce, value.encode(), aad)
    return PREFIX + base64.b64encode(blob).decode()


def _open(key: bytes | None, value: str, aad: bytes) -> str | None:
    """The plain value; None when the key is gone (erased) or the value was tampered with."""
    if key is None:
        return None
    blob = base64.b64decode(value[len(PREFIX) :])
    try:
        return AESGCM(key).decrypt(blob[:12], blob[12:], aad).decode()
    except InvalidTag:
        return None


__all__ = [
    "FIELDS",
    "INDEX_PROPS",
    "KEY_SCOPE",
    "PREFIX",
    "FieldCrypto",
    "is_sealed",
    "key_owner",
    "name_grams",
]
