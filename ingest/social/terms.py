"""Brand, product and keyword tagging from a TOML terms file.

    [brands]
    "招商银行" = ["招行", "CMB"]
    [products]
    CC-GOLD = ["金卡", "gold card"]
    [keywords]
    "投诉" = []

Each name matches itself and its aliases as substrings (Chinese needs no spaces); Latin
aliases match case-insensitively and not inside a longer run of Latin letters, digits and
underscores (``ABC`` is not in ``abc_123``, ``CMB`` not in ``CMBC``); traditional Chinese
matches as simplified (招商銀行 is 招商银行: text and aliases both go through
``shared.post_text.simplified``, the fold sentiment and term search use). A bank's short name
read across two words (成交|行情) and a bank's name read as the trade (中国|银行业协会) are no
match. One compiled alternation per category, longest alias first, finds every term in one pass
over the text.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.post_text import simplified

CATEGORIES = ("brands", "products", "keywords")

# The default brands: the six large state-owned banks and the national joint-stock banks
# (China's 12; 恒丰, 浙商 and 渤海 are left out as rarely seen in posts). Each alias is one that
# names the bank and little else: a Chinese short name only where it is no ordinary word
# (not 平安 "safe", 民生 "livelihood", 光大 "glorious", 华夏 "China", 兴业 "start a business";
# not 中信 or 广发 either: the CITIC and GF groups' securities and fund firms share them), a
# Latin abbreviation as a whole word only (CIB is not inside CIBC, CMB not inside CMBC), an
# English name with "Bank" in it where the bare name is the wider group ("Ping An Bank", not
# Ping An insurance; "CITIC Bank"). The English full names ending "of China" are aliases so
# that "Agricultural Bank of China" is 农业银行, not 中国银行 ("Bank of China" inside it: the
# longest match at the leftmost place wins).
DEFAULT_TERMS: dict[str, dict[str, list[str]]] = {
    "brands": {
        "招商银行": ["招行", "CMB", "China Merchants Bank"],
        "工商银行": ["工行", "ICBC", "Industrial and Commercial Bank of China"],
        "建设银行": ["建行", "CCB", "China Construction Bank"],
        "中国银行": ["中行", "Bank of China"],
        "农业银行": ["农行", "ABC", "Agricultural Bank of China"],
        # 交行: the bank's own short name (交行信用卡, 交行买单吧).
        "交通银行": ["交行", "BOCOM", "Bank of Communications"],
        # 邮储: short for 邮政储蓄 (postal savings), the bank's business and no other word;
        # 邮政储蓄银行 also finds 中国邮政储蓄银行.
        "邮储银行": ["邮储", "邮政储蓄银行", "PSBC", "Postal Savings Bank of China"],
        # 浦发: short for 浦东发展 (Pudong Development) as only this bank uses it.
        "浦发银行": ["浦发", "浦东发展银行", "SPDB", "Shanghai Pudong Development Bank"],
        "兴业银行": ["CIB"],
        "民生银行": ["CMBC", "Minsheng Bank"],
        "光大银行": ["CEB", "Everbright Bank"],
        "中信银行": ["CITIC Bank"],
        "华夏银行": ["Hua Xia Bank", "Huaxia Bank"],
        # 广东发展银行: the bank's former name; 广发信用卡: its card (GF Securities has none).
        "广发银行": ["广东发展银行", "广发信用卡", "CGB", "Guangfa Bank"],
        # 平安口袋银行: the bank's app.
        "平安银行": ["平安口袋银行", "Ping An Bank"],
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


# A Latin word's characters: an alias beginning (ending) with one matches only where none
# precedes (follows) it, so ABC is not found in "weixin: abc_123456" nor CMB in "CMBC", but is
# in "ABC银行" and "ABC,": Chinese has no spaces, so only ASCII word characters are a boundary.
_WORD = "A-Za-z0-9_"
# A bank's short name "X行" across two common words: the character before it makes a word with
# X, and 行 begins the next (成交|行情 is no 交行). Not matched after those characters, in any
# terms file; "去交行", "在中行", "工行的" still are.
_NOT_AFTER = {
    "交行": "成提递移转外社公",  # 成交行情, 提交行政复议, 移交/转交行政, 外交/社交行为, 公交行驶
    "中行": "其空集暗",  # 其中行, 空中行走, 集中行动, 暗中行事
    "工行": "施加员职化",  # 施工行为, 加工行业, 员工/职工行为, 化工行业
}

# And the character after: a bank's short name "X行" whose 行 begins a common word with the next
# character (交|行程, 工|行政, 中|行动, 招|行业: QA, session 22) is no bank, in any terms file's
# two-character alias ending 行, except where that character begins a word of its own that
# reads on from the bank's name (招行业务, 招行业绩, 中行动态, 工行政策, 交行程序员). Only
# words that rarely follow a bank's name are listed: not 行为 (中行为客户提供), 行人
# (工行人员, 中行人民币), 行走 (去工行走一趟), 行销 (中行销户), 行星 (招行星级), 行情
# (招行情况), 行李 (中行李经理), 行使, 行列; nor 行长: 中行行长 is the bank's president (its
# second 行 follows 中行) and 中行长期 the bank.
_NOT_BEFORE = {"程": "序", "政": "策", "动": "态", "业": "务绩", "驶": "", "踪": ""}
_SHORT_NAME_END = "行"

# And a bank's name ending 银行 whose 银行 begins a word for the whole trade with the next
# characters: 中国|银行业 is "China's banking industry" (中国银行业协会, the old regulator
# 中国银行业监督管理委员会), 中国|银行保险监督管理委员会 the regulator 银保监会 (中国银行保险业:
# the banking and insurance trades), 中国|银行间市场 the interbank market; none is Bank of
# China (QA, session 23). In any terms file's name or alias of three or more characters ending
# 银行, so 工商银行业 is no ICBC either. Only whole phrases of the trade are listed: 业 or 间
# after a bank's name is as often a word of its own that reads on from the name (招商银行间歇性
# 故障, 中国银行间接持有, 建设银行业已恢复, 工商银行间隔三个月, 招商银行业内口碑, 中国银行业务,
# 中国银行业绩, 与建设银行间的合作), and all of those name the bank. 银行业 is the
# trade before 的, 协会, 监督/监管, 金融机构, 整体, 和保险 (银行业和保险业监督管理委员会) or at the
# end of the text or a phrase (中国银行业。); 银行间 before 市场, 债券, 同业, 拆借, 拆放, 外汇;
# 银行保险 before 监督/监管 or as 银行保险业 (so 中国银行保险业务 still matches,
# 中国银行保险箱 too).
# No Unicode word character (CJK, letters, digits) may follow the bare 业: punctuation, a space
# or the end of the text.
_TRADE_AFTER_BANK = (
    r"(?:保险)?业(?:的|协会|监督|监管|金融机构|整体|和保险|(?!\w))",
    "间(?:市场|债券|同业|拆借|拆放|外汇)",
    "保险监督",
    "保险监管",
)
_BANK_NAME_END = "银行"


def _lookahead(words: dict[str, str]) -> str:
    return "|".join(f"{w}(?![{then}])" if then else w for w, then in words.items())


# What follows a bank's name read as the trade: there the name is matched as a group that
# tags nothing (:func:`_compile`), and no shorter alias inside it matches either (恒丰 in
# 恒丰银行业); ingest.social.retag finds the posts stored before this rule by it.
TRADE_WORDS = f"(?:{'|'.join(_TRADE_AFTER_BANK)})"


def is_bank_name(alias: str) -> bool:
    """A name or alias the trade words apply to: three or more characters ending 银行."""
    return len(alias) > len(_BANK_NAME_END) and alias.endswith(_BANK_NAME_END)


def as_trade(alias: str) -> str:
    """The pattern of ``alias`` (a bank's name, :func:`is_bank_name`) read as the trade, as
    one group."""
    return f"({re.escape(alias)}(?={TRADE_WORDS}))"


def _not_before(alias: str) -> str:
    if len(alias) != 2 or not alias.endswith(_SHORT_NAME_END):
        return ""
    return f"(?!{_lookahead(_NOT_BEFORE)})"


def _pattern(alias: str) -> str:
    def word(char: str) -> bool:
        return char.isascii() and (char.isalnum() or char == "_")

    before = rf"(?<![{_WORD}])" if word(alias[:1]) else ""
    if alias in _NOT_AFTER:
        before = rf"(?<![{_NOT_AFTER[alias]}])"
    after = rf"(?![{_WORD}])" if word(alias[-1:]) else _not_before(alias)
    return before + re.escape(alias) + after


@dataclass
class _Category:
    regex: re.Pattern[str] | None
    canonical: dict[str, str]  # casefolded alias -> name

    def find(self, text: str) -> list[str]:
        if self.regex is None:
            return []
        found: dict[str, None] = {}
        for match in self.regex.finditer(text):
            if match.lastindex is None:  # a group: a bank's name read as the trade
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
    # A bank's name read as the trade is matched too, as a group that finds nothing, so that
    # no shorter alias inside it is found there either (恒丰 in 恒丰银行业).
    patterns = [
        p for a in ordered for p in ([as_trade(a)] if is_bank_name(a) else []) + [_pattern(a)]
    ]
    return _Category(re.compile("|".join(patterns), re.IGNORECASE), canonical)


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

    def named(self, category: str, name: str) -> str | None:
        """The term of ``category`` that ``name`` names (its name, an alias, another
        spelling, folded as :meth:`tag` folds them), None for none."""
        return self._categories[category].canonical.get(simplified(name.strip()).casefold())

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
        # utf-8-sig: a leading BOM (Windows editors write one) is not TOML; dropped.
        doc = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise TermsError(f"terms file {path} not found; fix C360_TERMS") from None
    except OSError as exc:  # a directory, no read permission, ...
        raise TermsError(f"terms file {path}: {exc.strerror or exc}; fix C360_TERMS") from None
    except UnicodeDecodeError:
        raise TermsError(f"terms file {path}: not UTF-8 text; fix C360_TERMS") from None
    except tomllib.TOMLDecodeError as exc:
        raise TermsError(f"{path}: not valid TOML ({exc})") from None
    return parse_terms(doc, str(path))


__all__ = [
    "DEFAULT_TERMS",
    "TRADE_WORDS",
    "Tags",
    "TermMatcher",
    "TermsError",
    "as_trade",
    "is_bank_name",
    "parse_terms",
    "read_terms",
]
