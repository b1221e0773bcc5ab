"""Posts as graph.repositories.social.upsert_posts takes them, for the tests that store some."""

from __future__ import annotations

from collections.abc import Sequence

from graph.store import Row


def post_row(
    post_id: str,
    text: str,
    *,
    created_at: str,
    ingested_at: str = "2025-03-05T00:00:00Z",
    platform: str = "forum",
    brands: Sequence[str] = (),
    **props: object,
) -> Row:
    """One post without an author or products; ``brands`` tag it (and are among its props
    when given); ``props``: more of its properties (``sentimentLabel``, ...)."""
    tagged = {"brands": list(brands)} if brands else {}
    return {
        "platform": platform,
        "postId": post_id,
        "ingestedAt": ingested_at,
        "props": {"text": text, "createdAt": created_at, **tagged, **props},
        "author": None,
        "brands": list(brands),
        "products": [],
    }
