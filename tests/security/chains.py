"""Hostile query shapes (issue 11, H1)."""

from __future__ import annotations


def fragment_chain(n: int, customer: str = "C000001") -> str:
    """Each fragment spreads the next twice: 2**n fields once expanded, ~32 bytes per level."""
    parts = [f'query{{customer(id:"{customer}"){{...F0}}}}']
    parts += [f"fragment F{i} on Customer{{...F{i + 1} ...F{i + 1}}}" for i in range(n)]
    parts.append(f"fragment F{n} on Customer{{id}}")
    return " ".join(parts)


def alias_fan_out(aliases: int = 30) -> str:
    """30 aliases x customers(first: 100) x transactions: 5.4 s for one request before."""
    one = (
        "customers(first: 100) { edges { node { id transactions { edges { node { id amount } } }"
        " } } }"
    )
    return "{ " + " ".join(f"a{i}: {one}" for i in range(aliases)) + " }"
