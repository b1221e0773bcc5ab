"""Posts an older hub tagged 中国银行 for 中国银行业 ("China's banking industry") lose that tag
when the graph opens (QA, session 23): ``p.brands`` and the MENTIONS edge, nothing else.
Real embedded FalkorDB."""

from __future__ import annotations

from pathlib import Path

from graph.connect import open_store, run_upgrades
from graph.repositories.social import upsert_posts
from graph.store import GraphStore
from hub.app import GraphHolder
from hub.cli.common import graph
from hub.settings import Settings
from ingest.social.retag import BRAND_TAGS_VERSION, untag_trade_words, upgrades
from ingest.social.terms import TermMatcher

UPGRADES = upgrades(None)  # the default terms

# (postId, text, the brands an older hub stored, the brands after the upgrade)
OLD = [
    ("a", "中国银行业协会发布年度报告", ["中国银行"], []),
    ("b", "中國銀行業協會：不良率下降", ["中国银行"], []),
    ("c", "中国银行保险监督管理委员会发布通知", ["中国银行"], []),
    ("d", "中国银行业协会：招行不良率最低", ["中国银行", "招商银行"], ["招商银行"]),
    ("e", "中国银行业协会点名中行", ["中国银行"], ["中国银行"]),  # 中行 names the bank
    ("f", "银保监会处罚了中国银行，中国银行保险监督管理委员会通报", ["中国银行"], ["中国银行"]),
    ("g", "工商银行业务办理很快", ["工商银行"], ["工商银行"]),
    ("h", "中国银行的网点排队", ["中国银行"], ["中国银行"]),
    # 业 and 间 beginning a word of their own: the bank (review, session 23).
    ("i", "招商银行间歇性系统故障，一下午登不上", ["招商银行"], ["招商银行"]),
    ("j", "中国银行间接持有该公司股份", ["中国银行"], ["中国银行"]),
    ("k", "建设银行业已恢复全部服务", ["建设银行"], ["建设银行"]),
    ("l", "工商银行间隔三个月又收年费", ["工商银行"], ["工商银行"]),
    ("m", "招商银行业内口碑很好", ["招商银行"], ["招商银行"]),
]


async def _store_as_an_older_hub(
    store: GraphStore, old: list[tuple[str, str, list[str], list[str]]] = OLD
) -> None:
    await upsert_posts(
        store,
        [
            {"platform": "weibo", "postId": pid,
             "props": {"text": text, "createdAt": "2025-03-01T08:00:00Z", "brands": brands},
             "ingestedAt": "2025-03-01T08:00:00Z", "author": None, "brands": brands,
             "products": []}
            for pid, text, brands, _ in old
        ],
    )  # fmt: skip


async def _tags(store: GraphStore) -> dict[str, tuple[list[str], list[str]]]:
    rows = await store.read(
        """
        MATCH (p:Post)
        OPTIONAL MATCH (p)-[:MENTIONS]->(b:Brand)
        WITH p, b ORDER BY b.name
        RETURN p.postId AS id, p.brands AS brands, collect(b.name) AS mentioned
        """
    )
    return {r["id"]: (sorted(r["brands"]), r["mentioned"]) for r in rows}


EXPECTED = {pid: (after, after) for pid, _, _, after in OLD}


async def test_opening_the_graph_drops_brands_only_the_trade_words_gave(store: GraphStore) -> None:
    await _store_as_an_older_hub(store)
    assert await run_upgrades(store, UPGRADES) == [
        "searchTextVersion", "postsUpgrade", "idKeys", "brandTags"
    ]  # fmt: skip
    assert await _tags(store) == EXPECTED
    assert await untag_trade_words(store) == 0  # idempotent
    assert await run_upgrades(store, UPGRADES) == []  # recorded on the marker

    # In windows smaller than the posts (unchanged ones among them).
    await store.clear()
    await _store_as_an_older_hub(store)
    assert await untag_trade_words(store, batch=2) == 4
    assert await _tags(store) == EXPECTED


async def test_every_cli_command_opens_the_graph_with_the_upgrade(short_dir: Path) -> None:
    store = await open_store(short_dir, upgrade=False)
    try:
        await _store_as_an_older_hub(store)
    finally:
        await store.close()
    async with graph(Settings(data_dir=short_dir)) as store:
        assert await _tags(store) == EXPECTED
        (marks,) = await store.read("MATCH (s:C360Schema) RETURN s.brandTags AS v")
        assert marks == {"v": BRAND_TAGS_VERSION}


# A terms file of your own giving 中国银行 the alias 中银: ingest tags this post 中国银行, and so
# must the upgrade leave it (review, session 23: it judged by the default terms).
CUSTOM = [
    ("n", "中银手机APP又崩了，中国银行业协会也不管管", ["中国银行"], ["中国银行"]),
    ("o", "中国银行业协会发布年度报告", ["中国银行"], []),
]
CUSTOM_TERMS = """
[brands]
"中国银行" = ["中银"]
"""


async def _stored_by_an_older_hub(data_dir: Path) -> None:
    store = await open_store(data_dir, upgrade=False)
    try:
        await _store_as_an_older_hub(store, CUSTOM)
    finally:
        await store.close()


async def test_the_upgrade_judges_by_the_settings_terms(tmp_path: Path, short_dir: Path) -> None:
    terms = tmp_path / "terms.toml"
    terms.write_text(CUSTOM_TERMS, encoding="utf-8")
    assert TermMatcher.load(terms).tag(CUSTOM[0][1]).brands == ["中国银行"]
    expected = {pid: (after, after) for pid, _, _, after in CUSTOM}

    cli_dir, hub_dir = short_dir / "cli", short_dir / "hub"
    await _stored_by_an_older_hub(cli_dir)
    async with graph(Settings(data_dir=cli_dir, terms=terms)) as store:  # every CLI command
        assert await _tags(store) == expected

    await _stored_by_an_older_hub(hub_dir)
    holder = GraphHolder(Settings(data_dir=hub_dir, terms=terms))  # the hub
    try:
        await holder.open()
        assert holder.store is not None, holder.error
        assert await _tags(holder.store) == expected
    finally:
        await holder.close()
