"""Profile links in a post's text (weibo.com/u/<uid>, space.bilibili.com/<uid>, ...): their
identifying part masked like an @handle and left out of the searched text; links that name
no one shown and searched as written; X links and @handles as before."""

from __future__ import annotations

import re

import pytest

from privacy.masking import hash_token, mask_mentions
from shared.post_text import PROFILE_LINKS, QUOTED_HANDLE, normalise, search_text

KEY = b"k" * 32

# (link as written, its identifying part): at least one per row of PROFILE_LINKS.
PROFILES = [
    ("https://x.com/secret_handle_42/status/1234567890", "secret_handle_42"),
    ("twitter.com/SecretHandle", "SecretHandle"),
    ("https://x.com/i/user/1234567001", "1234567001"),
    ("https://twitter.com/intent/user?screen_name=SecretHandle2", "SecretHandle2"),
    ("https://weibo.com/u/1234567890", "1234567890"),
    ("https://www.weibo.com/u/1234567891?is_hot=1", "1234567891"),
    ("m.weibo.cn/u/2234567890", "2234567890"),
    ("https://m.weibo.cn/profile/3234567890", "3234567890"),
    ("weibo.com/n/张小明", "张小明"),
    ("weibo.com/n/%E5%BC%A0%E4%B8%89", "%E5%BC%A0%E4%B8%89"),
    ("https://weibo.com/zhangxiaoming88", "zhangxiaoming88"),
    ("https://weibo.com/4234567890/NxyzAbc12", "4234567890"),  # a post's link names its author
    ("Weibo.COM/U/5234567890", "5234567890"),
    ("https://weibo.com/p/1005057234567890/home?from=page_100505", "1005057234567890"),
    ("https://m.weibo.cn/p/index?containerid=1076037234567891&luicode=1", "1076037234567891"),
    # A post's link naming the page it was opened from: a user's.
    (
        "https://m.weibo.cn/status/4890123456789099?luicode=10000011&lfid=1005057234567892",
        "1005057234567892",
    ),
    ("https://www.douyin.com/user/MS4wLjABAAAA-secret_9", "MS4wLjABAAAA-secret_9"),
    ("https://www.iesdouyin.com/share/user/MS4wLjABAAAAsecret", "MS4wLjABAAAAsecret"),
    ("https://v.douyin.com/iRNBho6/", "iRNBho6"),
    (
        "https://www.xiaohongshu.com/user/profile/5f3a9b0c000000000100abcd",
        "5f3a9b0c000000000100abcd",
    ),
    ("http://xhslink.com/a/Xy7AbCd", "Xy7AbCd"),
    ("http://xhslink.com/m/4Kd9ZqW", "4Kd9ZqW"),
    ("https://space.bilibili.com/12345678?spm_id_from=333", "12345678"),
    ("https://m.bilibili.com/space/22345678", "22345678"),
    ("https://b23.tv/AbC12de", "AbC12de"),
    ("https://www.zhihu.com/people/zhang-xiao-ming-88", "zhang-xiao-ming-88"),
    ("https://www.zhihu.com/org/some-company", "some-company"),
    ("https://www.facebook.com/john.smith.988", "john.smith.988"),
    ("https://m.facebook.com/profile.php?id=100012345678", "100012345678"),
    ("facebook.com/people/John-Smith/100098765432", "John-Smith/100098765432"),
    ("fb.com/jane.lee", "jane.lee"),
    ("https://fb.me/jane.lee.77", "jane.lee.77"),
    ("https://www.instagram.com/jane.doe_88/", "jane.doe_88"),
    ("instagram.com/stories/jane.doe_89/3141592653", "jane.doe_89"),
    ("http://instagr.am/jane.doe_90", "jane.doe_90"),
    ("https://www.linkedin.com/in/zhang-xiaoming-1a2b3c", "zhang-xiaoming-1a2b3c"),
    ("https://cn.linkedin.com/in/li-hua-77", "li-hua-77"),
    ("https://www.linkedin.com/profile/view?id=AAkAAA12345&trk=x", "AAkAAA12345"),
    ("https://www.tiktok.com/@jane.doe.official/video/7300000000000", "jane.doe.official"),
    ("https://vm.tiktok.com/ZMabc123/", "ZMabc123"),
    ("https://www.youtube.com/@jane.doe.vlog", "jane.doe.vlog"),
    ("https://www.youtube.com/channel/UCabc-123_x", "UCabc-123_x"),
    # A WeChat official account's article or profile page names the account.
    ("https://mp.weixin.qq.com/s?__biz=MzA5NjE2MjExMQ==&mid=2650&idx=1", "MzA5NjE2MjExMQ=="),
    (
        "https://mp.weixin.qq.com/mp/profile_ext?action=home&__biz=MzI4NjE2MjExMg%3D%3D#wechat",
        "MzI4NjE2MjExMg%3D%3D",
    ),
]

