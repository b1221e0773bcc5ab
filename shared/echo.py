"""Caller input quoted back in an error (an id, a purpose, a request id), capped: an error
names what it refuses, but a 100 KB id echoed whole makes every error answer, log line and
audit excerpt that carries it 100 KB too.

The audit log notes ids the same way (:func:`echo_id`), with the id's SHA-256 added: a record
must still say exactly which id was asked for, and an attacker must not bloat the encrypted,
never-truncated log by 100 KB a request."""

from __future__ import annotations

import hashlib

# Characters of caller input an error repeats; every id the hub makes is far shorter.
ECHO_MAX = 64
# The longest id an audit record notes whole: longer than any id the hub makes or imports
# (import keys are 1-200 characters, shared.records.Key; a "Type:id" resource name adds a
# short type), so only an id no record of the hub can have is noted capped.
ID_MAX = 256


def echo(
    value: object, limit: int = ECHO_MAX, *, keep: int | None = None, digest: bool = False
) -> str:
    """``value`` as text, its first ``keep`` (default ``limit``) characters and how long it
    was when longer than ``limit``: ``"C0000…(100000 chars)"``; with ``digest`` the text's
    SHA-256 (hex, of its UTF-8) too: ``"C0000…(100000 chars, sha256 9f…)"``. The one way
    errors and audit records quote what the caller sent."""
    text = str(value)
    if len(text) <= limit:
        return text
    head = text[: limit if keep is None else keep]
    if not digest:
        return f"{head}…({len(text)} chars)"
    # surrogatepass: a lone surrogate (JSON allows "\ud800") hashes instead of raising.
    sha = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{head}…({len(text)} chars, sha256 {sha})"


def echo_id(value: object) -> str:
    """An id as an audit record notes it: whole up to :data:`ID_MAX` characters, else its
    first :data:`ECHO_MAX`, its length and its SHA-256."""
    return echo(value, ID_MAX, keep=ECHO_MAX, digest=True)


__all__ = ["ECHO_MAX", "ID_MAX", "echo", "echo_id"]
