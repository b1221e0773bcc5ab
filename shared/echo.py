"""Caller input quoted back in an error (an id, a purpose, a request id), capped: an error
names what it refuses, but a 100 KB id echoed whole makes every error answer, log line and
audit excerpt that carries it 100 KB too."""

from __future__ import annotations

# Characters of caller input an error repeats; every id the hub makes is far shorter.
ECHO_MAX = 64


def echo(value: object, limit: int = ECHO_MAX) -> str:
    """``value`` as text, its first ``limit`` characters and how long it was when longer:
    ``"C0000…(100000 chars)"``. The one way errors quote what the caller sent."""
    text = str(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…({len(text)} chars)"


__all__ = ["ECHO_MAX", "echo"]
