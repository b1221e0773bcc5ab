"""Training on a small slice of the real corpora (the full run takes minutes: not in CI), and
the shipped model checked against the code that trains it."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from rapidfuzz import fuzz, process
from typer.testing import CliRunner

from hub.cli import app
from sentiment import corpora, neural_train, train
from sentiment.linear import BUNDLED, EMOTIONS, FORMAT, FORMAT_LINEAR, load, network_logits
from sentiment.neural import WIDTHS
from sentiment.normalize import KEPT_DIGITS, LATIN_MIN, normalize
from tests.sentiment.corpus import corpus_dir

REPO = Path(__file__).resolve().parents[2]
BANK = REPO / "examples" / "social" / "bank_posts_labelled.csv"


def bank_texts() -> list[str]:
    with BANK.open(encoding="utf-8", newline="") as fh:
        return [row["text"] for row in csv.DictReader(fh)]


def test_training_is_deterministic_and_keeps_validation_texts_out(tmp_path: Path) -> None:
    root = corpus_dir()
    first_text = next(corpora.CORPORA[0].examples(root, limit=1)).text
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    steps: list[str] = []
    # Two networks (children fit side by side: gensim's skip-gram vectors then JAX for the
    # word one): their fits are deterministic too, whichever finishes first, and the trainer
    # checks that NumPy gives JAX's logits.
    nets = (("words", train.SEED), ("chars", 2))
    # 100 rows a corpus: the fewest that still hold out rows of every corpus.
    ra = train.train(root, a, exclude=[first_text], limit=100, networks=nets, on_step=steps.append)
    rb = train.train(root, b, exclude=[first_text], limit=100, networks=nets)
    assert a.read_bytes() == b.read_bytes() and ra.sha256 == rb.sha256
    assert steps == list(train.STEPS)
    assert ra.excluded == 1  # the text given to exclude was not trained on
    assert set(ra.holdout) == {c.name for c in corpora.CORPORA}
    model = load(a)
    assert model.version == ra.version and model.meta["training"]["limit"] == 100
    assert model.polar.stack is not None and model.meta["format"] == FORMAT
    assert [n.tokens for n in model.polar.networks] == ["words", "chars"]  # in the order asked
    words, chars = model.meta["features"]["networks"]
    assert (words["embed"], words["filters"]) == (neural_train.EMBED, neural_train.FILTERS)
    assert (words["tokens"], words["seed"]) == ("words", train.SEED)
    assert words["epochs"] == neural_train.WORD_EPOCHS and words["widths"] == list(WIDTHS)
    assert words["skipgram"] == neural_train.SKIPGRAM and "skipgram" not in chars
    assert (chars["tokens"], chars["seed"], chars["epochs"]) == ("chars", 2, neural_train.EPOCHS)
    assert "服务" in model.polar.networks[0].vocab  # words, not characters
    assert "服务" not in model.polar.networks[1].vocab
    pred = model.predict(["服务很好", "太差了"])
    assert pred.probabilities.shape == (2, 3)
    assert np.allclose(pred.probabilities.sum(axis=1), 1.0, atol=1e-5)
    # The stack reads the networks' mean logit: each network counts.
    texts = ["服务很好", "太差了", "还行吧"]
    both = network_logits(model.polar.networks, texts)
    alone = [n.logits(texts) for n in model.polar.networks]
    assert np.allclose(both, (alone[0] + alone[1]) / 2) and not np.allclose(alone[0], alone[1])


def test_one_network_per_seed_differs(tmp_path: Path) -> None:
    """Two character networks with different seeds are different networks (an ensemble
    of one network twice would be a waste of scoring time)."""
    root = corpus_dir()
    train.train(root, tmp_path / "c.npz", limit=100, networks=(("chars", 1), ("chars", 2)))
    model = load(tmp_path / "c.npz")
    one, two = model.polar.networks
    assert one.vocab == two.vocab and not np.allclose(one.embedding, two.embedding)


def test_cli_says_what_to_install_for_networks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the [train] extra the networks cannot be fit: said before minutes of linear
    fitting, with the way out (exit 2)."""
    monkeypatch.setattr("hub.cli.sentiment.find_spec", lambda name: None)
    out = tmp_path / "m.npz"
    args = ["sentiment", "train", "--corpus", str(corpus_dir()), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--network", "words"])
    assert result.exit_code == 2 and not out.exists()
    said = " ".join(result.output.split())
    assert "needs jax, optax, gensim" in said and "[train]" in said and "--linear" in said


def test_cli_networks(tmp_path: Path) -> None:
    """`--network words` trains the word network; a bad spec or `--linear` with `--network`
    is a user error (exit 2, before any work)."""
    out = tmp_path / "e.npz"
    args = ["sentiment", "train", "--corpus", str(corpus_dir()), "--out", str(out)]
    for bad, says in (
        (["--network", "bytes"], "chars or words"),
        (["--network", "words:x"], "whole number"),
        (["--linear", "--network", "chars"], "not both"),
    ):
        result = CliRunner().invoke(app, [*args, *bad])
        assert result.exit_code == 2, result.output
        assert says in result.output and not out.exists()
    result = CliRunner().invoke(app, [*args, "--network", "words", "--limit", "50"])
    assert result.exit_code == 0, result.output
    model = load(out)
    assert [n.tokens for n in model.polar.networks] == ["words"]
    result = CliRunner().invoke(app, [*args, "--linear", "--limit", "50"])
    assert result.exit_code == 0, result.output
    assert load(out).polar.networks == () and load(out).meta["format"] == FORMAT_LINEAR


def test_split_is_by_text_and_disjoint() -> None:
    splits = corpora.split(corpus_dir(), limit=400)
    held = {normalize(ex.text) for rows in splits.holdout.values() for ex in rows}
    assert held and not held & {normalize(ex.text) for ex in splits.train}
    assert corpora.bucket("同一句话") == corpora.bucket("同一句話")  # after normalisation


def test_missing_corpus_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="MANIFEST"):
        corpora.split(tmp_path)


