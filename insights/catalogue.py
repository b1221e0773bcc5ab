"""The product catalogue and suitability rules, kept as data (a catalogue file).

Up-sell follows ``family``/``tier``, eligibility follows ``riskLevel`` and the suitability
table; the code never names a product. Only the catalogue's products are products to the
next-best-action logic (recommendations, care tasks, campaigns): Product nodes of the graph
(social listening's terms, an interaction's productCode, the demo seed's copies) are not, and
their properties are not read either, so a stale copy never overrides the file's risk level.

Which file: ``C360_CATALOGUE`` (a path) when set, else ``<data dir>/catalogue.json`` when
present, else the packaged ``insights/catalogue.json`` (the demo bank's, which the demo seed
always uses). A process reads it once (changes take effect on restart); a file that does not
validate is a :class:`CatalogueError` naming the file, the entry and what to fix, and the hub
and the CLI refuse to start on it: falling back to the packaged products would recommend and
campaign products the bank does not sell.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

PACKAGED_FILE = Path(__file__).with_name("catalogue.json")
DATA_DIR_FILE = "catalogue.json"  # <data dir>/catalogue.json
MAX_TERM_MONTHS = 600  # 50 years: a longer term is a typo (days? a date?)
MAX_AGE = 150  # an age limit above this is a typo (a year?)

# The ages a customer may be as far as the caller can tell: (youngest, oldest). The full birth
# date gives one age; the birth year alone two (before and after the birthday); None: unknown.
Ages = tuple[int, int]

# Why a file is the catalogue: C360_CATALOGUE, the data dir's, the packaged one, or named on
# the command line (`c360 catalogue check FILE`).
Origin = Literal["C360_CATALOGUE", "data dir", "packaged", "argument"]


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
    min_age: int | None = None
    max_age: int | None = None

    def allows_ages(self, ages: Ages | None) -> bool:
        """Whether a customer of these possible ages may be offered the product: every one of
        them within the limits. Unknown ages (no birth date, or one the caller may not see)
        get no age-limited product: fail safe, a minor is never offered credit."""
        if self.min_age is None and self.max_age is None:
            return True
        if ages is None:
            return False
        youngest, oldest = ages
        return (self.min_age is None or youngest >= self.min_age) and (
            self.max_age is None or oldest <= self.max_age
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
    # The income bands a campaign audience may filter by (``incomeBands.bands``).
    income_bands: tuple[str, ...] = ()

    def get(self, code: str) -> CatalogueProduct | None:
        return self.products.get(code)

    def summary(self) -> str:
        """One line of what the file holds (doctor, `c360 catalogue check`)."""
        families = {p.family for p in self.products.values()}
        applies = ", ".join(sorted(self.suitability.applies_to)) or "every category"
        return (
            f"{len(self.products)} products in {len(families)} families, "
            f"{len(self.income_bands)} income bands, suitability for {applies}"
        )

    def higher_tiers(self, code: str) -> list[CatalogueProduct]:
        """Products of the same family with a higher tier, lowest tier first."""
        held = self.products.get(code)
        if held is None:
            return []
        return sorted(
            (p for p in self.products.values() if p.family == held.family and p.tier > held.tier),
            key=lambda p: p.tier,
        )


@dataclass(frozen=True)
class CatalogueFile:
    """A catalogue file and why it is the one in use (what a person changes to use another)."""

    path: Path
    origin: Origin

    def describe(self) -> str:
        if self.origin == "C360_CATALOGUE":
            return f"{self.path} (C360_CATALOGUE)"
        if self.origin == "data dir":
            return f"{self.path} (the data dir's catalogue.json)"
        if self.origin == "packaged":
            return f"{self.path} (packaged)"
        return str(self.path)

    def fix(self) -> str:
        """What to do about a bad file of this origin."""
        if self.origin == "C360_CATALOGUE":
            return "fix the file, or point C360_CATALOGUE at a valid one (c360 catalogue check)"
        if self.origin == "data dir":
            return "fix the file, then run c360 catalogue check"
        if self.origin == "packaged":
            return "the installed package is damaged: reinstall c360"
        return "fix the file"


class CatalogueError(ValueError):
    """The catalogue file cannot be used: one sentence naming the file, the entry and the fix."""


# --- the file's shape -----------------------------------------------------------------------
# Strict (no "1" for 1, no true for 1) and closed: an unknown key is a typo ("riskLevl") that
# would otherwise leave the default in force silently. Keys starting with "_" are comments.


def _trimmed(value: str) -> str:
    # " SAV-X" would never match the account's "SAV-X": say so rather than strip it.
    if not value.strip():
        raise ValueError("must not be empty")
    if value != value.strip():
        raise ValueError("must not start or end with a space")
    return value


Text = Annotated[str, AfterValidator(_trimmed)]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_comments(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: v for k, v in value.items() if not (isinstance(k, str) and k[:1] == "_")}
        return value


class _Product(_Entry):
    # Field names are the file's keys (camelCase, as the graph's Product properties).
    code: Text
    name: Text | None = None
    category: Text
    family: Text | None = None
    accountType: Text | None = None
    tier: int = Field(ge=1)
    riskLevel: int = Field(ge=1)
    termMonths: int | None = Field(default=None, ge=1, le=MAX_TERM_MONTHS)
    minAssets: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    minAge: int | None = Field(default=None, ge=0, le=MAX_AGE)
    maxAge: int | None = Field(default=None, ge=0, le=MAX_AGE)


class _IncomeBands(_Entry):
    bands: list[Text] = Field(min_length=1)


class _Suitability(_Entry):
    appliesTo: list[Text] = Field(default_factory=list)
    maxRiskLevel: dict[Text, Annotated[int, Field(ge=1)]] = Field(min_length=1)
    unknownProfileMaxRiskLevel: int = Field(default=1, ge=1)


class _File(_Entry):
    products: list[_Product] = Field(min_length=1)
    incomeBands: _IncomeBands
    suitability: _Suitability

    @model_validator(mode="after")
    def _references(self) -> _File:
        seen: set[str] = set()
        for i, p in enumerate(self.products):
            if p.code in seen:
                raise _Refused(
                    f"products[{i}] ({p.code}) code", "is listed twice; codes are unique"
                )
            seen.add(p.code)
            if p.minAge is not None and p.maxAge is not None and p.minAge > p.maxAge:
                raise _Refused(
                    f"products[{i}] ({p.code}) minAge",
                    f"({p.minAge}) is above maxAge ({p.maxAge}): nobody could be offered it",
                )
        for i, band in enumerate(self.incomeBands.bands):
            if band in self.incomeBands.bands[:i]:
                raise _Refused(f"incomeBands.bands[{i}] ({band})", "is listed twice")
        categories = {p.category for p in self.products}
        for i, category in enumerate(self.suitability.appliesTo):
            if category not in categories:
                raise _Refused(
                    f"suitability.appliesTo[{i}] ({category})",
                    "is no product's category (the products' categories are "
                    f"{', '.join(sorted(categories))})",
                )
        return self


class _Refused(ValueError):
    """A cross-entry check that failed: where, and what is wrong."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where} {problem}")


