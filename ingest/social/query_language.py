"""The brand query language: Boolean search over posts, parsed by lark.

    (招行 OR 招商银行) AND (APP OR 手机银行) AND NOT 招聘
    "手机银行 闪退" platform:weibo label:NEGATIVE
    招行 NEAR/5 投诉        emotion:angry -author:spam_bot

- Terms and "quoted phrases" match the post text as substrings, case-insensitively (Chinese
  has no spaces, so a term is a substring, as in the terms file), NFKC-normalised, with the
  @handles it quotes left out (``shared.post_text.search_text``; the graph keeps that string
  as ``Post.searchText``): the API masks them, so no term may find them.
- AND, OR, NOT (upper case; ``-x`` is NOT x); juxtaposition is AND; AND binds before OR;
  parentheses group.
- ``a NEAR/n b``: both within n tokens of each other, either order (a token is one Han
  character or one latin word/number).
- Field prefixes: ``author:`` (handle), ``platform:``, ``lang:``, ``label:`` (POSITIVE,
  NEUTRAL, NEGATIVE, UNSUPPORTED), ``emotion:`` (happy, angry, sad, fear, surprise, neutral).
  A post without the field (not scored, no author, no language) does not match it, and so
  matches its NOT, in the graph as in :meth:`Query.matches` (every field is compared through
  ``coalesce``: never null).

:func:`parse` returns a :class:`Query`; its ``cypher``/``params`` are a condition on ``p``
(a Post) that the graph evaluates, ``exact`` says whether it is the whole query (NEAR is not:
the graph keeps posts holding both sides and :meth:`Query.matches` decides). Errors are
:class:`QueryError` with the 1-based column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from shared.post_text import normalise, search_text

MAX_QUERY = 1000
# Levels of AND/OR/NOT inside one another a query may nest (after NOT NOT x is x and a group
# of the same operator is merged into its parent). FalkorDB's Cypher parser takes time
# exponential in the nesting of parentheses (12 levels 41 ms, 16 levels 1 s, 20 levels more
# than 8 s, measured on FalkorDB 4.16 with no data), before any query timeout applies, and
# it runs on the graph server: a 41-character "NOT NOT ... a" held it for every user. A
# brand query needs three or four levels; each level here is at most one level of Cypher.
MAX_NESTING = 8
FIELDS = ("author", "platform", "lang", "label", "emotion")
LABELS = ("POSITIVE", "NEUTRAL", "NEGATIVE", "UNSUPPORTED")
EMOTIONS = ("happy", "angry", "sad", "fear", "surprise", "neutral")

GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND? not_expr)*
?not_expr: _NOT not_expr -> not_
         | "-" not_expr -> not_
         | near
?near: atom (NEAR atom)?
?atom: "(" or_expr ")"
     | FIELD value -> field
     | value
?value: PHRASE -> phrase
      | WORD -> word

NEAR.3: /NEAR\/[0-9]+(?![^\s()"])/
_OR.2: "OR"
_AND.2: "AND"
_NOT.2: "NOT"
FIELD.2: /(author|platform|lang|label|emotion):/
PHRASE: /"[^"]*"/
WORD: /[^\s()"\-:][^\s()":]*/

%import common.WS
%ignore WS
"""

_PARSER = Lark(GRAMMAR, parser="lalr", propagate_positions=True)


class QueryError(ValueError):
    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message if column is None else f"{message} (at column {column})")
        self.column = column


_TOKEN = re.compile(r"[\u4e00-\u9fff]|[a-z0-9]+")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(normalise(text))


# The AST: ("term", text) | ("field", name, value) | ("and"|"or", [nodes]) | ("not", node)
# | ("near", n, node, node).
Node = tuple[Any, ...]


