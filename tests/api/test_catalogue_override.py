"""A bank's own catalogue file (C360_CATALOGUE, else <data dir>/catalogue.json): its products
are recommended and campaignable, the packaged ones it leaves out are not, its income bands are
the campaign vocabulary; a bad file stops the hub and the CLI with one line; the variable beats
the data dir's file. On the demo book in the real graph with the real Rego engine."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from graph.store import GraphStore
from hub.app import create_app
from hub.cli import app as cli
from hub.demo import seed_demo
from insights import catalogue
from shared.settings import Settings
from tests.api.conftest import Api, codes, serve

PACKAGED = Path(catalogue.__file__).with_name("catalogue.json")
RECS = """
query Recs($id: ID!) { customer(id: $id) { recommendations(first: 10) { product { code } } } }
"""
CREATE = """
mutation Create($input: CampaignInput!) { createCampaign(input: $input) { id audienceCount } }
"""
# Packaged products the bank keeps, and the one it does not sell (packaged only).
KEPT = ("SAV-BASIC", "CC-GOLD", "WM-STABLE")
PACKAGED_ONLY = "MMF-ZZB"


def bank_catalogue(path: Path, own: str, bands: list[str]) -> Path:
    """The bank's file: a product of its own (``own``, a deposit anyone may be offered), three
    packaged products, its income bands, the packaged suitability rules."""
    packaged = json.loads(PACKAGED.read_text(encoding="utf-8"))
    products = [copy.deepcopy(p) for p in packaged["products"] if p["code"] in KEPT]
    products.append(
        {"code": own, "name": "薪悦存", "category": "DEPOSIT", "accountType": "SAVINGS",
         "family": "XINYUE", "tier": 1, "riskLevel": 1, "termMonths": 12}
    )  # fmt: skip
    data = {
        "_about": "a bank's own catalogue",
        "products": products,
        "incomeBands": {"bands": bands},
        "suitability": packaged["suitability"],
    }
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def campaign(product: str, **audience: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "name": "bank",
        "product": product,
        "channel": "APP",
        "audience": audience,
        "controlShare": 0.1,
        "from": now.isoformat(),
        "to": (now + timedelta(days=30)).isoformat(),
    }


def tokens(make_token: Callable[..., str]) -> tuple[str, str]:
    officer = make_token(["privacy_officer"], sub="po1", purpose="compliance", purposes=None)
    marketing = make_token(["marketing_analyst"], sub="mk1", purpose="marketing", purposes=None)
    return officer, marketing


async def test_the_data_dir_catalogue_is_what_is_recommended_and_campaigned(
    store: GraphStore, data_dir: Path, make_token: Callable[..., str]
) -> None:
    # The demo book: the graph holds Product nodes of all 14 packaged products.
    await seed_demo(store, customers=60, seed=42, progress=False)
    bank_catalogue(data_dir / "catalogue.json", "BK-XINYUE", ["月入1万以下", "月入1万以上"])
    ids = [r["id"] for r in await store.read("MATCH (c:Customer) RETURN c.id AS id LIMIT 15")]
    officer_token, marketing_token = tokens(make_token)
    async with serve(store, Settings(data_dir=data_dir, introspection=False)) as client:
        officer, marketing = Api(client, officer_token), Api(client, marketing_token)
        recommended: set[str] = set()
        for cid in ids:
            body = await officer.gql(RECS, {"id": cid})
            assert not body.get("errors"), body
            recs = body["data"]["customer"]["recommendations"]
            recommended |= {r["product"]["code"] for r in recs}
        assert "BK-XINYUE" in recommended, recommended
        assert recommended <= {*KEPT, "BK-XINYUE"}, recommended

        made = await marketing.gql(CREATE, {"input": campaign("BK-XINYUE", notHolds="CC-GOLD")})
        assert not made.get("errors"), made
        banded = await marketing.gql(
            CREATE, {"input": campaign("CC-GOLD", incomeBands=["月入1万以上"])}
        )
        assert not banded.get("errors"), banded
        for overrides, field in (
            ({"product": PACKAGED_ONLY}, "product"),
            ({"audience": {"holds": PACKAGED_ONLY}}, "holds"),
            ({"audience": {"incomeBands": ["10万以下"]}}, "incomeBands"),  # the packaged band
        ):
            body = await marketing.gql(CREATE, {"input": {**campaign("CC-GOLD"), **overrides}})
            assert codes(body) == ["BAD_USER_INPUT"], (overrides, body)
            assert body["errors"][0]["extensions"]["field"] == field
        refused = await marketing.gql(
            CREATE, {"input": campaign("CC-GOLD", incomeBands=["10万以下"])}
        )
        assert "月入1万以下, 月入1万以上" in refused["errors"][0]["message"], refused


async def test_c360_catalogue_beats_the_data_dir_file(
    store: GraphStore,
    data_dir: Path,
    tmp_path: Path,
    make_token: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await seed_demo(store, customers=30, seed=7, progress=False)
    bank_catalogue(data_dir / "catalogue.json", "BK-LOCAL", ["A"])
    env_file = bank_catalogue(tmp_path / "bank.json", "BK-ENV", ["B"])
    monkeypatch.setenv("C360_CATALOGUE", str(env_file))
    settings = Settings(data_dir=data_dir, introspection=False)
    _, marketing_token = tokens(make_token)
    async with serve(store, settings) as client:
        marketing = Api(client, marketing_token)
        fine = await marketing.gql(CREATE, {"input": campaign("BK-ENV", incomeBands=["B"])})
        assert not fine.get("errors"), fine
        for product, bands, field in (
            ("BK-LOCAL", ["B"], "product"),
            ("BK-ENV", ["A"], "incomeBands"),
        ):
            body = await marketing.gql(CREATE, {"input": campaign(product, incomeBands=bands)})
            assert codes(body) == ["BAD_USER_INPUT"], body
            assert body["errors"][0]["extensions"]["field"] == field

    # doctor names the file in use, and why it is the one.
    monkeypatch.setenv("C360_DATA_DIR", str(data_dir))
    done = CliRunner().invoke(cli, ["doctor"], env={"COLUMNS": "300"})
    assert f"ok: catalogue {env_file} (C360_CATALOGUE): 4 products" in done.output, done.output


def bad_file(path: Path) -> Path:
    bank_catalogue(path, "BK-XINYUE", ["A"])
    data = json.loads(path.read_text(encoding="utf-8"))
    data["products"][1]["riskLevel"] = 0  # CC-GOLD
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_bad_data_dir_catalogue_stops_the_hub(data_dir: Path) -> None:
    bad_file(data_dir / "catalogue.json")
    with pytest.raises(catalogue.CatalogueError) as caught:
        create_app(Settings(data_dir=data_dir))
    assert str(caught.value).startswith(
        f"catalogue {data_dir / 'catalogue.json'} (the data dir's catalogue.json): "
        "products[1] (CC-GOLD).riskLevel: Input should be greater than or equal to 1 (got 0)"
    ), caught.value


def c360(data_dir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from hub.cli import main; main()", *args],
        env={**os.environ, "C360_DATA_DIR": str(data_dir), "COLUMNS": "300", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_bad_c360_catalogue_stops_serve_and_the_commands_in_one_line(
    tmp_path: Path,
) -> None:
    bad = bad_file(tmp_path / "bank.json")
    env = {"C360_CATALOGUE": str(bad)}
    entry = "products[1] (CC-GOLD).riskLevel: Input should be greater than or equal to 1 (got 0)"
    by_variable = (
        f"catalogue {bad} (C360_CATALOGUE): {entry}: fix the file, or point C360_CATALOGUE"
    )
    for args, said in (
        # A host this machine does not have: without the check, serve would fail to listen.
        (["serve", "--host", "203.0.113.1", "--port", "18301"], by_variable),
        (["recommend", "eval"], by_variable),
        (["catalogue", "check"], by_variable),
        (["catalogue", "check", str(bad)], f"catalogue {bad}: {entry}: fix the file"),
    ):
        done = c360(tmp_path / "data", env, *args)
        assert done.returncode == 2, (args, done)
        assert "Traceback" not in done.stderr + done.stdout, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert said in done.stderr, (args, done.stderr)
    doctor = c360(tmp_path / "data", env, "doctor")
    assert doctor.returncode == 1 and by_variable in doctor.stdout, doctor
