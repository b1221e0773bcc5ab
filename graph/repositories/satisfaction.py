"""Reads for satisfaction figures: surveyed and complaining interactions in a window (with
channel, products and the customer's branch), and social sentiment per product.

Windows are exact through :mod:`graph.timerange` (FalkorDB's string range index let rows past
an upper bound through)."""

from __future__ import annotations

from graph.repositories.social import JUDGED_SCORE
from graph.store import GraphStore, Row
from graph.timerange import time_range


async def feedback(store: GraphStore, start: str, end: str) -> list[Row]:
    rows = await store.read(
        """
        MATCH (i:Interaction)
        WHERE """
        + time_range("i.time", "$start", "$end", optional=False)
        + """
          AND (i.kind = 'COMPLAINT' OR i.satisfaction IS NOT NULL)
        MATCH (c:Customer)-[:HAD]->(i)
        RETURN i.kind AS kind, i.time AS time, i.satisfaction AS satisfaction,
               i.resolved AS resolved, i.channel AS channel,
               [(i)-[:ABOUT]->(p:Product) | p.code] AS products,
               [(c)-[:MANAGED_BY]->(:Advisor)-[:WORKS_AT]->(b:Branch) | b.id] AS branches
        """,
        {"start": start, "end": end},
    )
    return rows


async def product_sentiment(store: GraphStore, start: str, end: str) -> list[Row]:
    """Per product: mentions, positive, negative, score (mean judged sentimentScore)."""
    rows = await store.read(
        """
        MATCH (p:Post)-[:MENTIONS]->(x:Product)
        WHERE """
        + time_range("p.createdAt", "$start", "$end", optional=False)
        + """
        RETURN x.code AS product, p.createdAt AS at, p.sentimentLabel AS label,
               """
        + JUDGED_SCORE
        + """ AS score
        """,
        {"start": start, "end": end},
    )
    out: dict[str, Row] = {}
    for r in rows:
        agg = out.setdefault(
            r["product"], {"product": r["product"], "mentions": 0, "positive": 0,
                           "negative": 0, "scores": []}
        )  # fmt: skip
        agg["mentions"] += 1
        agg["positive"] += r["label"] == "POSITIVE"
        agg["negative"] += r["label"] == "NEGATIVE"
        if r["score"] is not None:
            agg["scores"].append(float(r["score"]))
    for agg in out.values():
        scores = agg.pop("scores")
        agg["score"] = sum(scores) / len(scores) if scores else None
    return sorted(out.values(), key=lambda a: a["product"])


__all__ = ["feedback", "product_sentiment"]
