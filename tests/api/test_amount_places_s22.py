"""Session 22 QA: amounts leave the hub with their currency's ISO 4217 decimals, exactly (KWD
three, JPY none, CNY two), in the API and in the subject export alike. Imported with the real
`c360 import` into the embedded FalkorDB, read through GraphQL."""

from __future__ import annotations

import json
from pathlib import Path

from graph.store import GraphStore
from ingest.crm import import_file
from ingest.mapping import ColumnMapping
from shared.amounts import money
from tests.api.conftest import Api

QUERY = """query($id: ID!) { customer(id: $id) {
  accounts { id balance currency } totalAssets
  transactions(first: 10) { edges { node { id amount currency } } } } }"""
EXPORT = "query($id: ID!) { customerExport(customerId: $id) }"


async def _imported(store: GraphStore, tmp_path: Path) -> None:
    files = {
        "customers": "id,name\nK1,Kuwaiti\nJ1,Japanese\nC1,Chinese\n",
        "accounts": "id,customerId,type,balance,currency\n"
        "AK1,K1,SAVINGS,1234.567,KWD\nAJ1,J1,SAVINGS,150000,JPY\n"
        "AC1,C1,SAVINGS,0.1,CNY\nAC2,C1,SAVINGS,0.2,CNY\n",
        "transactions": "id,accountId,amount,currency,time,kind\n"
        "TK1,AK1,1.005,KWD,2025-03-01,DEPOSIT\nTK2,AK1,0.125,KWD,2025-03-02,FEE\n"
        "TJ1,AJ1,1500,JPY,2025-03-01,DEPOSIT\n",
    }
    dot = ColumnMapping.from_dict({"source": {"decimal": "."}})  # 1.005 KWD: three decimals
    for kind, text in files.items():
        path = tmp_path / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        summary = await import_file(store, kind, path, dot)
        assert summary.rejected == 0, kind


async def test_api_and_export_give_each_currencys_decimals_exactly(
    store: GraphStore, officer: Api, tmp_path: Path
) -> None:
    await _imported(store, tmp_path)
    seen = {}
    for cid in ("K1", "J1", "C1"):
        body = await officer.gql(QUERY, {"id": cid})
        assert "errors" not in body, body
        c = body["data"]["customer"]
        seen[cid] = (
            {a["id"]: a["balance"] for a in c["accounts"]},
            {e["node"]["id"]: e["node"]["amount"] for e in c["transactions"]["edges"]},
            c["totalAssets"],
        )
    # Shown as 1234.57, 1.00 and 0.12 (two places, through float) before the fix.
    assert seen["K1"] == ({"AK1": "1234.567"}, {"TK1": "1.005", "TK2": "0.125"}, None)
    assert seen["J1"] == ({"AJ1": "150000"}, {"TJ1": "1500"}, None)
    # The book's currency: two places; summed exactly (not 0.30000000000000004).
    assert seen["C1"] == ({"AC1": "0.10", "AC2": "0.20"}, {}, "0.30")

    body = await officer.gql(EXPORT, {"id": "K1"})
    assert "errors" not in body, body
    exported = body["data"]["customerExport"]
    exported = json.loads(exported) if isinstance(exported, str) else exported
    assert [a["balance"] for a in exported["accounts"]] == ["1234.567"]
    assert sorted(t["amount"] for t in exported["transactions"]) == ["0.125", "1.005"]
    body = await officer.gql(EXPORT, {"id": "J1"})
    exported = body["data"]["customerExport"]
    exported = json.loads(exported) if isinstance(exported, str) else exported
    assert [a["balance"] for a in exported["accounts"]] == ["150000"]


def test_money_keeps_every_stored_digit_and_pads_to_the_currency() -> None:
    assert money(1.005, "KWD") == "1.005"
    assert money(0.5, "kwd") == "0.500"
    assert money(1500.0, "JPY") == "1500"
    assert money(52300.5, "CNY") == "52300.50"
    assert money(12345678901234.56, "CNY") == "12345678901234.56"
    assert money(2.5, None) == "2.50"  # no currency recorded: the book's two places
    assert money(2.5, "XYZ") == "2.50"  # unknown: two
    assert money(None, "KWD") is None
    assert money(150000.0, "JPY") == "150000"
    assert money(-0.0, "CNY") == "0.00"
    assert money(0.30000000000000004, "CNY") == "0.30000000000000004"  # never dropped
    # Spellings the plain text path leaves to Decimal: exponent forms, other scripts' digits.
    assert money(1e16, "CNY") == "10000000000000000.00"
    assert money(1.5e-7, "CNY") == "0.00000015"
    assert money("１２.５", "CNY") == "12.50"
    assert money(-0.5, "KWD") == "-0.500" and money(-3, "CNY") == "-3.00"
