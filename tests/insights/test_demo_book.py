"""On the demo book in the real graph: the recommender beats popularity by the issue's goal,
the churn model has churners to find in both windows, and the evaluation is not trivial."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from graph.store import GraphStore
from hub.demo import seed_demo
from insights import churn
from insights import history as hist
from insights.holdout import evaluate
from resolvers.nba import age_band, catalogue, load_histories, rule_score


async def test_recommender_and_churn_model_on_the_demo_book(store: GraphStore) -> None:
    await seed_demo(store, customers=400, seed=42, progress=False)
    now = datetime.now(UTC)
    histories = await load_histories(store, now - timedelta(days=churn.HISTORY_DAYS))
    assert len(histories) == 400

    book = [hist.book_customer(h, now, age_band(h, now)) for h in histories]
    result = evaluate(book, await catalogue(store))
    assert result.method.cases > 300
    assert result.ratio >= 1.5, result
    assert result.method.mrr > result.popularity.mrr

    split = churn.split(histories, now, rule_score)
    assert split.train_churners >= 5 and split.test_churners >= 5
    # Neither trivial nor empty: the model ranks well but not perfectly.
    assert 0.7 < split.model.auc < 0.99, (split.model, split.rules)
