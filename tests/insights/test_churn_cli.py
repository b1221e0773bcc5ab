"""`c360 churn train|eval` and `c360 recommend eval` on a book imported from the shipped CRM
examples or seeded, in a data dir of its own (its own embedded graph): one sentence and exit 2
for data the model cannot learn from, never a traceback; a model worse than the rule score is
not put in use."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "crm"


def c360(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from hub.cli import main; main()", *args],
        env={**os.environ, "C360_DATA_DIR": str(data_dir), "COLUMNS": "300"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def import_examples(data_dir: Path) -> None:
    for kind in ("advisors", "customers", "accounts"):
        # customers.csv holds two deliberately bad rows: that import reports them.
        c360(data_dir, "import", kind, str(EXAMPLES / f"{kind}.csv"), "--no-progress")


def test_churn_commands_on_the_example_crm_book_say_one_sentence(short_dir: Path) -> None:
    """H1: the examples' accounts have a date-only openedAt ("2019-06-01", kept as given):
    `churn train` and `churn eval` died with a TypeError traceback (naive vs aware)."""
    import_examples(short_dir)
    with (EXAMPLES / "accounts.csv").open(encoding="utf-8", newline="") as f:
        opened = {row["openedAt"] for row in csv.DictReader(f)}
    assert all(len(day) == 10 for day in opened), "the examples' openedAt are dates alone"
    for command in ("train", "eval"):
        done = c360(short_dir, "churn", command)
        out = done.stdout + done.stderr
        assert "Traceback" not in out, out
        assert done.returncode == 2, out
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "nothing to learn" in done.stderr and "Import more history" in done.stderr, out


def test_churn_train_keeps_the_rule_score_when_the_model_ranks_worse(short_dir: Path) -> None:
    """M7: on the 500-customer demo book the model ranks the hold-out worse than the rule
    score on both measures, and `churn train` saved it (and so put it in use) silently."""
    assert c360(short_dir, "seed", "--customers", "500").returncode == 0
    saved = short_dir / "insights" / "churn-model.json"
    done = c360(short_dir, "churn", "train")
    assert done.returncode == 0, done.stdout + done.stderr
    said = " ".join(done.stdout.split())
    assert "churn model not saved: the rule score ranks the hold-out better (AUC " in said
    assert "churnRisk keeps the rule score. Run with --force to use it anyway." in said, said
    assert not saved.exists()
    forced = c360(short_dir, "churn", "train", "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "churn model saved -> " in forced.stdout and saved.exists()


def test_recommend_eval_with_no_case_says_there_is_nothing_to_evaluate(short_dir: Path) -> None:
    """L2: on the 3-customer example book no customer is a hold-out case; `recommend eval`
    printed ratio=inf and exit 0, as if the recommender had won."""
    import_examples(short_dir)
    done = c360(short_dir, "recommend", "eval")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "ratio=" not in done.stdout and "Traceback" not in done.stderr, done
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "nothing to evaluate: none of the 3 customers is a case" in done.stderr, done.stderr


def test_every_run_that_profiles_the_book_is_audited(short_dir: Path) -> None:
    """QA (session 24): `churn train|eval` and `recommend train|eval` read every customer's
    history and left no audit record. Now one record per run: who (--by, else the OS user),
    how many customers it read, the model file it writes; a run that cannot learn from the
    book read it all the same (outcome error)."""
    import getpass

    from privacy.audit import AuditLog
    from privacy.keyring import KeyRing

    import_examples(short_dir)
    runs = [("churn", "eval", "--by", "ds1"), ("churn", "train", "--by", "ds1"),
            ("recommend", "train", "--by", "ds2"), ("recommend", "eval")]  # fmt: skip
    for args in runs:
        done = c360(short_dir, *args)
        assert "Traceback" not in done.stderr, done
    records = AuditLog(short_dir / "audit", KeyRing.load(short_dir)).read()
    made = {
        r["operation"]: (r["subject"], r["outcome"], r["details"]["profiled"])
        for r in records
        if r["operation"].startswith(("cli churn", "cli recommend"))
    }
    model = str(short_dir / "insights" / "recommend-model.json")
    assert made == {
        "cli churn eval": ("ds1", "error", {"customers": 3, "model_file": None}),
        "cli churn train": ("ds1", "error", {"customers": 3, "model_file": None}),
        "cli recommend train": ("ds2", "ok", {"customers": 3, "model_file": model}),
        "cli recommend eval": (getpass.getuser(), "ok", {"customers": 3, "model_file": None}),
    }, made
    assert len([r for r in records if r["operation"].startswith("cli ")]) == len(runs)