def _where(loc: tuple[int | str, ...], raw: Any) -> str:
    """``products[3] (LN-X).riskLevel`` from pydantic's location, with the product's code."""
    out = ""
    node = raw
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            code = node.get("code") if isinstance(node, dict) else None
            if isinstance(code, str) and code:
                out += f" ({code})"
        elif part == "[key]":  # pydantic's place for a mapping's key
            out += " (a key)"
        else:
            out += f".{part}" if out else part
            node = node.get(part) if isinstance(node, dict) else None
    return out or "the file"


def _problem(error: Mapping[str, Any], raw: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    loc = tuple(error["loc"])
    if error["type"] == "value_error" and isinstance(error.get("ctx", {}).get("error"), _Refused):
        return message
    if error["type"] == "extra_forbidden":
        return f"{_where(loc, raw)}: unknown key (a typo? comments are keys starting with _)"
    if error["type"] == "missing":
        return f"{_where(loc, raw)}: missing (it is required)"
    if error["type"] in ("model_type", "dict_type"):
        return f"{_where(loc, raw)}: must be a JSON object"
    shown = json.dumps(error.get("input"), ensure_ascii=False)
    shown = shown if len(shown) <= 60 else shown[:60] + "…"
    return f"{_where(loc, raw)}: {message} (got {shown})"


def read_catalogue(source: CatalogueFile) -> Catalogue:
    """The catalogue in ``source``, validated; CatalogueError naming what to fix."""
    where, fix = source.describe(), source.fix()
    try:
        text = source.path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogueError(f"catalogue {where} does not exist: {fix}") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise CatalogueError(f"catalogue {where} cannot be read ({reason}): {fix}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogueError(
            f"catalogue {where} is not JSON (line {exc.lineno} column {exc.colno}: {exc.msg}): "
            f"{fix}"
        ) from None
    try:
        parsed = _File.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise CatalogueError(
            f"catalogue {where}: {_problem(errors[0], raw)}{more}: {fix}"
        ) from None
    return _catalogue(parsed)


def _catalogue(parsed: _File) -> Catalogue:
    rules = parsed.suitability
    return Catalogue(
        products={
            p.code: CatalogueProduct(
                code=p.code,
                name=p.name or p.code,
                category=p.category,
                family=p.family or p.code,
                tier=p.tier,
                risk_level=p.riskLevel,
                term_months=p.termMonths,
                min_assets=p.minAssets,
                account_type=p.accountType,
                min_age=p.minAge,
                max_age=p.maxAge,
            )
            for p in parsed.products
        },
        suitability=Suitability(
            max_risk=dict(rules.maxRiskLevel),
            unknown_max=rules.unknownProfileMaxRiskLevel,
            applies_to=frozenset(rules.appliesTo),
        ),
        income_bands=tuple(parsed.incomeBands.bands),
    )


def catalogue_file(data_dir: Path, override: Path | None) -> CatalogueFile:
    """Which file is the catalogue: C360_CATALOGUE (``override``), else the data dir's
    catalogue.json when present, else the packaged one."""
    if override is not None and str(override).strip():
        return CatalogueFile(override.expanduser(), "C360_CATALOGUE")
    local = data_dir / DATA_DIR_FILE
    if local.exists() or local.is_symlink():  # a dangling link or a directory is a bad file
        return CatalogueFile(local, "data dir")
    return CatalogueFile(PACKAGED_FILE, "packaged")


@cache
def configured_catalogue(data_dir: Path, override: Path | None) -> Catalogue:
    """The catalogue this process uses, read once (the hub, its workers and each CLI command
    resolve the same settings, so the same file)."""
    return read_catalogue(catalogue_file(data_dir, override))


@cache
def default_catalogue() -> Catalogue:
    """The packaged catalogue: the demo bank's products (the demo seed and the tests)."""
    return read_catalogue(CatalogueFile(PACKAGED_FILE, "packaged"))


__all__ = [
    "DATA_DIR_FILE",
    "PACKAGED_FILE",
    "Ages",
    "Catalogue",
    "CatalogueError",
    "CatalogueFile",
    "CatalogueProduct",
    "Suitability",
    "catalogue_file",
    "configured_catalogue",
    "default_catalogue",
    "read_catalogue",
]
