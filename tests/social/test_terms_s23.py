"""A bank's name read as the trade (QA, session 23): 中国银行 was found inside 中国银行业
("China's banking industry"), so industry news was tagged Bank of China."""

from __future__ import annotations

import pytest

from ingest.social.terms import TermMatcher, parse_terms

DEFAULT = TermMatcher.default()


@pytest.mark.parametrize(
    "text",
    [
        "中国银行业协会发布2024年度报告",
        "中国银行业整体不良率下降",
        "中国银行业监督管理委员会（银监会）",
        "中国银行保险监督管理委员会发布通知",
        "中国银行保险业的数字化转型",
        "中国银行间市场交易商协会",
        "中國銀行業協會",  # traditional, folded to simplified
        "工商银行业的龙头",  # the rule is the name's, not 中国银行's alone
        "工商银行业",  # at the end of the text
        "聊聊工商银行业，还有保险业",  # before punctuation
        "中国银行业金融机构",
        "中国银行业和保险业监督管理委员会",
        "中国银行业监管趋严",
        "中国银行间债券市场",
        "中国银行间同业拆借利率",
        "中国银行间拆放利率",
        "中国银行间外汇市场",
        "中国银行保险监管新规",
    ],
)
def test_a_bank_name_read_as_the_trade_is_no_mention(text: str) -> None:
    assert DEFAULT.tag(text).brands == []


@pytest.mark.parametrize(
    ("text", "brand"),
    [
        ("中国银行的网点排队", "中国银行"),
        ("今天在中国银行办了卡", "中国银行"),
        ("中国银行APP又闪退", "中国银行"),
        ("中国银行信用卡提额了", "中国银行"),
        ("中国银行保险箱租金", "中国银行"),
        ("中国银行业务办理太慢", "中国银行"),  # 业务: the bank's business
        ("中国银行业绩超预期", "中国银行"),  # 业绩: its results
        ("工商银行业务", "工商银行"),
        ("农业银行业务员很耐心", "农业银行"),
        ("中国银行业协会点名中行", "中国银行"),  # 中行 names the bank
        ("中国银行保险业务", "中国银行"),  # its insurance business
        # 业 and 间 beginning a word of their own after the name (review, session 23).
        ("招商银行间歇性系统故障，一下午登不上", "招商银行"),
        ("中国银行间接持有该公司股份", "中国银行"),
        ("建设银行业已恢复全部服务", "建设银行"),
        ("工商银行间隔三个月又收年费", "工商银行"),
        ("交通银行间或会多收一笔手续费", "交通银行"),
        ("招商银行业内口碑很好", "招商银行"),
        ("农业银行业余足球队", "农业银行"),
        ("与建设银行间的合作顺利", "建设银行"),
    ],
)
def test_a_bank_name_followed_by_its_own_business_still_matches(text: str, brand: str) -> None:
    assert DEFAULT.tag(text).brands == [brand]


def test_the_trade_words_apply_to_any_terms_file_bank_name() -> None:
    m = TermMatcher(parse_terms({"brands": {"恒丰银行": ["恒丰"], "星河": ["星河银行"]}}))
    assert m.tag("恒丰银行业务").brands == ["恒丰银行"]
    assert m.tag("恒丰银行业").brands == []
    assert m.tag("星河银行间市场").brands == [] and m.tag("星河银行的").brands == ["星河"]
    assert m.tag("星河银行间歇性故障").brands == ["星河"]
