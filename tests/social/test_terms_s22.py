"""The default brand terms (QA probe of session 22): a Latin alias found inside a longer
word ("ABC" in a WeChat id), and the joint-stock banks that had no brand."""

from __future__ import annotations

import pytest

from ingest.social.terms import TermMatcher, parse_terms

DEFAULT = TermMatcher.default()


@pytest.mark.parametrize(
    ("text", "brands"),
    [
        # QA finding: tagged 农业银行 ("ABC" inside the id).
        ("联系我 weixin: abc_123456 领取理财福利", []),
        ("加我 abc123 详聊", []),
        ("邀请码 9abc", []),
        ("ABC银行的柜台又排队", ["农业银行"]),
        ("ABC, ICBC and CMB all charge it", ["农业银行", "工商银行", "招商银行"]),
        ("(abc)的app", ["农业银行"]),
    ],
)
def test_a_latin_alias_matches_only_as_a_whole_word(text: str, brands: list[str]) -> None:
    assert DEFAULT.tag(text).brands == brands


def test_a_word_boundary_holds_at_either_end_of_an_alias_of_a_file() -> None:
    m = TermMatcher(parse_terms({"brands": {"X": ["AB_1", "q银行", "银行q"]}}))
    assert m.tag("AB_1").brands == ["X"]
    assert m.tag("AB_12").brands == [] and m.tag("_AB_1").brands == []
    # A Chinese end needs no boundary, a Latin end does.
    assert m.tag("中q银行中").brands == ["X"] and m.tag("aq银行").brands == []
    assert m.tag("银行q中").brands == ["X"] and m.tag("银行q1").brands == []


@pytest.mark.parametrize(
    ("text", "brand"),
    [
        ("交通银行的信用卡额度又降了", "交通银行"),
        ("交行买单吧又闪退", "交通银行"),
        ("BOCOM credit card", "交通银行"),
        ("浦发银行客服电话打不通", "浦发银行"),
        ("浦发的理财收益还行", "浦发银行"),
        ("上海浦东发展银行", "浦发银行"),
        ("SPDB app", "浦发银行"),
        ("兴业银行的房贷批了", "兴业银行"),
        ("CIB mobile banking", "兴业银行"),
        ("民生银行网点排队两小时", "民生银行"),
        ("China Minsheng Bank and CMBC", "民生银行"),
        ("光大银行的手续费", "光大银行"),
        ("CEB's app", "光大银行"),
        ("中信银行信用卡盗刷", "中信银行"),
        ("China CITIC Bank", "中信银行"),
        ("华夏银行存款利率", "华夏银行"),
        ("广发银行", "广发银行"),
        ("广发信用卡年费", "广发银行"),
        ("平安银行的贷款", "平安银行"),
        ("平安口袋银行转账秒到", "平安银行"),
        ("邮储银行在县城", "邮储银行"),
        ("中国邮政储蓄银行", "邮储银行"),
        ("PSBC", "邮储银行"),
        ("招商银行", "招商银行"),
        ("招行", "招商银行"),
        ("興業銀行", "兴业银行"),  # traditional, folded to simplified
    ],
)
def test_the_national_joint_stock_banks_are_default_brands(text: str, brand: str) -> None:
    assert DEFAULT.tag(text).brands == [brand]


@pytest.mark.parametrize(
    "text",
    [
        "祝大家平安喜乐",  # 平安: safe
        "关注民生问题",  # 民生: livelihood
        "发扬光大",  # 光大: glorious
        "华夏文明五千年",  # 华夏: China
        "兴业证券的研报",  # 兴业: another firm
        "中信证券今天涨停",  # 中信: the group's securities firm
        "广发证券开户",  # 广发: GF Securities
        "Ping An insurance claim",  # the insurance group, not its bank
        "CIBC in Toronto",  # another bank; CIB not inside it
        "CEBU trip",
    ],
)
def test_ordinary_words_and_other_firms_name_no_bank(text: str) -> None:
    assert DEFAULT.tag(text).brands == []


def test_an_english_full_name_is_its_own_bank_not_bank_of_china() -> None:
    # "Bank of China" is inside each of these names: the longest match at the leftmost place.
    assert DEFAULT.tag("Agricultural Bank of China").brands == ["农业银行"]
    assert DEFAULT.tag("Industrial and Commercial Bank of China").brands == ["工商银行"]
    assert DEFAULT.tag("Postal Savings Bank of China").brands == ["邮储银行"]
    assert DEFAULT.tag("Bank of China, Bank of Communications").brands == [
        "中国银行",
        "交通银行",
    ]


@pytest.mark.parametrize(
    ("text", "brands"),
    [
        ("今天成交行情火爆", []),
        ("我已提交行政复议", []),
        ("公交行驶路线改了", []),
        ("其中行长说", []),
        ("集中行动", []),
        ("加工行业的贷款", []),
        ("员工行为规范", []),
        ("去交行办卡", ["交通银行"]),
        ("在中行存了定期", ["中国银行"]),
        ("工行的手续费", ["工商银行"]),
        ("成交行情和交通银行", ["交通银行"]),
    ],
)
def test_a_short_name_across_two_words_is_no_bank(text: str, brands: list[str]) -> None:
    assert DEFAULT.tag(text).brands == brands


@pytest.mark.parametrize(
    ("text", "brands"),
    [
        # QA findings (session 22): 行 begins a word with the character after the short name.
        ("交行程安排", []),
        ("工行政审批", []),
        ("中行动起来", []),
        ("我们公司招行业精英", []),
        ("建行驶入", []),
        ("农行踪不定", []),
        # The bank, the next word its own.
        ("交行的服务", ["交通银行"]),
        ("在中行办卡", ["中国银行"]),
        ("工行APP", ["工商银行"]),
        ("招行信用卡", ["招商银行"]),
        ("招行业务办理", ["招商银行"]),
        ("招行业绩快报", ["招商银行"]),
        ("中行动态", ["中国银行"]),
        ("工行政策调整", ["工商银行"]),
        ("交行程序员", ["交通银行"]),
        ("中行为小微企业提供贷款", ["中国银行"]),
        ("工行人员态度差", ["工商银行"]),
        # 中行行长: the bank's president (the 行 after 中行 is the second one).
        ("中行行长讲话", ["中国银行"]),
        ("中行长期理财", ["中国银行"]),
        ("招行行动", ["招商银行"]),
        # Traditional text is folded first.
        ("交行程安排與招商銀行", ["招商银行"]),
    ],
)
def test_a_short_name_before_a_word_of_its_行_is_no_bank(text: str, brands: list[str]) -> None:
    assert DEFAULT.tag(text).brands == brands


def test_the_next_character_rule_holds_for_a_terms_files_short_name() -> None:
    m = TermMatcher(parse_terms({"brands": {"宁波银行": ["宁行"]}}))
    assert m.tag("宁行动").brands == [] and m.tag("宁行动态").brands == ["宁波银行"]
