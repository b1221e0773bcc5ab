"""Invisible characters between a number's digits or a handle's letters (QA, session 25): ID,
card and phone numbers, e-mail addresses, @handles and profile links are found through them,
masked whole (the invisible characters inside included) and left out of the search text;
and the accounts Weibo's HTML link markup names (href='/n/<name>', usercard='name=<name>')
are masked as the @handle they wrap."""

from __future__ import annotations

import time

import pytest

from privacy.masking import hash_token, mask_mentions, mask_quoted
from shared.post_text import personal_spans, search_text, visible

KEY = b"k" * 32
PARTIAL = {
    "PHONE": "partial",
    "EMAIL": "partial",
    "NATIONAL_ID": "partial",
    "SOCIAL_HANDLE": "partial",
}
# The brand analyst's profile ("social"): numbers and addresses redacted, handles hashed.
SOCIAL = {"PHONE": "redact", "EMAIL": "redact", "NATIONAL_ID": "redact", "SOCIAL_HANDLE": "hash"}

# Invisible characters of every sort the definition names: format characters (Cf), the
# combining grapheme joiner, a variation selector, a Mongolian one, Hangul fillers.
INVISIBLES = [
    "\u00ad", "\u200b", "\u200c", "\u200d", "\u200e", "\u2060", "\u2061", "\u2063", "\ufeff",
    "\u034f", "\u180e", "\u180b", "\ufe0f", "\U000e0101", "\u115f", "\u1160", "\u3164",
    "\uffa0", "\u202e", "\U000e0020",
]  # fmt: skip


@pytest.mark.parametrize("mark", INVISIBLES)
def test_invisible_characters_are_seen_through(mark: str) -> None:
    assert visible(f"1{mark}2{mark}{mark}3") == "123"


@pytest.mark.parametrize(
    ("text", "kind", "partial"),
    [
        ("招行身份证 110105\u206019900102\u20600022", "NATIONAL_ID", "110105********0022"),
        ("招行卡号6222\u00ad0212\u00ad3456\u00ad7890\u00ad128", "BANK_CARD", "***************0128"),
        ("招行电话 138\ufeff1234\ufeff5678", "PHONE", "138****5678"),
        ("邮箱 zhang\u200b.san@\u200bqq\u2060.com 谢谢", "EMAIL", "z***@qq.com"),
        ("招行 @\u200bzhangsan 说的", "SOCIAL_HANDLE", "z******n"),
        ("招行 @zhang\u200dsan 说的", "SOCIAL_HANDLE", "z******n"),
        ("看 weibo\u200b.com/u/\u200b1234\u200c567890 吧", "SOCIAL_HANDLE", "1********0"),
    ],
)
def test_a_number_address_or_handle_with_invisible_characters_is_masked_whole(
    text: str, kind: str, partial: str
) -> None:
    (span,) = personal_spans(text)
    start, end, found = span
    assert found == kind
    # The span runs from the piece's first visible character to its last, the invisible
    # ones between included: nothing of the piece is left around it.
    assert visible(text[start]) and visible(text[end - 1])
    masked = mask_quoted(text, PARTIAL, KEY)
    assert masked == text[:start] + partial + text[end:]
    # Hashed, the same token as the piece written without them (joinable with the field's).
    if kind != "BANK_CARD":  # a card is hashed as its digits, below its mode's kind
        hashed = mask_quoted(text, {kind: "hash" for kind in SOCIAL}, KEY)
        assert hashed == text[:start] + hash_token(visible(text[start:end]), kind, KEY) + text[end:]
    # Search text: none of its parts.
    searched = search_text(text)
    for part in ("19900102", "0022", "6222", "3456", "0128", "5678", "1234", "zhang", "san"):
        assert part not in searched, (part, searched)


@pytest.mark.parametrize(
    "mark", ["\u200c", "\u200d", "\u200e", "\u2061", "\u2063", "\u034f", "\u180e"]
)
def test_every_invisible_character_between_a_phones_digits_is_seen_through(mark: str) -> None:
    text = f"招行电话 138{mark}1234{mark}5678"
    assert mask_quoted(text, SOCIAL, KEY) == "招行电话 ***"
    assert "5678" not in search_text(text) and "138" not in search_text(text)


def test_a_brand_analyst_sees_no_digit_of_an_id_card_or_phone_and_a_handle_hashed() -> None:
    texts = {
        "招行身份证 110105\u206019900102\u20600022": "招行身份证 ***",
        "招行卡号6222\u00ad0212\u00ad3456\u00ad7890\u00ad128": "招行卡号***",
        "招行电话 138\ufeff1234\ufeff5678": "招行电话 ***",
        "招行 @\u200bzhangsan 说的": "招行 @\u200b{} 说的".format(
            hash_token("zhangsan", "SOCIAL_HANDLE", KEY)
        ),
    }
    for text, shown in texts.items():
        assert mask_quoted(text, SOCIAL, KEY) == shown