# Links that name no one: the bank's own site, articles, posts by id, videos, search.
NOT_PROFILES = [
    "https://weibo.com/ttarticle/p/show?id=2309404962180473651405",
    "https://m.weibo.cn/status/4890123456789012",
    "https://m.weibo.cn/detail/4890123456789013",
    "https://weibo.com/tv/show/1034:4890123456789014",
    "https://s.weibo.com/weibo?q=招商银行",
    "https://weibo.com/p/1008087a8941058aaf4df5147042ce104568da",  # a topic
    "https://weibo.com/p/1001603849727862021229",  # an article
    "https://weibo.com/help",
    "https://m.weibo.cn/p/index?containerid=10080811d6e5c3b8641062e9ae6b7b26604ba5&extparam=x",
    "https://m.weibo.cn/status/4890123456789015?luicode=10000011&mblogid=NxyzAbc13",
    "https://www.douyin.com/video/7300000000000000001",
    "https://www.xiaohongshu.com/explore/64ab0c1d000000001203abcd",
    "https://www.bilibili.com/video/BV1xx411c7mD",
    "https://www.zhihu.com/question/123456789/answer/987654321",
    "https://zhuanlan.zhihu.com/p/123456789",
    "https://www.facebook.com/watch/?v=1234567890",
    "https://www.facebook.com/photo.php?fbid=1234567890",
    "https://www.instagram.com/p/Cx1AbCdEfGh/",
    "http://instagr.am/p/Cx1AbCdEfGi/",
    "https://mp.weixin.qq.com/s/AbCdEf12345",
    "https://mp.weixin.qq.com/s?mid=2650&idx=1",
    "https://www.linkedin.com/company/china-merchants-bank",
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "https://www.cmbchina.com/personal/creditcard/",
    "http://t.cn/A6x7yZ2k",
    "https://fox.com/news/secret",
    "https://a.x.com/notahandle",
    "https://notweibo.com/u/1234567890",
    # A platform's name ending another site's name in a URL is that site's.
    "https://myfacebook.com/john.smith",
    "https://shop.notinstagram.com/jane.doe",
    "http://a-weibo.com/u/1234567890",
    # Full-width or escaped, a page that names no one still names no one.
    "ｗｅｉｂｏ．ｃｏｍ／ｈｅｌｐ",
    "ｗｅｉｂｏ．ｃｏｍ／ｔｔａｒｔｉｃｌｅ／ｐ／ｓｈｏｗ？ｉｄ＝２３０９４０４",
    "https://www.instagram.com/%70/Cx1AbCdEfGj/",
    "facebook.com/%68elp",
    # Ordinary bank texts.
    "招商银行Facebook主页和YouTube频道同步更新，信用卡年费减免见官网。",
    "Our Weibo and WeChat accounts: search CMB. 还款日T+1。",
    "ｗｗｗ．ｃｍｂｃｈｉｎａ．ｃｏｍ／ｐｅｒｓｏｎａｌ，利率３．５％，5%折扣",
]


def row_of(match: re.Match[str]) -> int:
    """Which PROFILE_LINKS row matched: groups 1-2 are the @handle, then two per row."""
    return ((match.lastindex or 0) - 1) // 2 - 1


