"""Session 22 on `c360 import`: one group of three digits after a dot or a comma in a currency
of three decimals is never guessed (``1.005`` KWD is 1005 in a decimal-comma file, ``12,345``
is 12.345), and ``--decimal`` says the file's mark as the mapping does. Real embedded
FalkorDB."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from graph.store import GraphStore
from hub.cli import app
from ingest.crm import import_file
from ingest.mapping import ColumnMapping, MappingError
from shared.records import AMBIGUOUS_AMOUNT, AMBIGUOUS_COMMA_AMOUNT
from tests.dead_letters import dead_letters

# A decimal-comma export (semicolons) of three-decimal currencies: 1.005 is 1005 here, and
# 12,345 is 12.345 (a decimal-dot export writes 12,345 for 12345).
KW_ACCOUNTS = (
    "id;customerId;balance;currency\n"
    "KW1;C1;1.005;KWD\n"
    "KW2;C1;12,345;BHD\n"
    "KW3;C1;1.234,5;JOD\n"
    "KW4;C1;0.005;KWD\n"
)


async def _balances(
    store: GraphStore, tmp_path: Path, mapping: ColumnMapping | None = None
) -> tuple[dict[str, float], list[dict[str, object]]]:
    await store.write("CREATE (:Customer {id: 'C1'})")
    path = tmp_path / "kw.csv"
    path.write_text(KW_ACCOUNTS, encoding="utf-8")
    await import_file(store, "accounts", path, mapping)
    rows = await store.read("MATCH (a:Account) RETURN a.id AS id, a.balance AS balance")
    return {r["id"]: r["balance"] for r in rows}, dead_letters(tmp_path / "kw.dead.jsonl")


async def test_a_dotted_group_in_a_three_decimal_currency_is_a_dead_letter_naming_the_option(
    store: GraphStore, tmp_path: Path
) -> None:
    balances, dead = await _balances(store, tmp_path)
    # KW1 was stored as 1.005 and KW2 as 12345 (1000x off each) without a word; the
    # unambiguous spellings stay read.
    assert balances == {"KW3": 1234.5, "KW4": 0.005}
    assert [(d["line"], d["reasons"]) for d in dead] == [
        (2, [f"balance: {AMBIGUOUS_AMOUNT}"]),
        (3, [f"balance: {AMBIGUOUS_COMMA_AMOUNT}"]),
    ]
    assert 'decimal = ","' in AMBIGUOUS_AMOUNT and "--decimal" in AMBIGUOUS_AMOUNT


@pytest.mark.parametrize(
    ("mark", "kw1", "kw2", "refused"), [(",", 1005.0, 12.345, []), (".", 1.005, 12345.0, [4])]
)
async def test_the_declared_mark_reads_the_single_group(
    store: GraphStore, tmp_path: Path, mark: str, kw1: float, kw2: float, refused: list[int]
) -> None:
    mapping = ColumnMapping.from_dict({"source": {"decimal": mark}})
    balances, dead = await _balances(store, tmp_path, mapping)
    assert (balances["KW1"], balances["KW2"]) == (kw1, kw2)
    assert [d["line"] for d in dead] == refused  # 1.234,5 is no amount with a decimal dot


def test_the_decimal_flag_wins_over_the_mapping_and_takes_a_comma_or_a_dot() -> None:
    mapping = ColumnMapping.from_dict({"source": {"decimal": ".", "delimiter": ";"}})
    assert mapping.with_decimal(",").source.decimal == ","
    assert mapping.with_decimal(",").source.delimiter == ";"
    assert mapping.with_decimal(None) is mapping
    with pytest.raises(MappingError, match=r'--decimal must be "," or "."'):
        mapping.with_decimal("comma")


@pytest.fixture
def workdir() -> Iterator[Path]:
    # Short: the data dir's unix socket lives under it.
    path = Path(tempfile.mkdtemp(prefix="c360d-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_the_decimal_flag_of_the_import_command(workdir: Path) -> None:
    path = workdir / "kw.csv"
    path.write_text(KW_ACCOUNTS, encoding="utf-8")
    env = {"C360_DATA_DIR": str(workdir / "d"), "COLUMNS": "200"}
    runner = CliRunner()

    def dry_run(*flags: str) -> dict[str, object]:
        args = ["import", "accounts", str(path), "--create-missing", "--dry-run", "--json"]
        done = runner.invoke(app, [*args, *flags], env=env)
        assert done.exit_code == 0, done.output
        return dict(orjson.loads(done.output.strip().splitlines()[-1]))

    guessed, declared = dry_run(), dry_run("--decimal", ",")
    assert (guessed["inserted"], guessed["rejected"]) == (2, 2)
    assert (declared["inserted"], declared["rejected"]) == (4, 0)
    refused = runner.invoke(app, ["import", "accounts", str(path), "--decimal", "x"], env=env)
    assert refused.exit_code == 2
    assert '--decimal must be "," or "."' in refused.output
