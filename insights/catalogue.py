"""The product catalogue and suitability rules, kept as data (catalogue.json).

Up-sell follows ``family``/``tier``, eligibility follows ``riskLevel`` and the suitability
table; the code never names a product. Only catalogue.json's products are products to the
next-best-action logic (recommendations, campaigns): the graph's copies give their
properties, other Product nodes are ignored. A graph copy without these properties still
works: products without a tier are tier 1 of their own family, without a risk level R1.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class CatalogueProduct:
    code: str
    name: str
    category: str
    family: str
    tier: int = 1
    risk_level: int = 1
    term_months: int | None = None
    min_assets: float | None = None
    account_type: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> CatalogueProduct:
        code = str(row["code"])
        term = row.get("termMonths")
        floor = row.get("minAssets")
        return cls(
            code=code,
            name=str(row.get("name") or code),
            category=str(row.get("category") or ""),
            family=str(row.get("family") or code),
            tier=int(row.get("tier") or 1),
            risk_level=int(row.get("riskLevel") or 1),
            term_months=int(term) if term else None,
            min_assets=float(floor) if floor is not None else None,
            account_type=row.get("accountType"),
        )

    def graph_props(self) -> dict[str, Any]:
        props: dict[str, Any] = {
            "name": self.name,
            "category": self.category,
            "family": self.family,
            "tier": self.tier,
            "riskLevel": self.risk_level,
        }
        if self.term_months:
            props["termMonths"] = self.term_months
        if self.min_assets is not None:
            props["minAssets"] = self.min_assets
        return props


@dataclass(frozen=True)
class Suitability:
    max_risk: Mapping[str, int]
    unknown_max: int = 1
    applies_to: frozenset[str] = frozenset()  # categories; empty: every product

    def allows(self, risk_profile: str | None, product: CatalogueProduct) -> bool:
        if self.applies_to and product.category not in self.applies_to:
            return True
        limit = self.max_risk.get(risk_profile or "", self.unknown_max)
        return product.risk_level <= limit


@dataclass(frozen=True)
class Catalogue:
    products: Mapping[str, CatalogueProduct]
    suitability: Suitability

    def get(self, code: str) -> CatalogueProduct | None:
        return self.products.get(code)

    def higher_tiers(self, code: str) -> list[CatalogueProduct]:
        """Products of the same family with a higher tier, lowest tier first."""
        held = self.products.get(code)
        if held is None:
            return []
        return sorted(
            (p for p in self.products.values() if p.family == held.family and p.tier > held.tier),
            key=lambda p: p.tier,
        )

    def with_products(self, rows: Iterable[Mapping[str, Any]]) -> Catalogue:
        """This catalogue's rules with its products as the graph stores them. A Product node
        of a code outside the catalogue is left out: social listening's terms and an
        interaction's productCode create bare nodes (no category, no risk level, so no
        suitability rule would hold them back), which must never be recommended or become a
        campaign's product."""
        products = {
            code: CatalogueProduct.from_row(r)
            for r in rows
            if (code := str(r.get("code") or "")) in self.products
        }
        return Catalogue(products or self.products, self.suitability)


def _raw() -> dict[str, Any]:
    text = Path(__file__).with_name("catalogue.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def default_catalogue() -> Catalogue:
    raw = _raw()
    rules = raw["suitability"]
    return Catalogue(
        products={p["code"]: CatalogueProduct.from_row(p) for p in raw["products"]},
        suitability=Suitability(
            max_risk=dict(rules["maxRiskLevel"]),
            unknown_max=int(rules.get("unknownProfileMaxRiskLevel", 1)),
            applies_to=frozenset(rules.get("appliesTo") or ()),
        ),
    )


@cache
def income_bands() -> tuple[str, ...]:
    """The income bands a campaign audience may filter by (catalogue.json ``incomeBands``)."""
    return tuple(str(b) for b in _raw()["incomeBands"]["bands"])


__all__ = ["Catalogue", "CatalogueProduct", "Suitability", "default_catalogue", "income_bands"]
