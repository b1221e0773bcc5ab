from __future__ import annotations

from pathlib import Path

import pytest

from sentiment.batch import BatchScorer, chunks
from sentiment.labels import Label, is_chinese, label_for
from sentiment.linear import ALLOWED_EMOTIONS, BUNDLED
from sentiment.scorer import Scorer, ScorerConfig

# The four posts from issue 12 that snownlp labelled NEGATIVE.
ISSUE_POSTS = {
    "星河银行的手机银行太好用了，转账秒到，客服也很耐心，点赞！": Label.POSITIVE,
    "星河银行信用卡提额了，很开心，谢谢": Label.POSITIVE,
    "今天去招商银行深圳支行办信用卡，客户经理特别耐心，服务很好，点赞！": Label.POSITIVE,
    "招行武汉网点几点下班？今天想去办一卡通": Label.NEUTRAL,
}
# Questions about opening hours and services are NEUTRAL (in SMP2020 a question is often an
# angry rhetorical one). Written for this test: in neither the seed posts nor the bank set.
SERVICE_QUESTIONS = [
    "建行周六下午还营业吗？想去补办银行卡",
    "请问工行网点几点开门，想去开个户",
    "中信银行几点下班啊，下班后想去办个业务",
    "农行营业厅今天开到几点？要去取钱",
]


def test_issue_posts_and_service_questions() -> None:
    """Issue 12's four posts (snownlp: all NEGATIVE) and questions like its fourth one."""
    scores = Scorer().score_many([*ISSUE_POSTS, *SERVICE_QUESTIONS])
    got = [s.label for s in scores]
    assert got == [*ISSUE_POSTS.values(), *[Label.NEUTRAL] * len(SERVICE_QUESTIONS)], got


# Posts as users write them, then with what real posts carry appended: a date, a time, an order
# number, a card tail, a phone number, an amount. Written for this test (in neither the seed
# posts nor the bank set). Issue 12 QA: "信用卡年费不合理 12345678" read NEUTRAL (P(neg) 0.05)
# and 7,904 of 8,000 posts ending in a number came out NEUTRAL.
NUMBER_POSTS = {
    "信用卡年费不合理": Label.NEGATIVE,
    "招行APP闪退": Label.NEGATIVE,
    "转账失败了三次，客服电话一直打不通，气死了": Label.NEGATIVE,
    "被乱扣手续费，投诉了也没人管": Label.NEGATIVE,
    "网点排队太久了，窗口只开一个，太离谱": Label.NEGATIVE,
    "提额成功了，谢谢招行，开心": Label.POSITIVE,
    "客户经理很专业，耐心解答了我的问题，点赞": Label.POSITIVE,
    "退款很快就到账了，服务真不错": Label.POSITIVE,
    "请问信用卡账单日可以修改吗？": Label.NEUTRAL,
    "中国银行发布了新的存款利率公告": Label.NEUTRAL,
}
NUMBER_SUFFIXES = [
    " 12345678",
    " 20250301",
    " 2025-03-01 14:30",
    " 订单号AB20250301123",
    " 尾号6789",
    " 13800138000",
    " 卡号6222 0212 3456 7890",
    " 12,345.67",
    "（2025/3/1）",
]


def test_a_number_appended_never_changes_the_label() -> None:
    scorer = Scorer()
    posts = list(NUMBER_POSTS)
    alone = [s.label for s in scorer.score_many(posts)]
    assert alone == list(NUMBER_POSTS.values()), alone
    flipped = [
        (post + suffix, score.label)
        for suffix in NUMBER_SUFFIXES
        for post, score in zip(posts, scorer.score_many([p + suffix for p in posts]), strict=True)
        if score.label is not NUMBER_POSTS[post]
    ]
    assert not flipped, flipped


# QA, session 23: "浦发银行的房贷审批很快" (SPDB's mortgage approval is fast) read NEGATIVE.
# Not the bank's name (masked: any bank, or none, scored the same) but 审批 (approval), which
# alone read 96 % NEGATIVE; now a masked banking noun. Written for this test (in neither the
# seed posts nor the bank set), before the retrained model scored them; one more written then,
# "招商银行的信用卡审批好快，三天就下卡了", still reads NEGATIVE (sentiment/MODEL.md, "Approval").
APPROVAL_POSTS = {
    "浦发银行的房贷审批很快": Label.POSITIVE,
    "建行的经营贷审批挺快的": Label.POSITIVE,
    "平安银行的贷款审批真快，第二天就放款了": Label.POSITIVE,  # session 14's probe
    "工行的房贷审批通过了，效率不错": Label.POSITIVE,
    "中信银行的贷款审批太慢了，等了一个月": Label.NEGATIVE,
    "农行的房贷审批拖了半年，烦死了": Label.NEGATIVE,
}
BANK_NAMES = ["浦发银行", "招商银行", "中国银行", "工行", "星河银行", "这家银行"]


def test_a_loans_approval_is_read_for_what_is_said_of_it() -> None:
    got = {
        post: s.label
        for post, s in zip(APPROVAL_POSTS, Scorer().score_many(list(APPROVAL_POSTS)), strict=True)
    }
    assert got == APPROVAL_POSTS


