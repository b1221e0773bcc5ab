"""QA round 16 on `c360 import`: a line in another encoding is a dead letter, never mojibake;
control characters in ids and names are refused as the API refuses them; a transaction or an
interaction re-imported under another parent moves there; a binary file or a repeated column
is refused with one short sentence. Real embedded FalkorDB."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from graph.fieldcipher import cipher_of
from graph.store import GraphStore
from ingest.crm import import_file
from ingest.readers import ReadOptions, UnsupportedFile, detect_encoding, open_source
from ingest.summary import ImportRefused
from tests.dead_letters import dead_letters

HEADER = b"id,name,phone\n"


def _names(n: int, start: int = 0) -> list[str]:
    given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
    return [f"{'王李张刘陈杨黄赵'[i % 8]}{given[i % len(given)]}" for i in range(start, start + n)]


def _line(i: int, name: str, encoding: str) -> bytes:
    return f"S{i:04d},{name},138{i:08d}\n".encode(encoding)


# --- 1. one line in another encoding ---------------------------------------------------------


async def test_a_gbk_line_beside_a_utf8_line_is_a_dead_letter_not_mojibake(
    store: GraphStore, tmp_path: Path
) -> None:
    # The QA file: a GBK line, then a UTF-8 one. It was read as cp1250, both names garbled.
    path = tmp_path / "s4.csv"
    path.write_bytes(HEADER + _line(5, "陈静", "gbk") + _line(6, "杨磊", "utf-8"))
    assert detect_encoding(path.read_bytes(), complete=True) == "utf-8"
    summary = await import_file(store, "customers", path)
    assert summary.source.startswith("text, utf-8,")
    assert (summary.inserted, summary.rejected) == (1, 1)
    (letter,) = dead_letters(tmp_path / "s4.dead.jsonl")
    assert letter["line"] == 2
    assert letter["reasons"] == [
        "name: bytes that are not valid utf-8: re-export the file in one encoding"
    ]
    rows = await store.read("MATCH (c:Customer) RETURN c.id AS id, properties(c) AS props")
    assert [r["id"] for r in rows] == ["S0006"]
    stored = cipher_of(store).open_many("Customer", [("S0006", rows[0]["props"])])
    assert stored[0]["name"] == "杨磊"


@pytest.mark.parametrize("size", [3, 12])
def test_a_utf8_file_with_one_gbk_line_stays_utf8(size: int) -> None:
    # Three lines, one of them GBK, were read as cp1257.
    lines = [_line(i, n, "gbk" if i == 1 else "utf-8") for i, n in enumerate(_names(size))]
    assert detect_encoding(HEADER + b"".join(lines), complete=True) == "utf-8"


def test_a_utf8_line_in_a_gbk_file_is_a_dead_letter(tmp_path: Path) -> None:
    # UTF-8 bytes are valid GB18030 too (as rare characters): found by reading them as UTF-8.
    names = _names(12)
    lines = [_line(i, n, "utf-8" if i == 4 else "gbk") for i, n in enumerate(names)]
    path = tmp_path / "gbk.csv"
    path.write_bytes(HEADER + b"".join(lines))
    source = open_source(path)
    assert source.encoding == "gb18030"
    records = list(source.records())
    bad = [(r.line, r.error) for r in records if r.error]
    reason = "name: bytes that are not valid gb18030: re-export the file in one encoding"
    assert bad == [(6, reason)]
    assert [r.data["name"] for r in records if r.data] == names[:4] + names[5:]
    # The first pass (duplicate keys) skips it the same way.
    assert list(source.key_data(["id"]))[4] is None


def test_a_code_page_still_wins_when_no_chinese_encoding_fits_or_when_given(
    tmp_path: Path,
) -> None:
    czech = "id;name\n1;Příjem Dvořák\n2;Výdaj Šťastný\n".encode("cp1250")
    assert detect_encoding(czech, complete=True) == "cp1250"
    path = tmp_path / "s4.csv"
    path.write_bytes(HEADER + _line(5, "陈静", "gbk") + _line(6, "杨磊", "utf-8"))
    assert open_source(path, ReadOptions(encoding="cp1250")).encoding == "cp1250"


# --- 2. control characters -----------------------------------------------------------------


async def test_control_characters_are_refused_like_the_api_refuses_them(
    store: GraphStore, tmp_path: Path
) -> None:
    path = tmp_path / "ctrl.csv"
    path.write_text(
        "id,name,phone\n"
        "R0019,陈\x1b[31m,13800000019\n"
        "R\x070020,申,13800000020\n"
        "R0021,周,13800000021\n",
        encoding="utf-8",
    )
    summary = await import_file(store, "customers", path)
    assert (summary.inserted, summary.rejected) == (1, 2)
    letters = dead_letters(tmp_path / "ctrl.dead.jsonl")
    assert [(x["line"], x["reasons"]) for x in letters] == [
        (2, ["name: contains a control character"]),
        (3, ["id: contains a control character"]),
    ]
    rows = await store.read("MATCH (c:Customer) RETURN c.id AS id")
    assert [r["id"] for r in rows] == ["R0021"]


async def test_tab_and_line_breaks_in_a_quoted_note_are_kept(
    store: GraphStore, tmp_path: Path
) -> None:
    await store.write("CREATE (:Customer {id: 'C1'})")
    path = tmp_path / "notes.csv"
    path.write_text(
        'id,customerId,kind,summary\nI1,C1,INQUIRY,"问余额\t第一行\r\n第二行"\n', encoding="utf-8"
    )
    summary = await import_file(store, "interactions", path)
    assert (summary.inserted, summary.rejected) == (1, 0)
    # Opened by whatever cipher the session store holds (an earlier test may have left one).
    rows = await store.read("MATCH (i:Interaction) RETURN properties(i) AS props")
    (opened,) = cipher_of(store).open_many("Interaction", [("C1", rows[0]["props"])])
    assert opened.get("summary") == "问余额\t第一行\r\n第二行"


# --- 3. a record re-imported under another parent -------------------------------------------


async def test_a_transaction_under_another_account_moves_there(
    store: GraphStore, tmp_path: Path
) -> None:
    await store.write(
        "CREATE (:Customer {id: 'Q1'})-[:OWNS {role: 'OWNER'}]->(:Account {id: 'A1'}), "
        "(:Customer {id: 'Q2'})-[:OWNS {role: 'OWNER'}]->(:Account {id: 'A2'})"
    )
    header = "id,accountId,amount,time,channel,kind\n"
    first = tmp_path / "tx1.csv"
    first.write_text(header + "T1,A1,1.50,2025-01-10 09:00:00,ONLINE,DEPOSIT\n")
    second = tmp_path / "tx2.csv"
    second.write_text(header + "T1,A2,1.50,2025-01-10 09:00:00,ONLINE,DEPOSIT\n")
    assert (await import_file(store, "transactions", first)).inserted == 1
    summary = await import_file(store, "transactions", second)
    assert (summary.updated, summary.rejected) == (1, 0)
    rows = await store.read(
        "MATCH (c:Customer)-[:OWNS]->(a:Account)-[:HAS_TRANSACTION]->(t:Transaction) "
        "RETURN c.id AS customer, a.id AS account, t.accountId AS stored"
    )
    assert rows == [{"customer": "Q2", "account": "A2", "stored": "A2"}]
    again = await import_file(store, "transactions", second)
    assert (again.updated, again.unchanged) == (0, 1)


async def test_an_account_under_another_owner_moves_there_and_keeps_its_joint_holder(
    store: GraphStore, tmp_path: Path
) -> None:
    # The importfix lane's open question (session 16): a second OWNER link was kept.
    await store.write(
        "CREATE (:Customer {id: 'Q1'}), (:Customer {id: 'Q2'}), (:Customer {id: 'Q3'})"
    )
    header = "id,customerId,type,product,balance,currency,openedAt\n"
    first = tmp_path / "acc1.csv"
    first.write_text(header + "A1,Q1,SAVINGS,Everyday,10.00,CNY,2024-01-02\n")
    second = tmp_path / "acc2.csv"
    second.write_text(header + "A1,Q2,SAVINGS,Everyday,10.00,CNY,2024-01-02\n")
    holdings = tmp_path / "hold.csv"
    holdings.write_text("customerId,accountId,role\nQ3,A1,JOINT\n")
    assert (await import_file(store, "accounts", first)).inserted == 1
    assert (await import_file(store, "holdings", holdings)).rejected == 0
    summary = await import_file(store, "accounts", second)
    assert (summary.updated, summary.rejected) == (1, 0)
    rows = await store.read(
        "MATCH (c:Customer)-[o:OWNS]->(:Account {id: 'A1'}) RETURN c.id AS c, o.role AS role "
        "ORDER BY c"
    )
    assert rows == [{"c": "Q2", "role": "OWNER"}, {"c": "Q3", "role": "JOINT"}]
    again = await import_file(store, "accounts", second)
    assert (again.updated, again.unchanged) == (0, 1)


@pytest.mark.parametrize("summary_text", ["问余额", ""])
async def test_an_interaction_under_another_customer_moves_there(
    sealed_store: GraphStore, tmp_path: Path, summary_text: str
) -> None:
    store = sealed_store
    await store.write("CREATE (:Customer {id: 'Q1'}), (:Customer {id: 'Q2'})")
    header = "id,customerId,channel,kind,time,summary\n"
    first = tmp_path / "int1.csv"
    first.write_text(header + f"I1,Q1,PHONE,INQUIRY,2025-02-01 10:00,{summary_text}\n")
    second = tmp_path / "int2.csv"
    second.write_text(header + f"I1,Q2,PHONE,INQUIRY,2025-02-01 10:00,{summary_text}\n")
    assert (await import_file(store, "interactions", first)).inserted == 1
    # Without a summary nothing but the customer differs: still an update, and written.
    summary = await import_file(store, "interactions", second)
    assert (summary.updated, summary.unchanged, summary.rejected) == (1, 0, 0)
    rows = await store.read(
        "MATCH (c:Customer)-[:HAD]->(i:Interaction) RETURN c.id AS customer, properties(i) AS props"
    )
    assert [r["customer"] for r in rows] == ["Q2"]
    (opened,) = cipher_of(store).open_many("Interaction", [("Q2", rows[0]["props"])])
    assert opened["customerId"] == "Q2"
    assert opened.get("summary") == (summary_text or None)


# --- 4. and 5. files that are not delimited text, repeated columns ---------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"y" * 20_000,  # what the QA's generator wrote (a new Random(3) per byte)
        random.Random(3).randbytes(20_000),
    ],
)
async def test_a_file_that_is_no_delimited_text_is_refused_in_one_short_sentence(
    store: GraphStore, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "bin3.csv"
    path.write_bytes(content)
    with pytest.raises(ImportRefused) as info:
        await import_file(store, "customers", path)
    message = str(info.value)
    assert message.startswith("bin3.csv does not look like delimited text") or message.startswith(
        "bin3.csv is not text"
    )
    assert len(message) < 300 and "\n" not in message


async def test_the_header_a_refusal_quotes_is_capped(store: GraphStore, tmp_path: Path) -> None:
    path = tmp_path / "noid.csv"
    names = [f"column{i}_" + "x" * 200 for i in range(8)]
    path.write_text(",".join(names) + "\n" + ",".join("v" * 8) + "\n", encoding="utf-8")
    with pytest.raises(ImportRefused, match="has no id column") as info:
        await import_file(store, "customers", path)
    assert "column0_xxx" in str(info.value)
    assert len(str(info.value)) < 8 * 100 + 200


def test_a_repeated_column_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "dupcols.csv"
    path.write_text("id,name,phone,phone\nR0008,壬,13800000008,13900000008\n", encoding="utf-8")
    with pytest.raises(UnsupportedFile, match="names the column 'phone' twice"):
        open_source(path)
    # Blank names (trailing empty columns) may repeat.
    blank = tmp_path / "blank.csv"
    blank.write_text("id,name,,\nR1,a,,\n", encoding="utf-8")
    assert open_source(blank).header == ["id", "name", "", ""]
