"""Social-text normalisation for the linear scorer, pure: one function per concern.

Order matters: URLs and @mentions are replaced before the repost chain is split (a chain link is
``//@name:``), full-width forms are folded before emoticons are found (``［哈哈］``), and
Traditional characters are mapped to Simplified before anything is counted.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from shared.post_text import simplified  # the one traditional -> simplified fold

# Placeholders are private-use characters: one character each, so they form n-grams like any
# other character and never collide with real text.
URL = "\ue000"
MENTION = "\ue001"
REPOST = "\ue002"
BANK = "\ue003"
SERVICE = "\ue004"
NUMBER = "\ue005"
LATIN = "\ue006"

# Domain nouns are masked: in the public corpora a bank, a card or a hotline shows up mostly in
# complaints, so a model learns "mentions a credit card" as negative; on a bank's own stream
# every post mentions one. Masked, the model has to read what is said about them.
_BANK = re.compile(
    r"(?:中国)?[\u4e00-\u9fff]{2}银行|银行|招行|工行|建行|中行|农行|交行|邮储|浦发|兴业|"
    r"民生|中信|广发|微众|支付宝|微信支付|云闪付|央行"
)
_SERVICE = re.compile(
    "|".join(
        sorted(
            [
                "信用卡",
                "储蓄卡",
                "借记卡",
                "银行卡",
                "一卡通",
                "手机银行",
                "网上银行",
                "网银",
                "掌上生活",
                "app",
                "客服",
                "人工客服",
                "客户经理",
                "理财经理",
                "大堂经理",
                "柜员",
                "柜台",
                "网点",
                "营业厅",
                "支行",
                "分行",
                "atm",
                "u盾",
                "账户",
                "账单",
                "额度",
                "利率",
                "存款",
                "定期",
                "活期",
                "贷款",
                "房贷",
                "车贷",
                "理财",
                "基金",
                "转账",
                "汇款",
                "取款",
                "还款",
                # 审批 (a loan's or card's approval): 18 corpus texts, nearly all complaints
                # about bureaucracy (审批制, 退款审批), so alone it read 96 % NEGATIVE and
                # "浦发银行的房贷审批很快" NEGATIVE; on a bank's stream every loan post has it.
                "审批",
                "分期",
                "积分",
                "年费",
                "手续费",
                "征信",
                "存单",
                "外汇",
                "业务",
            ],
            key=len,
            reverse=True,
        )
    )
)

_URL = re.compile(r"(?:https?://|www\.)[^\s\u3000-\u303f\uff00-\uffef\u4e00-\u9fff]*|t\.cn/\w+")
# A repost link: "//@name:" or "//@name：" (full-width already folded by then).
_CHAIN = re.compile(r"//\s*@[^\s:：]{1,30}\s*[:：]?")
_MENTION = re.compile(r"@[\w\-\u4e00-\u9fff·]{1,30}")
# Weibo emoticons: [哈哈] [怒] [good] [doge]; short, no spaces or nested brackets.
_EMOTICON = re.compile(r"\[([^\[\]\s]{1,8})\]")
_HASHTAG = re.compile(r"#([^#]{1,40})#")
_REPEAT = re.compile(r"(.)\1{2,}")  # three or more of one character -> two
_SPACE = re.compile(r"\s+")
# A number: digits (ASCII after NFKC; \d also takes other scripts' digits), groups joined by
# one separator as in dates, times, amounts, card and phone numbers (2025-03-01, 12:30,
# 3,000.50, 400-820-0588, 6222 0212 3456 7890, 138 0013 8000: spaced, "138" alone read
# NEUTRAL), with the parentheses around it ("（2025/3/1）": as features they read NEUTRAL too).
# Letters around it stay: "ab12345678" -> "ab" + NUMBER.
_DIGITS = r"\d+(?:[ .,:/\-]\d+)*"
_NUMBER = re.compile(rf"\(\s*{_DIGITS}\s*\)|{_DIGITS}")
# Numbers of up to 3 digits stay as written (3天, 2小时, 500元, 88, 520): chosen on the
# calibration slice against collapsing every number (sentiment/MODEL.md, "Numbers").
KEPT_DIGITS = 3
# Latin runs this long (iphone, android, huawei, an English word) read as many n-grams as an
# order number; shorter ones are slang that carries sentiment (tm, sb, mmp, ok, nb, yyds).
LATIN_MIN = 6
# Weibo emoticons are matched first so "[lovely]" stays an emoticon.
_LATIN = re.compile(rf"(\[[^\[\]\s]{{1,8}}\])|[a-z]{{{LATIN_MIN},}}")


def fold_width(text: str) -> str:
    """Full-width letters, digits and punctuation to their ASCII forms (NFKC), lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def squeeze_repeats(text: str) -> str:
    """'哈哈哈哈哈' -> '哈哈', '!!!!' -> '!!': emphasis kept, length noise dropped."""
    return _REPEAT.sub(r"\1\1", text)