def test_text_without_personal_data_keeps_its_invisible_characters() -> None:
    text = "招\u200b行 👍\ufe0f 服务好"
    assert personal_spans(text) == ()
    assert mask_quoted(text, SOCIAL, KEY) == text


def test_a_long_run_of_invisible_characters_between_digits_is_masked_and_finishes() -> None:
    # Hostile input: many invisible characters between each digit. The span is found in the
    # text without them (one translate) and read back through an index map, so the work is
    # one pass over the text whatever its marks; a regex with "[\u200b...]*" between each
    # digit would be tried again at each of them.
    for run in (1_000, 20_000):
        gap = "\u200b\u2060\u00ad\ufe0f" * run
        text = (
            "身份证 " + gap.join("110105199001020022") + " 卡号 " + gap.join("6222021234567890128")
        )
        started = time.perf_counter()
        spans = personal_spans(text)
        elapsed = time.perf_counter() - started
        assert [kind for *_, kind in spans] == ["NATIONAL_ID", "BANK_CARD"]
        assert mask_quoted(text, SOCIAL, KEY) == "身份证 *** 卡号 ***"
        assert elapsed < 10, elapsed  # 1.4 M characters: a generous bound, not a benchmark
    # Invisible characters alone, and between letters: no span, and no blow-up.
    assert personal_spans("\u200b" * 200_000 + "a" + "\u2060" * 200_000) == ()


def test_the_work_of_seeing_through_invisible_characters_grows_with_the_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Counted, not timed (a loaded machine flakes timings): the characters the scans are
    # handed are the visible text's alone, whatever the run of marks between its digits.
    from shared import post_text

    handed: list[int] = []
    real = post_text._visible_spans

    def counted(text: str) -> tuple[tuple[int, int, str], ...]:
        handed.append(len(text))
        return real(text)

    monkeypatch.setattr(post_text, "_visible_spans", counted)
    for run in (100, 10_000):
        text = "电话 " + ("\u200b" * run).join("13812345678")
        assert post_text.personal_spans(text) == ((3, len(text), "PHONE"),)
    assert handed == [14, 14]


WEIBO_HTML = (
    "<a href='/n/李小龙abc' usercard='name=李小龙abc'>@李小龙abc</a> 招行客服态度不错<br />点赞"
)


def test_weibo_link_markup_names_no_account_in_clear() -> None:
    token = hash_token("李小龙abc", "SOCIAL_HANDLE", KEY)
    assert mask_mentions(WEIBO_HTML, "hash", "SOCIAL_HANDLE", KEY) == (
        f"<a href='/n/{token}' usercard='name={token}'>@{token}</a> 招行客服态度不错<br />点赞"
    )
    assert "李小龙" not in search_text(WEIBO_HTML) and "abc" not in search_text(WEIBO_HTML)
    assert "招行客服态度不错" in search_text(WEIBO_HTML)
    assert mask_mentions(WEIBO_HTML, "reveal", "SOCIAL_HANDLE", KEY) == WEIBO_HTML


@pytest.mark.parametrize(
    ("html", "account"),
    [
        ('<a href="/u/1234567890" usercard="id=1234567890">@小明</a>', "1234567890"),
        ("<a href=/n/zhang_san>@zhang_san</a>", "zhang_san"),
        ('<a href = "/n/%E5%BC%A0%E4%B8%89">x</a>', "%E5%BC%A0%E4%B8%89"),
        ("<a usercard='id=7234567890&refer_flag=1'>x</a>", "7234567890"),
        ("<a HREF='/N/Zhang-San?from=feed'>x</a>", "Zhang-San"),
    ],
)
def test_relative_weibo_profile_links_and_usercards_are_masked(html: str, account: str) -> None:
    redacted = mask_mentions(html, "redact", "SOCIAL_HANDLE", KEY)
    assert account not in redacted and "***" in redacted
    assert account.lower() not in search_text(html)


@pytest.mark.parametrize(
    "html",
    [
        "<a href='/status/4890123456789099'>全文</a>",  # a post, not a profile
        "<img src='/n/abc.png'> <a href='/topic/招行'>#招行#</a>",  # no href to a profile
        "<a class='n/abc'>看 /n/abc</a>",  # not an href
    ],
)
def test_other_weibo_markup_stays(html: str) -> None:
    assert mask_mentions(html, "redact", "SOCIAL_HANDLE", KEY) == html


def test_weibo_markup_with_a_long_run_of_spaces_finishes() -> None:
    text = "href" + " " * 200_000 + "=" + "usercard=" * 20_000
    started = time.perf_counter()
    assert personal_spans(text) == ()
    assert time.perf_counter() - started < 10
