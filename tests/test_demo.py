"""Demo data: deterministic, valid personal data, sane shapes, and `c360 seed` end to end."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph.store import GraphStore
from hub.cli import app
from hub.demo import build_book, seed_demo, transactions
from hub.demo_guard import demo_book_ids
from ingest.records import CustomerRecord
from ingest.validators import birth_date_from_cn_id, check_cn_id, normalize_phone


def test_same_seed_same_book_other_seed_other_book() -> None:
    a, b, c = build_book(60, seed=7), build_book(60, seed=7), build_book(60, seed=8)
    assert a.customers[:5] == b.customers[:5]
    assert list(transactions(a))[:20] == list(transactions(b))[:20]
    assert a.customers[0] != c.customers[0]


def test_personal_data_is_valid_and_mix_is_realistic() -> None:
    book = build_book(400, seed=1)
    for customer in book.customers:
        props = customer["props"]
        assert check_cn_id(props["idNumber"]) == props["idNumber"]
        assert birth_date_from_cn_id(props["idNumber"]).isoformat() == props["birthDate"]
        assert (int(props["idNumber"][16]) % 2 == 1) == (props["gender"] == "M")
        assert normalize_phone(props["phone"]) == props["phone"]
        # The import model accepts every demo customer as it is.
        CustomerRecord.model_validate({"id": customer["id"], **props})
    marketing = sum(c["props"]["consentMarketing"] for c in book.customers) / 400
    sharing = sum(c["props"]["consentDataSharing"] for c in book.customers) / 400
    assert 0.5 < marketing < 0.7
    assert 0.3 < sharing < 0.5
    assert {a["props"]["type"] for a in book.accounts} == {
        "SAVINGS", "CHECKING", "CREDIT_CARD", "LOAN", "WEALTH"
    }  # fmt: skip
    sizes = Counter(h["id"] for h in book.households)
    assert sizes and set(sizes.values()) <= {2, 3, 4, 5}
    assert {r["kind"] for r in book.related} == {"SPOUSE", "PARENT", "CHILD", "GUARANTOR"}
    assert any(h["role"] == "JOINT" for h in book.holdings)
    kinds = Counter(i["props"]["kind"] for i in book.interactions)
    assert kinds["COMPLAINT"] and kinds["SURVEY"]
    per_account = Counter(t["accountId"] for t in transactions(book))
    assert min(per_account.values()) >= 4 and max(per_account.values()) <= 40
    assert max(a["props"]["balance"] for a in book.accounts) > 1_000_000


async def test_seed_demo_writes_what_it_built(store: GraphStore) -> None:
    counts = await seed_demo(store, customers=40, seed=3, progress=False)
    book = build_book(40, seed=3)
    assert counts["Customer"] == 40
    assert counts["Account"] == len(book.accounts)
    assert counts["Transaction"] == book.transaction_count
    assert counts["Household"] == len({h["id"] for h in book.households})
    assert counts["Branch"] > 1 and counts["Advisor"] > 1
    assert counts["Product"] == len(book.products)
    (managed,) = await store.read(
        "MATCH (c:Customer)-[:MANAGED_BY]->(:Advisor)-[:WORKS_AT]->(:Branch) RETURN count(c) AS n"
    )
    assert managed["n"] == 40
    (members,) = await store.read("MATCH (:Customer)-[m:MEMBER_OF]->() RETURN count(m) AS n")
    assert members["n"] == len(book.households)


@pytest.fixture
def cli_data_dir() -> Iterator[Path]:
    # The FalkorDB unix socket lives in here: keep the path short.
    path = Path(tempfile.mkdtemp(prefix="c360s-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_seed_cli_refuses_non_empty_graph_unless_reset(cli_data_dir: Path) -> None:
    runner = CliRunner()
    env = {"C360_DATA_DIR": str(cli_data_dir)}
    first = runner.invoke(app, ["seed", "--customers", "15", "--seed", "5"], env=env)
    assert first.exit_code == 0, first.output
    assert re.search(r"Customer\s*│\s*15\b", first.output)
    again = runner.invoke(app, ["seed", "--customers", "15"], env=env)
    assert again.exit_code == 2
    assert "--reset" in again.output
    reset = runner.invoke(app, ["seed", "--customers", "10", "--reset"], env=env)
    assert reset.exit_code == 0, reset.output
    assert re.search(r"Customer\s*│\s*10\b", reset.output)
    # The book is the demo's: `serve --demo` on it hands out console demo tokens (review
    # finding: only `serve --demo`'s own seeding recorded it).
    assert len(demo_book_ids(cli_data_dir) or []) == 10


def test_a_share_of_the_history_keeps_the_book_and_thins_the_transactions() -> None:
    full, light = build_book(80, seed=3), build_book(80, seed=3, tx_share=0.1)
    assert light.customers == full.customers and light.accounts == full.accounts
    per_account = Counter(t["accountId"] for t in transactions(light))
    assert set(per_account) == {p.id for p in light.plans}  # every account keeps one at least
    assert light.transaction_count == sum(per_account.values())
    assert light.transaction_count < full.transaction_count * 0.2
