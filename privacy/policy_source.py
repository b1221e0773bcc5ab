"""A conservative reading of Rego source for the invariants: statements, tokens, literals.

Not a Rego parser: regopy exposes no syntax tree, and the check built on this reading only
needs to be sure of one thing, that text which is not the release's own is looked at in full.
A statement is a top-level block as `opa fmt` writes it (a line starting at column 0 up to the
next such line); however an author lays a module out, every token of it lands in some
statement, so a token the check refuses cannot hide between statements.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

__all__ = ["Statement", "Token", "statements", "string_literals", "tokens"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"[0-9][0-9.eE+\-]*")
_SPACE = " \t\r\n"


@dataclass(frozen=True)
class Token:
    kind: str  # "ident", "string", "number" or "punct"
    text: str  # a string's value (decoded), else the token as written


@dataclass(frozen=True)
class Statement:
    tokens: tuple[Token, ...]

    @property
    def key(self) -> str:
        """The statement with layout and comments gone: what two equal statements share."""
        return " ".join(f"{t.kind}:{t.text}" for t in self.tokens)

    def idents(self) -> set[str]:
        return {t.text for t in self.tokens if t.kind == "ident"}

    def strings(self) -> list[str]:
        return [t.text for t in self.tokens if t.kind == "string"]

    def calls(self) -> set[str]:
        """Dotted names written right before '(' (a call, or a function head)."""
        out: set[str] = set()
        toks = self.tokens
        for i, tok in enumerate(toks):
            if tok.kind != "punct" or tok.text != "(" or i == 0 or toks[i - 1].kind != "ident":
                continue
            parts, j = [toks[i - 1].text], i - 2
            while j >= 1 and toks[j].text == "." and toks[j - 1].kind == "ident":
                parts.insert(0, toks[j - 1].text)
                j -= 2
            out.add(".".join(parts))
        return out

    def fields(self) -> set[str]:
        """Names written after a dot (``x.sub``)."""
        toks = self.tokens
        return {
            toks[i + 1].text
            for i in range(len(toks) - 1)
            if toks[i].text == "." and toks[i + 1].kind == "ident"
        }

    @property
    def head(self) -> str:
        """The name the statement defines (its first identifier), '' if none."""
        return self.tokens[0].text if self.tokens and self.tokens[0].kind == "ident" else ""


def tokens(source: str) -> list[tuple[int, Token]]:
    """(line start flag, token) pairs: the flag is 1 for a token starting a line at column 0."""
    out: list[tuple[int, Token]] = []
    i, n, at_col0 = 0, len(source), True
    while i < n:
        ch = source[i]
        if ch == "\n":
            i, at_col0 = i + 1, True
            continue
        if ch in _SPACE:
            i, at_col0 = i + 1, False
            continue
        first = 1 if at_col0 else 0
        at_col0 = False
        if ch == "#":
            end = source.find("\n", i)
            i = n if end < 0 else end
            continue
        if ch == '"':
            end = _string_end(source, i)
            out.append((first, Token("string", _decode(source[i:end]))))
            i = end
        elif ch == "`":
            end = source.find("`", i + 1)
            end = n if end < 0 else end + 1
            out.append((first, Token("string", source[i + 1 : end - 1])))
            i = end
        elif match := _IDENT.match(source, i):
            out.append((first, Token("ident", match.group())))
            i = match.end()
        elif match := _NUMBER.match(source, i):
            out.append((first, Token("number", match.group())))
            i = match.end()
        else:
            two = source[i : i + 2]
            text = two if two in (":=", "==", "!=", "<=", ">=") else ch
            out.append((first, Token("punct", text)))
            i += len(text)
    return out


def _string_end(source: str, start: int) -> int:
    i = start + 1
    while i < len(source) and source[i] not in '"\n':
        i += 2 if source[i] == "\\" else 1
    return min(i + 1, len(source))


def _decode(quoted: str) -> str:
    try:
        value = json.loads(quoted)
    except ValueError:
        return quoted.strip('"')
    return value if isinstance(value, str) else quoted


def statements(source: str) -> list[Statement]:
    """The module's top-level statements; a closing bracket at column 0 ends the one before."""
    out: list[list[Token]] = []
    for first, tok in tokens(source):
        closing = tok.kind == "punct" and tok.text in "}])"
        if not out or (first and not closing):
            out.append([])
        out[-1].append(tok)
    return [Statement(tuple(toks)) for toks in out]


def string_literals(source: str) -> list[str]:
    return [t.text for _, t in tokens(source) if t.kind == "string"]