@pytest.mark.parametrize(("link", "handle"), PROFILES)
def test_a_profile_links_identifying_part_is_masked_and_not_searched(
    link: str, handle: str
) -> None:
    text = f"招行客服态度很好 {link} 点赞"
    hashed = mask_mentions(text, "hash", "SOCIAL_HANDLE", KEY)
    assert hashed == text.replace(handle, hash_token(handle, "SOCIAL_HANDLE", KEY))
    assert mask_mentions(text, "redact", "SOCIAL_HANDLE", KEY) == text.replace(handle, "***")
    assert mask_mentions(text, "reveal", "SOCIAL_HANDLE", KEY) == text
    searched = search_text(text)
    assert handle.lower() not in searched
    assert searched.startswith("招行客服态度很好 ") and searched.endswith(" 点赞")
    # Only the identifying part is left out: the rest of the link stays searchable.
    assert searched == text.replace(handle, "").lower()


def test_every_profile_link_row_is_tested() -> None:
    rows = {row_of(m) for link, _ in PROFILES for m in QUOTED_HANDLE.finditer(link)}
    assert rows == set(range(len(PROFILE_LINKS)))


@pytest.mark.parametrize("link", NOT_PROFILES)
def test_links_that_name_no_one_are_shown_and_searched_as_written(link: str) -> None:
    text = f"招行 {link} 看看"
    assert mask_mentions(text, "hash", "SOCIAL_HANDLE", KEY) == text
    assert search_text(text) == normalise(text)


def test_x_links_and_handles_as_before() -> None:
    text = "//@angry_li: 见 https://x.com/secret_42/status/1 和 @王小明-2025 www.twitter.com/ab"
    assert search_text(text) == "//@: 见 https://x.com//status/1 和 @ www.twitter.com/"
    redacted = mask_mentions(text, "redact", "SOCIAL_HANDLE", KEY)
    assert redacted == "//@***: 见 https://x.com/***/status/1 和 @*** www.twitter.com/***"


def test_a_sentence_ending_after_a_link_keeps_its_full_stop() -> None:
    text = "联系 facebook.com/john.smith. 或 instagram.com/jane.doe。"
    assert search_text(text) == "联系 facebook.com/. 或 instagram.com/。"


@pytest.mark.parametrize(("link", "handle"), PROFILES)
def test_a_profile_link_written_straight_after_chinese_text_is_masked(
    link: str, handle: str
) -> None:
    # Chinese posts put no space before a link; \w matches Chinese (QA, session 15).
    text = f"招行主页{link}点个赞"
    redacted = mask_mentions(text, "redact", "SOCIAL_HANDLE", KEY)
    assert handle not in redacted and "***" in redacted
    assert handle.lower() not in search_text(text)


def test_a_profile_link_with_a_port_is_masked() -> None:
    text = "见 https://weibo.com:443/u/6234567895 。"
    assert mask_mentions(text, "redact", "SOCIAL_HANDLE", KEY) == (
        "见 https://weibo.com:443/u/*** 。"
    )
    assert "6234567895" not in search_text(text)