def test_shipped_model_was_built_by_this_code() -> None:
    """The bundled file's recorded settings are the trainer's: a change to the training code
    without `c360 sentiment train --corpus ... --out sentiment/models/c360-zh-social.npz`
    fails here. (The bytes themselves are checked by rerunning that command.)"""
    meta = load(BUNDLED).meta
    t = meta["training"]
    assert t["limit"] is None and t["seed"] == train.SEED
    assert (t["alpha"], t["epochs"]) == (train.ALPHA, train.EPOCHS)
    assert t["polar_alpha"] == train.POLAR_ALPHA
    # The shipped model stacks the trainer's default networks (sentiment/MODEL.md, sixth round).
    nets = meta["features"]["networks"]
    assert [(n["tokens"], n["seed"]) for n in nets] == list(train.DEFAULT_NETWORKS)
    assert all(n["embed"] == neural_train.EMBED for n in nets) and meta["format"] == FORMAT
    assert t["corpus_weight"] == train.CORPUS_WEIGHT
    assert t["neutral_weight"] == train.NEUTRAL_WEIGHT
    assert t["seed_neutral_weight"] == train.SEED_NEUTRAL_WEIGHT
    assert t["extra_rows"] == 0 and t["extra_sha256"] is None  # the corpora alone
    assert meta["emotions"] == list(EMOTIONS)
    # Trained with long numbers and Latin runs as placeholders (sentiment/MODEL.md, "Numbers").
    assert meta["features"]["kept_digits"] == KEPT_DIGITS
    assert meta["features"]["latin_min"] == LATIN_MIN
    assert BUNDLED.stat().st_size <= 50 * 1024 * 1024


def test_bank_validation_set_is_balanced_and_never_trained_on() -> None:
    with BANK.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    counts = {
        label: sum(r["label"] == label for r in rows)
        for label in corpora.EMOTION_LABEL.values()
        if label
    }
    assert len(rows) >= 300 and min(counts.values()) >= 100
    texts = {normalize(t) for t in bank_texts()}
    assert len(texts) == len(rows)  # no duplicates
    seed = {normalize(ex.text) for ex in corpora.BANK_SEED.examples(Path("/"))}
    assert not texts & seed
    # Nor near copies: no seed post within 80% (edit-distance ratio) of a validation post.
    near = [
        (s, match)
        for s in seed
        if (match := process.extractOne(s, texts, scorer=fuzz.ratio, score_cutoff=80))
    ]
    assert not near, near
