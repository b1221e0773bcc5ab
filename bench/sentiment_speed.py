"""Scoring speed: the default scorer against snownlp on the same posts, in this one process.

    python bench/sentiment_speed.py [--n 5000] [--file CSV] [--model default|FILE]

Posts come from the bank validation set and the ingest bench's generator, mixed and repeated
to ``--n`` (or the ``text`` column of ``--file``). Both models are loaded and warmed up before
the clock; the default scorer gets the batch in one call (how the ingest pipeline calls it),
snownlp one text at a time (all it offers). Last line: ratio = default texts/s / snownlp
texts/s (target: >= 10).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest_posts import make_posts
from sentiment.scorer import Scorer, ScorerConfig

BANK = Path(__file__).resolve().parents[1] / "examples" / "social" / "bank_posts_labelled.csv"


def texts_from(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [row["text"] for row in csv.DictReader(fh) if row.get("text")]


def corpus(n: int, file: Path | None) -> list[str]:
    base = texts_from(file) if file else texts_from(BANK) + [p.text for p in make_posts(2_000)]
    return [base[i % len(base)] for i in range(n)]


def rate(scorer: Scorer, texts: list[str], batch: bool) -> float:
    scorer.score_many(texts[:50])  # warm: lazy tables, first-call allocations
    start = time.perf_counter()
    if batch:
        scorer.score_many(texts)
    else:
        for text in texts:
            scorer.score(text)
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5_000)
    parser.add_argument("--file", type=Path, help="CSV with a text column")
    parser.add_argument(
        "--model", default="default", help="the fast side: 'default' or a model file"
    )
    args = parser.parse_args()
    texts = corpus(args.n, args.file)
    chars = sum(len(t) for t in texts) / len(texts)
    default = Scorer(ScorerConfig(args.model))
    snow = Scorer(ScorerConfig("snownlp"))
    fast = rate(default, texts, batch=True)
    slow = rate(snow, texts, batch=False)
    print(f"posts={len(texts)} mean_chars={chars:.1f}")
    print(f"default ({default.version})={fast:.0f} texts/s")
    print(f"snownlp ({snow.version})={slow:.0f} texts/s")
    print(f"ratio={fast / slow:.2f}")


if __name__ == "__main__":
    main()
