"""Brand, product and keyword tagging from a TOML terms file.

    [brands]
    "招商银行" = ["招行", "CMB"]
    [products]
    CC-GOLD = ["金卡", "gold card"]
    [keywords]
    "投诉" = []

Each name matches itself and its aliases as substrings (Chinese needs no spaces); Latin
aliases match case-insensitively and not inside a longer Latin word; traditional Chinese
matches as simplified (招商銀行 is 招商银行: text and aliases both go through
``shared.post_text.simplified``, the fold sentiment and term search use). One compiled alternation
per category, longest alias first, finds every term in one pass over the text.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.post_text import simplified

CATEGORIES = ("brands", "products", "keywords")

DEFAULT_TERMS: dict[str, dict[str, list[str]]] = {
    "brands": {
        "招商银行": ["招行", "CMB", "China Merchants Bank"],
        "工商银行": ["工行", "ICBC"],
        "建设银行": ["建行", "CCB"],
        "中国银行": ["中行", "Bank of China"],
        "农业银行": ["农行", "ABC"],
        "平安银行": ["平安", "Ping An"],
    },
    "products": {
        "CREDIT-CARD": ["信用卡", "credit card"],
        "MOBILE-APP": ["手机银行", "APP", "掌上生活"],
        "MORTGAGE": ["房贷", "按揭"],
        "WEALTH": ["理财", "基金"],
        "DEPOSIT": ["存款", "定期"],
    },
    "keywords": {
        "投诉": ["投诉", "维权"],
        "客服": ["客服", "热线"],
        "排队": ["排队"],
        "手续费": ["手续费", "年费"],
        "诈骗": ["诈骗", "盗刷"],
        "闪退": ["闪退", "崩溃"],
    },
}


class TermsError(ValueError):
    """The terms file cannot be used; the message says which entry and why."""


def _is_latin(alias: str) -> bool:
    return alias.isascii()


def _pattern(alias: str) -> str:
    escaped = re.escape(alias)
    if _is_latin(alias):
        return rf"(?<![A-Za-z]){escaped}(?![A-Za-z])"
    return escaped


@dataclass
class _Category:
    regex: re.Pattern[str] | None
    canonical: dict[str, str]  # casefolded alias -> name

    def find(self, text: str) -> list[str]:
        if self.regex is None:
            return []
        found: dict[str, None] = {}
        for match in self.regex.finditer(text):
            found[self.canonical[match.group(0).casefold()]] = None
        return list(found)


def _compile(entries: dict[str, list[str]]) -> _Category:
    canonical: dict[str, str] = {}
    for name, aliases in entries.items():
        for alias in (name, *aliases):
            canonical.setdefault(simplified(alias).casefold(), name)
    if not canonical:
        return _Category(None, {})
    ordered = sorted(canonical, key=len, reverse=True)
    return _Category(re.compile("|".join(_pattern(a) for a in ordered), re.IGNORECASE), canonical)


@dataclass
class Tags:
    brands: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)


class TermMatcher:
    def __init__(self, terms: dict[str, dict[str, list[str]]]) -> None:
        self.terms = terms
        self._categories = {c: _compile(terms.get(c, {})) for c in CATEGORIES}

    @classmethod
    def default(cls) -> TermMatcher:
        return cls(DEFAULT_TERMS)

    @classmethod
    def load(cls, path: Path | None) -> TermMatcher:
        return cls(DEFAULT_TERMS if path is None else read_terms(path))

    def tag(self, text: str) -> Tags:
        folded = simplified(text)
        return Tags(*(self._categories[c].find(folded) for c in CATEGORIES))


def parse_terms(doc: dict[str, Any], source: str = "terms") -> dict[str, dict[str, list[str]]]:
    """Check a parsed TOML document: each category a table of name -> list of aliases."""
    unknown = set(doc) - set(CATEGORIES)
    if unknown:
        raise TermsError(f"{source}: unknown section(s) {sorted(unknown)}; use {CATEGORIES}")
    out: dict[str, dict[str, list[str]]] = {}
    for category in CATEGORIES:
        table = doc.get(category, {})
        if not isinstance(table, dict):
            raise TermsError(f"{source}: [{category}] must be a table of name = [aliases]")
        entries: dict[str, list[str]] = {}
        for name, aliases in table.items():
            if isinstance(aliases, str):
                aliases = [aliases]
            if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
                raise TermsError(f"{source}: [{category}] {name} must be a list of strings")
            entries[name] = [a for a in aliases if a.strip()]
        out[category] = entries
    return out


def read_terms(path: Path) -> dict[str, dict[str, list[str]]]:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TermsError(f"terms file {path} not found; fix C360_TERMS") from None
    except OSError as exc:  # a directory, no read permission, ...
        raise TermsError(f"terms file {path}: {exc.strerror or exc}; fix C360_TERMS") from None
    except UnicodeDecodeError:
        raise TermsError(f"terms file {path}: not UTF-8 text; fix C360_TERMS") from None
    except tomllib.TOMLDecodeError as exc:
        raise TermsError(f"{path}: not valid TOML ({exc})") from None
    return parse_terms(doc, str(path))


__all__ = ["DEFAULT_TERMS", "Tags", "TermMatcher", "TermsError", "parse_terms", "read_terms"]
