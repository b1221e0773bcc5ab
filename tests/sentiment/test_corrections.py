"""Label corrections as training data: `c360 sentiment corrections --out FILE` exports what
people corrected (correctPostLabel) from the real graph, `c360 sentiment train --extra FILE`
trains on it; the shipped model is trained on the corpora alone."""

from __future__ import annotations

import csv
from pathlib import Path

from graph.repositories import social as repo
from graph.store import GraphStore
from sentiment import train
from sentiment.linear import BUNDLED, CLASSES, load
from tests.post_rows import post_row
from tests.sentiment.corpus import corpus_dir
from tests.social.conftest import invoke

# A made-up product name: in no corpus, so only the correction can teach the model about it.
CORRECTED = "蓝鲸宝新功能上线了，用了一下，嗡嗡嗡"
CREATED = "2025-03-01T00:00:00Z"


async def test_corrections_export_and_train_on_them(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    root = corpus_dir()
    await repo.upsert_posts(
        store,
        [
            post_row(f"c{i}", text, created_at=CREATED, platform="weibo", sentimentLabel="NEUTRAL")
            for i, text in enumerate([CORRECTED, "没人纠正过的帖子"])
        ],
    )
    await repo.correct_label(
        store, "weibo", "c0", "NEGATIVE", "analyst", "2025-03-05T01:00:00Z", "noise means broken"
    )
    out = tmp_path / "corrections.csv"
    exported = await invoke(["sentiment", "corrections", "--out", str(out)], cli_env)
    assert exported.exit_code == 0, exported.output
    assert "1 corrected post" in exported.output and "--extra" in exported.output
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows == [{"label": "NEGATIVE", "text": CORRECTED, "model_label": "NEUTRAL"}]

    with_extra, without = tmp_path / "with.npz", tmp_path / "without.npz"
    # The default networks on 100 rows a corpus: the correction is still the only teacher.
    args = ["sentiment", "train", "--corpus", str(root), "--limit", "100"]
    trained = await invoke([*args, "--out", str(with_extra), "--extra", str(out)], cli_env)
    assert trained.exit_code == 0, trained.output
    assert "1 of 1 --extra row(s)" in " ".join(trained.output.split())
    plain = await invoke([*args, "--out", str(without)], cli_env)
    assert plain.exit_code == 0, plain.output

    meta = load(with_extra).meta["training"]
    assert meta["extra_rows"] == 1
    assert meta["extra_sha256"] == train.extra_digest([("NEGATIVE", CORRECTED)])
    assert load(without).meta["training"]["extra_rows"] == 0
    neg = CLASSES.index("NEGATIVE")
    taught = load(with_extra).predict([CORRECTED]).probabilities[0]
    untaught = load(without).predict([CORRECTED]).probabilities[0]
    assert taught[neg] > untaught[neg] and CLASSES[int(taught.argmax())] == "NEGATIVE"


def test_extra_rows_never_bring_validation_texts_in(tmp_path: Path) -> None:
    kept_out = "星河银行的客服太棒了"
    result = train.train(
        corpus_dir(),
        tmp_path / "m.npz",
        exclude=[kept_out],
        limit=100,
        extra=[("POSITIVE", kept_out), ("NEGATIVE", "完全不一样的一句话")],
    )
    assert result.extra_rows == 1 and result.excluded == 1


async def test_bad_extra_file_is_a_user_error(cli_env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("label,text\nUNSUPPORTED,hello\n", encoding="utf-8")
    args = ["sentiment", "train", "--corpus", str(corpus_dir()), "--out", str(tmp_path / "m")]
    result = await invoke([*args, "--extra", str(bad)], cli_env)
    assert result.exit_code == 2 and "POSITIVE, NEUTRAL or NEGATIVE" in result.output
    missing = await invoke([*args, "--extra", str(tmp_path / "nope.csv")], cli_env)
    assert missing.exit_code == 2 and "sentiment corrections" in " ".join(missing.output.split())


def test_shipped_model_is_trained_on_the_corpora_alone() -> None:
    assert load(BUNDLED).meta["training"]["extra_rows"] == 0


async def test_corrections_to_unsupported_are_left_out_of_the_export(
    store: GraphStore, cli_env: dict[str, str], tmp_path: Path
) -> None:
    texts = {"u0": "招行 app sucks", "u1": "蓝鲸宝又崩了，转不了账"}
    await repo.upsert_posts(
        store,
        [
            post_row(pid, text, created_at=CREATED, sentimentLabel="NEUTRAL")
            for pid, text in texts.items()
        ],
    )
    at = "2025-03-05T01:00:00Z"
    await repo.correct_label(store, "forum", "u0", "UNSUPPORTED", "analyst", at, "English")
    await repo.correct_label(store, "forum", "u1", "NEGATIVE", "analyst", at, "an outage")
    out = tmp_path / "corrections.csv"
    exported = await invoke(["sentiment", "corrections", "--out", str(out)], cli_env)
    assert exported.exit_code == 0, exported.output
    said = " ".join(exported.output.split())
    assert "1 corrected to UNSUPPORTED left out" in said
    with out.open(encoding="utf-8", newline="") as fh:
        labels = [(r["label"], r["text"]) for r in csv.DictReader(fh)]
    # What `train --extra` takes: the three polarity labels only.
    assert ("NEGATIVE", texts["u1"]) in labels
    assert all(label in ("POSITIVE", "NEUTRAL", "NEGATIVE") for label, _ in labels)
