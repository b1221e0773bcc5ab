from __future__ import annotations

from pathlib import Path

from sentiment.batch import BatchScorer, chunks
from sentiment.labels import Label, is_chinese, label_for
from sentiment.scorer import Scorer, ScorerConfig
from sentiment.train import train


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


def test_scorer_labels_and_unsupported() -> None:
    scorer = Scorer()
    assert scorer.version == "snownlp-0.12.3"
    assert scorer.score("客服态度非常好，很满意，点赞").label is Label.POSITIVE
    assert scorer.score("太差劲了，排队两小时，气死了，再也不来").label is Label.NEGATIVE
    english = scorer.score("the app keeps crashing")
    assert english.score is None and english.label is Label.UNSUPPORTED


def test_pool_matches_in_process() -> None:
    texts = ["服务很好很满意", "太差了非常失望", "hello"] * 80  # above the in-process cut-off
    with BatchScorer(max_workers=2) as pooled:
        assert pooled.raw(texts) == [Scorer().raw(t) for t in texts]
    assert [len(c) for c in chunks(list(range(250)), 100)] == [100, 100, 50]


def test_trained_model_is_loaded_and_versioned(tmp_path: Path) -> None:
    out = tmp_path / "model.marshal"
    version = train(["利率很高好评", "到账快好评"] * 5, ["手续费坑人差评", "闪退差评"] * 5, out)
    assert version.startswith("custom-") and len(version) == len("custom-") + 8
    scorer = Scorer(ScorerConfig(model=out))
    assert scorer.version == version
    assert scorer.raw("闪退差评") < 0.5 < scorer.raw("到账快好评")
