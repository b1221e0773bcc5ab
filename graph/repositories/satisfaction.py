"""Reads for satisfaction figures: surveyed and complaining interactions in a window (with
channel, products and the customer's branch), and social sentiment per product."""

from __future__ import annotations

from graph.store import GraphStore, Row


async def feedback(store: GraphStore, start: str, end: str) -> list[Row]:
    return await store.read(
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


async def product_sentiment(store: GraphStore, start: str, end: str) -> list[Row]:
    return await store.read(
        """
        MATCH (p:Post)-[:MENTIONS]->(x:Product)
        WHERE p.createdAt >= $start AND p.createdAt < $end
        RETURN x.code AS product, count(p) AS mentions,
               sum(CASE WHEN p.sentimentLabel = 'POSITIVE' THEN 1 ELSE 0 END) AS positive,
               sum(CASE WHEN p.sentimentLabel = 'NEGATIVE' THEN 1 ELSE 0 END) AS negative,
               avg(p.sentimentScore) AS score
        ORDER BY product
        """,
        {"start": start, "end": end},
    )


__all__ = ["feedback", "product_sentiment"]
