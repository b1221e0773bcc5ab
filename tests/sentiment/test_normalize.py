from __future__ import annotations

from sentiment.features import tokens
from sentiment.normalize import (
    BANK,
    MENTION,
    REPOST,
    SERVICE,
    URL,
    emoticons,
    normalize,
    own_words_first,
)


def test_traditional_full_width_and_repeats() -> None:
    assert normalize("中國銀行的服務真好！！！！") == f"{BANK}的服务真好!!"
    assert normalize("ＡＢＣ哈哈哈哈哈") == "abc哈哈"


def test_urls_mentions_and_hashtags_become_placeholders() -> None:
    text = normalize("看这里 http://t.cn/A6xyz @小明同学 #吐槽大会# 真的假的")
    assert URL in text and MENTION in text
    assert "http" not in text and "小明同学" not in text
    assert "吐槽大会" in text and "#" not in text


def test_repost_chain_keeps_the_authors_words_first() -> None:
    own, chain = own_words_first("说得对//@老王: 太差了//@小李：同感")
    assert own == "说得对" and chain == "太差了 同感"
    text = normalize("说得对//@老王: 太差了")
    assert text.startswith("说得对") and REPOST in text and text.endswith("太差了")


def test_emoticons_are_whole_tokens() -> None:
    body, found = emoticons("好开心[哈哈][哈哈]，气死[怒]")
    assert found == ["哈哈", "哈哈", "怒"] and "[" not in body
    toks = tokens("好开心[哈哈]")
    assert "[哈哈]" in toks and "开心" in toks and "哈哈" not in toks


def test_domain_nouns_are_masked_and_end_ngrams() -> None:
    text = normalize("招商银行的信用卡太好用了")
    assert text == f"{BANK}的{SERVICE}太好用了"
    toks = tokens("招商银行的信用卡太好用了")
    # No feature says "mentions a bank or a card"; n-grams do not cross the masked nouns.
    assert not any(BANK in t or SERVICE in t for t in toks)
    assert "的" in toks and "太好用了" in toks and "行的" not in toks
