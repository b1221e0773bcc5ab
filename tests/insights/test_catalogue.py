"""The catalogue file: which one is in use (C360_CATALOGUE, else the data dir's, else the
packaged one), and a file that does not validate named down to the entry and what to fix."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from insights.catalogue import (
    PACKAGED_FILE,
    CatalogueError,
    CatalogueFile,
    catalogue_file,
    configured_catalogue,
    default_catalogue,
    read_catalogue,
)

PACKAGED: dict[str, Any] = json.loads(PACKAGED_FILE.read_text(encoding="utf-8"))


def bank_file(path: Path, change: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """The packaged catalogue with ``change`` applied, written to ``path``."""
    data = copy.deepcopy(PACKAGED)
    if change is not None:
        change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_the_packaged_file_validates() -> None:
    packaged = default_catalogue()
    assert len(packaged.products) == 14 and packaged.income_bands[0] == "10万以下"
    assert packaged.products["WM-GROWTH"].risk_level == 4


def test_the_packaged_age_limits_are_a_default() -> None:
    """Session 20 (M2): cards from 18, loans from 18 to 70, the rest for any age; a product
    with a limit is offered to no customer of unknown age."""
    packaged = default_catalogue()
    limits = {code: (p.min_age, p.max_age) for code, p in packaged.products.items()}
    assert {c for c, lim in limits.items() if lim != (None, None)} == {
        "CC-GOLD", "CC-PLAT", "LN-MORT", "LN-CONS", "LN-BIZ"
    }  # fmt: skip
    assert limits["CC-GOLD"] == (18, None) and limits["LN-CONS"] == (18, 70)
    card, loan = packaged.products["CC-GOLD"], packaged.products["LN-CONS"]
    assert not card.allows_ages(None) and packaged.products["SAV-BASIC"].allows_ages(None)
    assert not card.allows_ages((17, 17)) and card.allows_ages((18, 18))
    assert not card.allows_ages((17, 18))  # the birth year alone: maybe 17
    assert loan.allows_ages((70, 70)) and not loan.allows_ages((70, 71))


def test_c360_catalogue_beats_the_data_dir_file_which_beats_the_packaged_one(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    assert catalogue_file(data_dir, None) == CatalogueFile(PACKAGED_FILE, "packaged")
    local = bank_file(data_dir / "catalogue.json")
    assert catalogue_file(data_dir, None) == CatalogueFile(local, "data dir")
    env = bank_file(tmp_path / "bank.json")
    assert catalogue_file(data_dir, env) == CatalogueFile(env, "C360_CATALOGUE")


def test_the_file_s_own_products_rules_and_bands_are_read(tmp_path: Path) -> None:
    def bank(data: dict[str, Any]) -> None:
        data["products"] = [
            {"code": "BK-XY", "name": "薪悦存", "category": "DEPOSIT", "tier": 1, "riskLevel": 1},
            {"code": "BK-FUND", "category": "WEALTH", "tier": 1, "riskLevel": 3,
             "termMonths": 6, "minAssets": 1000},
        ]  # fmt: skip
        data["incomeBands"] = {"bands": ["A", "B"]}
        data["suitability"] = {"appliesTo": ["WEALTH"], "maxRiskLevel": {"稳健": 3}}

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    bank_file(data_dir / "catalogue.json", bank)
    mine = configured_catalogue(data_dir, None)
    assert set(mine.products) == {"BK-XY", "BK-FUND"}
    assert (
        mine.products["BK-FUND"].name == "BK-FUND" and mine.products["BK-FUND"].family == "BK-FUND"
    )
    assert mine.income_bands == ("A", "B")
    assert mine.suitability.allows("稳健", mine.products["BK-FUND"])
    assert not mine.suitability.allows(None, mine.products["BK-FUND"])  # unknown profile: R1


def _product(i: int, **fields: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: data["products"][i].update(fields)


def _drop(i: int, key: str) -> Callable[[dict[str, Any]], None]:
    return lambda data: data["products"][i].pop(key)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (_product(2, riskLevel=0), "products[2] (SAV-CD).riskLevel: Input should be greater"),
        (_product(2, riskLevl=3), "products[2] (SAV-CD).riskLevl: unknown key"),
        (_drop(5, "riskLevel"), "products[5] (CC-GOLD).riskLevel: missing"),
        (_product(1, tier="2"), "products[1] (SAV-TERM).tier: Input should be a valid integer"),
        (_product(1, tier=True), "products[1] (SAV-TERM).tier: Input should be a valid integer"),
        (_product(3, code="SAV-BASIC"), "products[3] (SAV-BASIC) code is listed twice"),
        (_product(3, code=""), "products[3].code: must not be empty"),
        (_product(3, code="SAV-X "), "code: must not start or end with a space"),
        (_product(1, termMonths=360000), "products[1] (SAV-TERM).termMonths: Input should be"),
        (_product(1, minAssets=-5), "products[1] (SAV-TERM).minAssets: Input should be greater"),
        # Session 20: age limits (M2).
        (_product(5, minAge=-1), "products[5] (CC-GOLD).minAge: Input should be greater"),
        (_product(5, maxAge=1990), "products[5] (CC-GOLD).maxAge: Input should be less"),
        (_product(5, minAge="18"), "products[5] (CC-GOLD).minAge: Input should be a valid int"),
        (_product(7, minAge=71), "products[7] (LN-MORT) minAge (71) is above maxAge (70)"),
        (
            lambda d: d["suitability"].update(appliesTo=["WEALTHY"]),
            "suitability.appliesTo[0] (WEALTHY) is no product's category",
        ),
        (
            lambda d: d["suitability"]["maxRiskLevel"].update({"保守": 0}),
            "suitability.maxRiskLevel.保守: Input should be greater than or equal to 1",
        ),
        (lambda d: d["incomeBands"].update(bands=[]), "incomeBands.bands: List should have"),
        (
            lambda d: d["incomeBands"].update(bands=["10万以下", "10万以下"]),
            "incomeBands.bands[1] (10万以下) is listed twice",
        ),
        (lambda d: d.pop("incomeBands"), "incomeBands: missing"),
        (lambda d: d.update(product=[]), "product: unknown key"),
    ],
)
def test_a_bad_file_names_the_entry_and_what_to_fix(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], said: str
) -> None:
    path = bank_file(tmp_path / "bank.json", change)
    with pytest.raises(CatalogueError) as caught:
        read_catalogue(CatalogueFile(path, "C360_CATALOGUE"))
    message = str(caught.value)
    assert message.startswith(f"catalogue {path} (C360_CATALOGUE): "), message
    assert said in message and "point C360_CATALOGUE at a valid one" in message, message
    assert "\n" not in message


def test_a_file_that_is_not_a_catalogue_is_named(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "catalogue.json").write_text('{"products": [', encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"the data dir's catalogue.json\) is not JSON"):
        configured_catalogue(data_dir, None)
    with pytest.raises(CatalogueError, match="does not exist"):
        configured_catalogue(data_dir, tmp_path / "missing.json")
    # A directory where the file should be is a bad file, not "no file": never the packaged one.
    other = tmp_path / "other"
    (other / "catalogue.json").mkdir(parents=True)
    with pytest.raises(CatalogueError, match="cannot be read"):
        configured_catalogue(other, None)


def test_a_dangling_link_in_the_data_dir_is_a_bad_file(tmp_path: Path) -> None:
    # A link whose target went (a mount not there yet) must not fall back to the packaged
    # products: the bank would be sold the demo bank's.
    (tmp_path / "catalogue.json").symlink_to(tmp_path / "gone.json")
    with pytest.raises(CatalogueError, match=r"catalogue\.json\) does not exist"):
        configured_catalogue(tmp_path, None)
