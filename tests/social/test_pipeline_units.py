from __future__ import annotations

from pathlib import Path

import pytest

from ingest.social.fingerprint import fingerprint, looks_like_repost, normalise
from ingest.social.model import SocialPost, parse_post
from ingest.social.pipeline import assign_originals, unique
from ingest.social.terms import TermMatcher, TermsError, parse_terms, read_terms

EXAMPLES = Path(__file__).parents[2] / "examples" / "social"


def test_fingerprint_ignores_urls_mentions_markers_punctuation() -> None:
    a = "招行APP又闪退了！！ https://t.cn/abc"
    b = "转发微博 //@小李: 招行app 又闪退了 @客服"
    assert normalise(a) == "招行app又闪退了"
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint("https://t.cn/x @someone") is None
    assert looks_like_repost(b) and looks_like_repost("RT @bob: hi") and not looks_like_repost(a)


def test_terms_chinese_without_spaces_and_latin_words() -> None:
    m = TermMatcher(
        parse_terms({"brands": {"招商银行": ["招行", "CMB"]}, "keywords": {"排队": []}})
    )
    assert m.tag("今天去招行排队两小时").brands == ["招商银行"]
    assert m.tag("今天去招行排队两小时").keywords == ["排队"]
    assert m.tag("cmb is fine").brands == ["招商银行"]
    assert m.tag("CMBC is another bank").brands == []
    assert read_terms(EXAMPLES / "terms.toml")["products"]["CREDIT-CARD"] == [
        "信用卡",
        "credit card",
    ]
    with pytest.raises(TermsError):
        parse_terms({"brandz": {}})


def post(pid: str, t: str) -> SocialPost:
    return SocialPost("weibo", pid, "同一段话", t)


def test_originals_earliest_wins_across_batches() -> None:
    known: dict = {}
    batch = [post("b", "2025-03-02T00:00:00Z"), post("a", "2025-03-01T00:00:00Z")]
    assert assign_originals(batch, ["f", "f"], known) == [None if False else "weibo:a", None]
    assert assign_originals([post("c", "2025-03-03T00:00:00Z")], ["f"], known) == ["weibo:a"]
    assert assign_originals([post("a", "2025-03-01T00:00:00Z")], ["f"], known) == [None]


def test_unique_keeps_last() -> None:
    posts, repeats = unique([post("a", "1"), post("a", "2"), post("b", "3")])
    assert [p.created_at for p in posts] == ["2", "3"] and repeats == 1


def test_post_ids_and_handles_are_bounded_and_visible() -> None:
    # QA finding: a 10 000-character postId was stored (a 13 KB cursor) and a handle holding
    # U+202E (right-to-left override) showed as another.
    base = {"id": "1", "text": "招商银行", "author": "bob", "created_at": "2025-01-01T00:00:00Z"}
    for field, value, why in [
        ("id", "x" * 257, "longer than 256"),
        ("reply_to", "y" * 300, "longer than 256"),
        ("author", "rtl\u202euser", "invisible formatting"),
        ("author", "a\u200bb", "invisible formatting"),
    ]:
        with pytest.raises(ValueError, match=f"{field}: .*{why}"):
            parse_post({**base, field: value}, "weibo")
    # An emoji sequence joined by U+200D is visible, and 256 characters are an id still.
    kept = parse_post({**base, "id": "z" * 256, "author": "家\U0001f468\u200d\U0001f469"}, "weibo")
    assert (len(kept.post_id), kept.author_handle) == (256, "家\U0001f468\u200d\U0001f469")


def test_parse_post_reasons() -> None:
    with pytest.raises(ValueError, match="created_at"):
        parse_post({"id": 1, "text": "好"}, "weibo")
    p = parse_post({"id": 7, "text": "好", "created_at": 1740787200, "platform": "Forum"}, "weibo")
    assert (p.post_id, p.platform, p.created_at) == ("7", "forum", "2025-03-01T00:00:00Z")
