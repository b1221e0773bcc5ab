"""Brand tags stored before a tagging rule changed, brought to it when the graph opens (one of
the open-time upgrades, graph.connect.run_upgrades; the hub passes :func:`upgrades` of its
terms in, as the graph layer knows no terms).

Tags are set when a post is stored (``p.brands`` and its MENTIONS edges); a post is re-tagged
when ingested again. A rule that only takes tags away is applied to stored posts here without
that: session 23's, a brand's name ending 银行 read as the trade (中国银行业协会, the regulator
中国银行保险监督管理委员会, 中国银行间市场) is no mention of the bank."""

from __future__ import annotations

import re
from pathlib import Path
from typing import LiteralString

from graph.connect import Upgrade
from graph.store import GraphStore, Row, id_windows
from ingest.social.terms import TermMatcher, as_trade, is_bank_name
from shared.post_text import simplified

# Bumped with each rule the upgrade gains; recorded on the graph's marker as "brandTags".
BRAND_TAGS_VERSION = 1
BATCH = 2000
_POSTS_TOP: LiteralString = "MATCH (p:Post) RETURN max(id(p)) AS top"


def _as_trade(name: str) -> re.Pattern[str]:
    return re.compile(as_trade(simplified(name).casefold()), re.IGNORECASE)


def untagged(matcher: TermMatcher, text: str, brands: list[str]) -> list[str]:
    """Of a stored post's ``brands``, those only its text's trade words gave it: the name is
    read as the trade at least once (中国银行业) and ``matcher`` no longer finds the brand.
    A brand of another terms file that ``matcher`` does not know is judged the same way."""
    folded = simplified(text)
    found = set(matcher.tag(text).brands)
    return [
        b
        for b in brands
        if b not in found and is_bank_name(b) and _as_trade(b).search(folded) is not None
    ]


async def untag_trade_words(
    store: GraphStore, matcher: TermMatcher | None = None, batch: int = BATCH
) -> int:
    """Drops from stored posts the brands :func:`untagged` names (``p.brands`` and the
    MENTIONS edge); returns how many posts changed. Idempotent; reads only posts that have a
    brand and say 银行 (銀行), in windows of ``batch`` node ids; writes nothing when nothing
    changes. ``matcher``: the terms ingest tags with (the default terms when not given)."""
    matcher = matcher or TermMatcher.default()
    done = 0
    async for lo, hi in id_windows(store, _POSTS_TOP, batch):
        rows = await store.read(
            """
            MATCH (p:Post)
            WHERE id(p) >= $lo AND id(p) < $hi AND size(coalesce(p.brands, [])) > 0
              AND (p.text CONTAINS '银行' OR p.text CONTAINS '銀行')
            RETURN p.platform AS platform, p.postId AS postId, p.text AS text,
                   p.brands AS brands
            """,
            {"lo": lo, "hi": hi},
        )
        changed: list[Row] = []
        for r in rows:
            drop = untagged(matcher, str(r["text"]), list(r["brands"]))
            if drop:
                keep = [b for b in r["brands"] if b not in drop]
                changed.append({"platform": r["platform"], "postId": r["postId"],
                                "brands": keep, "drop": drop})  # fmt: skip
        if changed:
            await store.write(
                """
                UNWIND $rows AS r
                MATCH (p:Post {platform: r.platform, postId: r.postId})
                SET p.brands = r.brands
                WITH p, r
                OPTIONAL MATCH (p)-[m:MENTIONS]->(b:Brand)
                WHERE b.name IN r.drop
                DELETE m
                """,
                {"rows": changed},
            )
            done += len(changed)
    return done


def upgrades(terms: Path | None) -> tuple[Upgrade, ...]:
    """The open-time upgrades of this module, judged by the terms ingest tags with (``terms``:
    C360_TERMS, None for the default terms), so that a brand a terms file's alias still finds
    in a post is kept (中银 for 中国银行 in 中银APP又崩了，中国银行业协会也不管管). The file is
    read only when the upgrade runs, not at every open of a graph that has had it."""

    async def untag(store: GraphStore) -> int:
        return await untag_trade_words(store, TermMatcher.load(terms))

    return (("brandTags", BRAND_TAGS_VERSION, untag),)


__all__ = ["BRAND_TAGS_VERSION", "untag_trade_words", "untagged", "upgrades"]