@pytest.mark.parametrize("said", ["的房贷审批很快", "到账很快", "的服务很好", "的客服态度太差"])
def test_the_banks_name_never_moves_the_score(said: str) -> None:
    scores = Scorer().score_many([name + said for name in BANK_NAMES])
    assert len({(s.label, s.score) for s in scores}) == 1, [(s.label, s.score) for s in scores]


def test_labels_by_threshold() -> None:
    assert label_for(0.9) is Label.POSITIVE
    assert label_for(0.5) is Label.NEUTRAL
    assert label_for(0.1) is Label.NEGATIVE
    assert label_for(None) is Label.UNSUPPORTED
    assert label_for(0.5, positive=0.5, negative=0.2) is Label.POSITIVE


def test_is_chinese() -> None:
    assert is_chinese("客服态度很好")
    assert is_chinese("招行APP又闪退了")
    assert not is_chinese("great service from the bank")
    assert not is_chinese("ok 好")


def test_chinese_posts_with_english_words_are_scored() -> None:
    # A word of English weighs as one unit against each Chinese character, not letter by
    # letter: bank posts mix in "customer service", "app", "waited 2 hours".
    assert is_chinese("招行 customer service 太差了 waited 2 hours!!!")
    assert is_chinese("工行的mobile banking又崩了，login不上")
    # Mostly English around a Chinese brand name: the Chinese model cannot judge it.
    assert not is_chinese("I love 招行, the new app is really great")
    assert not is_chinese("招行 app is great")
    scores = Scorer().score_many(["招行 customer service 太差了 waited 2 hours!!!"])
    assert scores[0].label is Label.NEGATIVE


@pytest.mark.parametrize(
    "text",
    ["招行 terrible service", "招行 app sucks", "招商银行 customer service is awful", "工商银行"],
)
def test_a_bank_name_alone_is_not_chinese_enough_to_score(text: str) -> None:
    # The model masks bank names: it would judge the English around nothing (QA, session 25).
    assert not is_chinese(text)
    assert Scorer().score_many([text])[0].label is Label.UNSUPPORTED


@pytest.mark.parametrize("text", ["转账中...", "在网点", "招行很好", "招商银行的app又崩了"])
def test_short_posts_about_banking_are_still_scored(text: str) -> None:
    assert is_chinese(text)


def test_default_scorer_gives_calibrated_three_class_scores_and_emotions() -> None:
    scorer = Scorer()
    assert scorer.version.startswith("c360-zh-") and len(scorer.version) == len("c360-zh-") + 8
    texts = [
        *ISSUE_POSTS,
        "太差劲了，排队两小时，气死了，再也不来",
        "请问明天网点几点开门？",
        "the app keeps crashing",
    ]
    scores = scorer.score_many(texts)
    for text, score in zip(ISSUE_POSTS, scores, strict=False):
        assert score.label is ISSUE_POSTS[text], (text, score)
    n = len(ISSUE_POSTS)
    assert scores[n].label is Label.NEGATIVE and scores[n].emotion == "angry"
    assert scores[n + 1].label is Label.NEUTRAL
    english = scores[n + 2]
    assert english.label is Label.UNSUPPORTED and english.score is None
    for s in scores[: n + 2]:
        p = s.probabilities
        assert p is not None and p.positive + p.neutral + p.negative == pytest.approx(1, abs=2e-3)
        assert s.score == pytest.approx(p.positive + 0.5 * p.neutral, abs=1e-3)
        assert s.emotion in ALLOWED_EMOTIONS[s.label.value]


def test_batch_scores_equal_one_by_one() -> None:
    scorer = Scorer()
    texts = ["服务很好很满意", "太差了非常失望", "hello", "明天去银行"]
    assert scorer.score_many(texts) == [scorer.score(t) for t in texts]


def test_snownlp_stays_selectable() -> None:
    scorer = Scorer(ScorerConfig("snownlp"))
    assert scorer.version == "snownlp-0.12.3"
    good = scorer.score("客服态度非常好，很满意，点赞")
    assert good.label is Label.POSITIVE and good.probabilities is None and good.emotion is None
    assert scorer.score("太差劲了，排队两小时，气死了，再也不来").label is Label.NEGATIVE


def test_a_model_file_path_is_loaded_and_versioned() -> None:
    by_path = Scorer(ScorerConfig(str(BUNDLED)))
    assert by_path.version == Scorer().version


def test_unknown_model_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="sentiment train"):
        Scorer(ScorerConfig(str(tmp_path / "nope.npz")))


def test_snownlp_pool_matches_in_process() -> None:
    texts = ["服务很好很满意", "太差了非常失望", "hello"] * 80  # above the in-process cut-off
    config = ScorerConfig("snownlp")
    with BatchScorer(config, max_workers=2) as pooled:
        assert pooled.score(texts) == Scorer(config).score_many(texts)
    assert [len(c) for c in chunks(list(range(250)), 100)] == [100, 100, 50]


def test_default_model_scores_in_process() -> None:
    texts = ["服务很好很满意", "太差了非常失望"] * 150
    with BatchScorer(max_workers=2) as batch:
        assert batch.score(texts) == Scorer().score_many(texts)
        assert batch._pool is None  # vectorised in-process; no pool for the linear model
