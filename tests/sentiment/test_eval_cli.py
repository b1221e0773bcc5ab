"""`c360 sentiment eval` on the example labelled CSV: the real snownlp scorer, printed figures."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app

LABELLED = Path(__file__).parents[2] / "examples" / "social" / "labelled.csv"


def test_eval_prints_accuracy_per_class_figures_and_confusion(data_dir: Path) -> None:
    result = CliRunner().invoke(
        app, ["sentiment", "eval", str(LABELLED)], env={"C360_DATA_DIR": str(data_dir)}
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "rows 40" in out and "accuracy 0." in out
    for label in ("POSITIVE", "NEUTRAL", "NEGATIVE"):
        assert label in out
    assert "precision" in out and "recall" in out and "F1" in out
    assert "confusion matrix" in out


def test_eval_names_a_bad_file(data_dir: Path, tmp_path: Path) -> None:
    env = {"C360_DATA_DIR": str(data_dir)}
    missing = CliRunner().invoke(app, ["sentiment", "eval", str(tmp_path / "none.csv")], env=env)
    assert missing.exit_code == 2 and "does not exist" in " ".join(missing.output.split())
    bad = tmp_path / "bad.csv"
    bad.write_text("text,mood\nhello,HAPPY\n", encoding="utf-8")
    wrong = CliRunner().invoke(app, ["sentiment", "eval", str(bad)], env=env)
    assert wrong.exit_code == 2 and "label" in wrong.output