def full_width(text: str) -> str:
    """ASCII letters, digits and punctuation as their full-width forms (ｗｅｉｂｏ．ｃｏｍ)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.mark.parametrize(("link", "handle"), PROFILES)
def test_a_profile_link_in_full_width_characters_is_masked(link: str, handle: str) -> None:
    # Matched as NFKC reads it, masked as written: the rest keeps its full-width form.
    text = f"招行客服 {full_width(link)} 点赞"
    written = full_width(handle)
    redacted = mask_mentions(text, "redact", "SOCIAL_HANDLE", KEY)
    assert redacted == text.replace(written, "***")
    assert normalise(handle) not in search_text(text)
    assert search_text(text) == normalise(text.replace(written, ""))


@pytest.mark.parametrize(
    ("link", "handle"),
    [
        ("weibo.com/%75/8234567890", "8234567890"),
        ("weibo.com/u/%38%32%33%34", "%38%32%33%34"),
        ("https://www.%66acebook.com/%6Aohn.smith", "%6Aohn.smith"),
        ("instagram.com/%6A%61ne.doe", "%6A%61ne.doe"),
        ("space.bilibili.com/%31%32%33", "%31%32%33"),
        ("x.com/%69/user/8234567892", "8234567892"),
    ],
)
def test_a_profile_link_with_percent_escaped_letters_is_masked(link: str, handle: str) -> None:
    # Letters escaped are read decoded, masked as written.
    text = f"见 {link} 。"
    redacted = mask_mentions(text, "redact", "SOCIAL_HANDLE", KEY)
    assert redacted == text.replace(handle, "***")
    assert search_text(text) == normalise(text.replace(handle, ""))


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Facebookfacebook.com/john.smith 客服", "Facebookfacebook.com/*** 客服"),
        ("关注Weiboweibo.com/u/9234567890", "关注Weiboweibo.com/u/***"),
        ("Follow2instagram.com/jane.doe.", "Follow2instagram.com/***."),
        ("YouTubeyoutube.com/@cmb.fans", "YouTubeyoutube.com/@***"),
        (
            "Ｆａｃｅｂｏｏｋｆａｃｅｂｏｏｋ．ｃｏｍ／ｊｏｈｎ",
            "Ｆａｃｅｂｏｏｋｆａｃｅｂｏｏｋ．ｃｏｍ／***",
        ),
        # The URL's own host is another site's; its quoted @handle is one still.
        ("https://nottiktok.com/@jane", "https://nottiktok.com/@***"),
    ],
)
def test_a_profile_link_glued_to_latin_letters_is_masked(text: str, masked: str) -> None:
    assert mask_mentions(text, "redact", "SOCIAL_HANDLE", KEY) == masked
    assert search_text(text) == normalise(masked.replace("***", ""))


@pytest.mark.parametrize(
    "text",
    [
        "Box.com/team and fox.com/news",  # x.com is no platform name glued to letters
        "Myspace.bilibili.com/12345678",
        "Facebookfacebook.com/help 和 Weiboweibo.com/ttarticle/p/show?id=2309404",
        "Instagraminstagram.com/p/Cx1AbCdEfGh/",
        "Facebook page, YouTube channel, weibo.com",
    ],
)
def test_glued_words_that_make_no_profile_link_stay(text: str) -> None:
    assert mask_mentions(text, "redact", "SOCIAL_HANDLE", KEY) == text
    assert search_text(text) == normalise(text)


def test_a_handle_quoted_with_a_full_width_at_sign_is_masked() -> None:
    # Chinese input methods write "＠": NFKC reads it as "@".
    text = "//＠angry_li：招行客服 ＠王小明 你好"
    redacted = mask_mentions(text, "redact", "SOCIAL_HANDLE", KEY)
    assert redacted == "//＠***：招行客服 ＠*** 你好"
    assert search_text(text) == normalise("//＠：招行客服 ＠ 你好")


@pytest.mark.parametrize(
    ("link", "masked"),
    [
        (
            "https://m.weibo.cn/u/8234567893?uid=8234567893&luicode=10000011&lfid=1005058234567893",
            "https://m.weibo.cn/u/***?uid=***&luicode=10000011&lfid=***",
        ),
        (
            "https://twitter.com/intent/follow?screen_name=SecretHandle3&amp;user_id=8234567894",
            "https://twitter.com/intent/follow?screen_name=***&amp;user_id=***",
        ),
        ("weibo.com/zhangxiaoming89?uid=8234567895#x", "weibo.com/***?uid=***#x"),
        # A link glued to the query of the one before is read as a link of its own.
        (
            "weibo.com/u/8234567896?x=1weibo.com/u/8234567897?uid=8234567897",
            "weibo.com/u/***?x=1weibo.com/u/***?uid=***",
        ),
        # A uid starting as a topic's id does (1008...) is still a uid.
        (
            "m.weibo.cn/status/4890123456789016?uid=1008234567",
            "m.weibo.cn/status/4890123456789016?uid=***",
        ),
    ],
)
def test_an_account_named_again_in_a_links_query_is_masked_too(link: str, masked: str) -> None:
    text = f"招行 {link} 看看"
    assert mask_mentions(text, "redact", "SOCIAL_HANDLE", KEY) == f"招行 {masked} 看看"
    assert search_text(text) == normalise(f"招行 {masked} 看看".replace("***", ""))