def own_words_first(text: str) -> tuple[str, str]:
    """(the author's own words, the reposted chain) of a Weibo ``//@`` repost."""
    parts = _CHAIN.split(text)
    own = parts[0].strip()
    chain = " ".join(p.strip() for p in parts[1:] if p.strip())
    return own, chain


def emoticons(text: str) -> tuple[str, list[str]]:
    """Text without its [emoticons], and the emoticon names in order."""
    found = _EMOTICON.findall(text)
    return (_EMOTICON.sub(" ", text) if found else text), found


def mask_domain(text: str) -> str:
    """Bank names -> BANK, banking products and channels -> SERVICE (after folding: lower case)."""
    return mask_banks(_SERVICE.sub(SERVICE, text))


def mask_banks(text: str) -> str:
    """Bank names -> BANK (after folding)."""
    return _BANK.sub(BANK, text)


def _number(match: re.Match[str]) -> str:
    text = match.group()
    return NUMBER if sum(c.isdigit() for c in text) > KEPT_DIGITS else text


def _latin(match: re.Match[str]) -> str:
    return match.group(1) or LATIN


def long_runs(text: str) -> str:
    """Each number of more than KEPT_DIGITS digits -> one NUMBER character, each Latin run of
    LATIN_MIN letters or more -> one LATIN character (after folding: lower case). As
    characters, the 1-4-grams of a date, an order number or a card tail outweighed a short
    post's words in the L2-normalised row and leaned NEUTRAL (finance news and questions carry
    numbers): "信用卡年费不合理 12345678" was NEUTRAL, without the number NEGATIVE. The
    features treat both marks as boundaries, never as features (sentiment/features.py)."""
    return _LATIN.sub(_latin, _NUMBER.sub(_number, text))


# Scoring reads each text through four tokenisers (n-grams, words, and the networks' characters
# and words), each from the normalised form: the model scores chunks smaller than this
# (sentiment/linear.py), so a text is normalised once.
NORMALIZED_CACHE = 4096


@lru_cache(maxsize=NORMALIZED_CACHE)
def normalize(text: str) -> str:
    """The canonical form scored and deduplicated: :func:`split_form` with long numbers and
    long Latin runs as placeholders (:func:`long_runs`)."""
    return long_runs(split_form(text))


def split_form(text: str) -> str:
    """Simplified, folded, URLs and mentions as placeholders, hashtag marks dropped, repeats
    squeezed, whitespace collapsed; a repost keeps the author's words first and the chain after
    a REPOST mark. The held-out split hashes this form (numbers as written), so it is the
    split the earlier models were measured on."""
    text = simplified(fold_width(text))
    text = _URL.sub(URL, text)
    own, chain = own_words_first(text)
    text = f"{own} {REPOST} {chain}" if chain else own
    text = _MENTION.sub(MENTION, text)
    text = _HASHTAG.sub(r" \1 ", text)
    text = squeeze_repeats(mask_domain(text))
    return _SPACE.sub(" ", text).strip()


__all__ = [
    "BANK",
    "KEPT_DIGITS",
    "LATIN",
    "LATIN_MIN",
    "MENTION",
    "NORMALIZED_CACHE",
    "NUMBER",
    "REPOST",
    "SERVICE",
    "URL",
    "emoticons",
    "fold_width",
    "long_runs",
    "mask_banks",
    "mask_domain",
    "normalize",
    "own_words_first",
    "simplified",
    "split_form",
    "squeeze_repeats",
]