@v_args(inline=True)
class _Build(Transformer[Token, Node]):
    def word(self, token: Token) -> Node:
        if str(token) in ("AND", "OR", "NOT"):
            raise QueryError(f"{token} needs a term on each side", token.column)
        if str(token).startswith("NEAR/"):  # NEAR/-1, NEAR/1.5, NEAR/: a typo, not a term
            raise QueryError("NEAR/n: n is a whole number of tokens (NEAR/5)", token.column)
        return ("term", normalise(str(token)))

    def phrase(self, token: Token) -> Node:
        text = " ".join(str(token)[1:-1].split())
        if not text:
            raise QueryError("empty phrase", token.column)
        return ("term", normalise(text))

    def field(self, name: Token, value: Node) -> Node:
        field = str(name)[:-1]
        raw = value[1]
        if field == "label":
            raw = raw.upper()
            if raw not in LABELS:
                raise QueryError(f"label: must be one of {', '.join(LABELS)}", name.column)
        if field == "emotion" and raw not in EMOTIONS:
            raise QueryError(f"emotion: must be one of {', '.join(EMOTIONS)}", name.column)
        return ("field", field, raw)

    def not_(self, node: Node) -> Node:
        return node[1] if node[0] == "not" else ("not", node)  # NOT NOT x is x

    def near(self, left: Node, op: Token, right: Node) -> Node:
        for side in (left, right):
            if side[0] != "term":
                raise QueryError("NEAR joins two terms or phrases", op.column)
        distance = int(str(op).split("/")[1])
        if distance > 100:
            raise QueryError("NEAR/n: n must be at most 100", op.column)
        return ("near", distance, left, right)

    def and_expr(self, *nodes: Node) -> Node:
        return ("and", _merged("and", nodes))

    def or_expr(self, *nodes: Node) -> Node:
        return ("or", _merged("or", nodes))


def _merged(kind: str, nodes: tuple[Node, ...]) -> list[Node]:
    """``nodes`` with a group of the same operator in parentheses merged in: a AND (b AND c)
    is a AND b AND c, one level."""
    merged: list[Node] = []
    for node in nodes:
        merged.extend(node[1] if node[0] == kind else [node])
    return merged


def _nesting(node: Node) -> int:
    """How many AND/OR/NOT levels ``node`` holds inside one another (a term or field: 0)."""
    kind = node[0]
    if kind == "not":
        return 1 + _nesting(node[1])
    if kind in ("and", "or"):
        return 1 + max(_nesting(n) for n in node[1])
    return 0


_PROPERTY = {
    "platform": "p.platform",
    "lang": "p.lang",
    "label": "p.sentimentLabel",
    "emotion": "p.sentimentEmotion",
}


@dataclass(frozen=True)
class Query:
    text: str
    tree: Node
    cypher: str
    params: dict[str, Any]
    exact: bool

    @property
    def fields(self) -> frozenset[str]:
        """The field prefixes the query uses (``author``, ``platform``, ...)."""
        return _fields(self.tree)

    def matches(self, post: dict[str, Any]) -> bool:
        """The whole query on a post row (text, platform, lang, authorHandle, sentiment*)."""
        return _matches(self.tree, post, search_text(str(post.get("text") or "")))


def _matches(node: Node, post: dict[str, Any], text: str) -> bool:
    kind = node[0]
    if kind == "term":
        return bool(node[1] in text)
    if kind == "field":
        return bool(_field_value(node[1], post) == node[2])
    if kind == "not":
        return not _matches(node[1], post, text)
    if kind == "and":
        return all(_matches(n, post, text) for n in node[1])
    if kind == "or":
        return any(_matches(n, post, text) for n in node[1])
    return near(tokens(text), tokens(node[2][1]), tokens(node[3][1]), node[1])


def _fields(node: Node) -> frozenset[str]:
    kind = node[0]
    if kind == "field":
        return frozenset({node[1]})
    if kind == "not":
        return _fields(node[1])
    if kind in ("and", "or"):
        return frozenset().union(*(_fields(n) for n in node[1]))
    return frozenset()  # a term, or NEAR of two terms


def _field_value(field: str, post: dict[str, Any]) -> str | None:
    value = {
        "author": post.get("authorHandle"),
        "platform": post.get("platform"),
        "lang": post.get("lang"),
        "label": post.get("sentimentLabel"),
        "emotion": post.get("sentimentEmotion"),
    }[field]
    if value is None:
        return None
    return str(value).upper() if field == "label" else normalise(str(value))


def _starts(words: list[str], seq: list[str]) -> list[int]:
    n = len(seq)
    return [k for k in range(len(words) - n + 1) if words[k : k + n] == seq] if n else []


