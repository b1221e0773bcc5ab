"""QA round 21: amounts whose dot is a thousands dot or three decimals are never guessed (a
mapping's [source] decimal says which), and Excel's zh-CN date-time display is a time."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from graph.store import GraphStore
from ingest.crm import import_file
from ingest.mapping import ColumnMapping, MappingError
from shared.records import AMBIGUOUS_AMOUNT

EU_ACCOUNTS = (
    "id;customerId;type;balance;currency;openedAt\n"
    "EU1;C1;SAVINGS;1.000,00;EUR;2025-03-01\n"
    "EU2;C1;SAVINGS;12,34;EUR;2025-03-01\n"
    "EU3;C1;SAVINGS;1.000;EUR;2025-03-01\n"
    "EU4;C1;SAVINGS;1.234.567;EUR;2025-03-01\n"
    "EU5;C1;SAVINGS;1 234,50;EUR;2025-03-01\n"
)


async def _accounts(
    store: GraphStore, tmp_path: Path, text: str, mapping: ColumnMapping | None = None
) -> tuple[dict[str, float], list[dict[str, object]]]:
    await store.write("CREATE (:Customer {id: 'C1'})")
    path = tmp_path / "acc.csv"
    path.write_text(text, encoding="utf-8")
    await import_file(store, "accounts", path, mapping, checkpoint_path=tmp_path / "cp.json")
    rows = await store.read("MATCH (a:Account) RETURN a.id AS id, a.balance AS balance")
    dead_file = tmp_path / "acc.dead.jsonl"
    dead = (
        [orjson.loads(x) for x in dead_file.read_bytes().splitlines()] if dead_file.exists() else []
    )
    return {r["id"]: r["balance"] for r in rows}, dead


async def test_an_ambiguous_dotted_amount_is_a_dead_letter_naming_the_option(
    store: GraphStore, tmp_path: Path
) -> None:
    balances, dead = await _accounts(store, tmp_path, EU_ACCOUNTS)
    # Was EU3 = 1.0 (1000x off) without a word; 1.000,00 and 12,34 keep their reading.
    assert balances == {"EU1": 1000.0, "EU2": 12.34}
    by_line = {d["line"]: d["reasons"] for d in dead}
    assert by_line[4] == [f"balance: {AMBIGUOUS_AMOUNT}"]
    assert by_line[5] == [f"balance: {AMBIGUOUS_AMOUNT}"]
    assert 'decimal = ","' in AMBIGUOUS_AMOUNT
    assert sorted(by_line) == [4, 5, 6]  # "1 234,50" needs the declared mark too


async def test_a_declared_decimal_comma_reads_every_amount_of_the_file(
    store: GraphStore, tmp_path: Path
) -> None:
    mapping = ColumnMapping.from_dict({"source": {"decimal": ","}})
    balances, dead = await _accounts(store, tmp_path, EU_ACCOUNTS, mapping)
    assert balances == {
        "EU1": 1000.0, "EU2": 12.34, "EU3": 1000.0, "EU4": 1234567.0, "EU5": 1234.5
    }  # fmt: skip
    assert dead == []


async def test_a_declared_decimal_dot_reads_three_decimals_and_refuses_commas(
    store: GraphStore, tmp_path: Path
) -> None:
    text = (
        "id,customerId,balance,currency\n"
        "D1,C1,1.000,EUR\n"
        'D2,C1,"1,234.56",EUR\n'
        "D3,C1,1.005,KWD\n"
        'D4,C1,"12,34",EUR\n'
    )
    mapping = ColumnMapping.from_dict({"source": {"decimal": "."}})
    balances, dead = await _accounts(store, tmp_path, text, mapping)
    assert balances == {"D1": 1.0, "D2": 1234.56, "D3": 1.005}
    assert [(d["line"], d["reasons"]) for d in dead] == [
        (5, ["balance: not an amount with the decimal mark '.' (e.g. 1,234.56)"])
    ]


def test_the_decimal_option_takes_a_comma_or_a_dot() -> None:
    with pytest.raises(MappingError, match=r'decimal must be "," or "."'):
        ColumnMapping.from_dict({"source": {"decimal": "comma"}})


async def test_excel_zh_cn_date_times_are_local_times(store: GraphStore, tmp_path: Path) -> None:
    await store.write("CREATE (:Customer {id: 'C1'})")
    path = tmp_path / "acc.csv"
    path.write_text(
        "id,customerId,openedAt\n"
        "A1,C1,2025/3/1 9:05\n"
        "A2,C1,2025-3-1 9:05:30\n"
        "A3,C1,2025/3/1\n"
        "A4,C1,2025/3/1 25:05\n",
        encoding="utf-8",
    )
    await import_file(store, "accounts", path, checkpoint_path=tmp_path / "cp.json")
    rows = await store.read("MATCH (a:Account) RETURN a.id AS id, a.openedAt AS openedAt")
    # Times without an offset are Asia/Shanghai wall-clock times (as 2025-03-01 09:05 is).
    assert {r["id"]: r["openedAt"] for r in rows} == {
        "A1": "2025-03-01T01:05:00Z",
        "A2": "2025-03-01T01:05:30Z",
        "A3": "2025-03-01",
    }
    (dead,) = [orjson.loads(x) for x in (tmp_path / "acc.dead.jsonl").read_bytes().splitlines()]
    assert dead["line"] == 5
    assert dead["reasons"] == [
        "openedAt: not a time in ISO-8601 (e.g. 2025-03-01T08:00:00+08:00) - an import reads "
        'other formats by its mapping\'s time_formats = ["%d.%m.%Y %H:%M"]'
    ]