def near(words: list[str], a: list[str], b: list[str], distance: int) -> bool:
    """Whether sequences a and b occur with at most ``distance`` tokens between them."""
    for i in _starts(words, a):
        for j in _starts(words, b):
            gap = j - (i + len(a)) if j >= i else i - (j + len(b))
            if 0 <= gap <= distance:
                return True
    return False


class _Compiler:
    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def param(self, value: Any) -> str:
        name = f"q{len(self.params)}"
        self.params[name] = value
        return f"${name}"

    def compile(self, node: Node) -> tuple[str, bool]:
        """(a condition every matching post meets, whether it is exactly the node)."""
        kind = node[0]
        if kind == "term":
            return f"coalesce(p.searchText, '') CONTAINS {self.param(node[1])}", True
        if kind == "field":
            name, value = node[1], node[2]
            if name == "author":
                return f"toLower(coalesce(p.authorHandle, '')) = {self.param(value)}", True
            if name in ("platform", "lang", "emotion"):
                return f"toLower(coalesce({_PROPERTY[name]}, '')) = {self.param(value)}", True
            # coalesce as for every other field: a post with no label compares false, not
            # null, so NOT label:X keeps it, as Query.matches does (NOT null is null, and a
            # null condition drops the post: the graph and the in-memory match disagreed).
            return f"toUpper(coalesce({_PROPERTY[name]}, '')) = {self.param(value)}", True
        if kind == "not":
            inner, exact = self.compile(node[1])
            return (f"NOT {_grouped(node[1], inner)}", True) if exact else ("true", False)
        if kind in ("and", "or"):
            parts = [(n, *self.compile(n)) for n in node[1]]
            joiner = " AND " if kind == "and" else " OR "
            cypher = joiner.join(_grouped(n, c) for n, c, _ in parts)
            return cypher, all(e for _, _, e in parts)
        left, _ = self.compile(node[2])
        right, _ = self.compile(node[3])
        return f"({left}) AND ({right})", False


def _grouped(node: Node, cypher: str) -> str:
    """``cypher`` of ``node`` as an operand of AND, OR or NOT: in parentheses only when it is
    an AND or OR itself (FalkorDB parses parentheses in time exponential in their nesting; a
    term's or field's condition, a function call and a comparison, binds tighter than NOT)."""
    return f"({cypher})" if node[0] in ("and", "or") else cypher


def parse(text: str) -> Query:
    """The query, or QueryError with the column of the problem."""
    if not text.strip():
        raise QueryError("the query is empty")
    if len(text) > MAX_QUERY:
        raise QueryError(f"the query is longer than {MAX_QUERY} characters")
    try:
        tree = _Build().transform(_PARSER.parse(text))
    except QueryError:
        raise
    except UnexpectedEOF:
        raise QueryError("the query ends too early", len(text) + 1) from None
    except UnexpectedToken as exc:
        if exc.token.type == "$END":
            raise QueryError("the query ends too early", len(text) + 1) from None
        raise QueryError(f"unexpected {exc.token!s}", exc.column) from None
    except UnexpectedCharacters as exc:
        where = exc.pos_in_stream or 0
        raise QueryError(f"unexpected character {text[where]!r}", exc.column) from None
    except UnexpectedInput as exc:
        raise QueryError("the query cannot be read", getattr(exc, "column", None)) from None
    except Exception as exc:  # lark wraps errors raised in the transformer
        inner = getattr(exc, "orig_exc", None)
        if isinstance(inner, QueryError):
            raise inner from None
        raise
    if _nesting(tree) > MAX_NESTING:
        raise QueryError(
            f"the query nests AND, OR and NOT more than {MAX_NESTING} levels deep: write it "
            "with fewer parentheses (a AND (b AND c) is a AND b AND c; NOT NOT a is a)"
        )
    compiler = _Compiler()
    cypher, exact = compiler.compile(tree)
    return Query(text, tree, cypher, compiler.params, exact)


__all__ = ["FIELDS", "MAX_NESTING", "MAX_QUERY", "Query", "QueryError", "near", "parse", "tokens"]
