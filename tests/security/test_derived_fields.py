"""Every derived field, in every mode of its source kind, shows only what that mode reveals
(issue 11, item 3).

The walk finds the derived fields in the built schema, so a new one fails here until it is
listed with a query path and an expectation. For each mode a role sees *every* kind in that
mode (a policy override in the data dir), and two customers that the mode cannot tell apart
(same birth year, different dates; same amount band, either side of a segment bound) must get
the same derived value: anything else is a derived-field oracle (M2: ageBand from the full date
while the caller sees only the year).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from strawberry.types.base import StrawberryObjectDefinition

from graph.repositories.accounts import upsert_accounts
from graph.repositories.customers import upsert_customers
from graph.store import GraphStore
from hub.settings import Settings
from privacy.masking import band_range
from privacy.policy_set import PACKAGED_DIR
from privacy.types import MaskMode, SensitiveKind
from resolvers import analytics
from schema.extensions.masking import DERIVED_METADATA_KEY
from schema.root import build_schema
from tests.api.conftest import Api
from tests.security.privacy_hub import callers, open_hub

MIDDLE = 80_000.0  # inside the 5万-10万 band on purpose: a band straddles the segment bound
TODAY = datetime.now(UTC).date()
YEAR = TODAY.year - 25  # born 1 January: 25 this year; born 31 December: still 24 until then

# Two customers each mode of a kind cannot tell apart, and how they differ in full.
EARLY = {"id": "dv-early", "birthDate": date(YEAR, 1, 1).isoformat(), "assets": 60_000.0}
LATE = {"id": "dv-late", "birthDate": date(YEAR, 12, 31).isoformat(), "assets": 90_000.0}

# (type, field) -> (source kind, query selecting it for customer $id, path to the value)
DERIVED: dict[tuple[str, str], tuple[SensitiveKind, str, tuple[str, ...]]] = {
    ("Customer", "segment"): (SensitiveKind.AMOUNT, "segment", ("segment",)),
    ("Customer", "ageBand"): (SensitiveKind.BIRTH_DATE, "ageBand", ("ageBand",)),
    ("Customer", "daysToNextBirthday"): (
        SensitiveKind.BIRTH_DATE,
        "daysToNextBirthday",
        ("daysToNextBirthday",),
    ),
    ("ChurnRisk", "score"): (SensitiveKind.AMOUNT, "churnRisk { score }", ("churnRisk", "score")),
    ("ChurnRisk", "reasons"): (
        SensitiveKind.AMOUNT,
        "churnRisk { reasons }",
        ("churnRisk", "reasons"),
    ),
}

# Derived fields that do not hang off a customer record, each tried in every mode that matters
# where its source lives: (type, field) -> (source kind, the test that does).
ELSEWHERE: dict[tuple[str, str], tuple[SensitiveKind, str]] = {
    # Null unless the author's handle is shown in clear (hashed for brand analysts).
    ("Post", "url"): (SensitiveKind.SOCIAL_HANDLE, "tests/api/test_social_qa14.py"),
    # Null unless the policy shows customer links (never to brand analysts).
    ("SocialAccount", "customerLinked"): (
        SensitiveKind.CUSTOMER_LINK,
        "tests/api/test_social_s23.py",
    ),
}


def schema_derived_fields() -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
    schema = build_schema(Settings())
    out = {}
    for concrete in schema.schema_converter.type_map.values():
        definition = concrete.definition
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        for f in definition.fields:
            meta = f.metadata or {}
            if DERIVED_METADATA_KEY in meta:
                kind, allow = meta[DERIVED_METADATA_KEY]
                name = schema.config.name_converter.get_graphql_name(f)
                out[(definition.name, name)] = (str(kind), tuple(allow))
    return out


def expected(field: tuple[str, str], mode: str, person: dict[str, Any]) -> Any:
    """What the field may show in ``mode``: computed from the masked source only."""
    born = date.fromisoformat(person["birthDate"])
    if field == ("Customer", "segment"):
        if mode == MaskMode.REVEAL:
            return analytics.segment(person["assets"], 1_000_000.0, MIDDLE).value
        if mode in (MaskMode.BAND, MaskMode.PARTIAL):
            found = analytics.segment_in_range(*band_range(person["assets"]), 1_000_000.0, MIDDLE)
            return found.value if found else None
        return None
    if field == ("Customer", "ageBand"):
        if mode == MaskMode.REVEAL:
            return analytics.age_band(born, TODAY)
        if mode in (MaskMode.YEAR, MaskMode.PARTIAL):
            return analytics.age_band_from_year(born.year, TODAY)
        return None
    if field == ("Customer", "daysToNextBirthday"):
        return analytics.days_to_next_birthday(born, TODAY) if mode == MaskMode.REVEAL else None
    if field == ("ChurnRisk", "score"):
        # No activity at all: the inactivity signal only, the same in full and banded.
        shown = (MaskMode.REVEAL, MaskMode.BAND, MaskMode.PARTIAL)
        return 0.2 if mode in shown else None
    if field == ("ChurnRisk", "reasons"):
        return ["no recorded activity"] if mode == MaskMode.REVEAL else None
    raise AssertionError(f"no expectation for {field}")


@pytest.fixture
async def probe(store: GraphStore, data_dir: Path) -> AsyncIterator[Callable[[str], Api]]:
    """``probe(mode)``: a caller that may read every customer and sees every kind in ``mode``."""
    data = json.loads((PACKAGED_DIR / "data.json").read_text())
    tables = data["c360"]["tables"]
    for mode in MaskMode:
        tables["mask_profiles"][f"probe_{mode}"] = {k: str(mode) for k in tables["kinds"]}
        tables["resources"]["Customer"][f"probe_{mode}"] = {
            "service": {"actions": ["read"], "scope": "any", "masks": f"probe_{mode}"}
        }
    (data_dir / "policies").mkdir()
    (data_dir / "policies" / "data.json").write_text(json.dumps(data))
    for person in (EARLY, LATE):
        props = {
            "name": "同名",
            "birthDate": person["birthDate"],
            "createdAt": "2020-01-01T00:00:00Z",
        }
        await upsert_customers(store, [{"id": person["id"], "props": props}])
        account = {"type": "SAVINGS", "balance": person["assets"], "status": "ACTIVE"}
        await upsert_accounts(
            store, [{"id": f"{person['id']}-a", "customerId": person["id"], "props": account}]
        )
    # The hub judges "today" as the expectations do, even if the run crosses midnight UTC.
    async with open_hub(store, data_dir, segment_middle_assets=MIDDLE, as_of=TODAY) as client:
        make = callers(client, data_dir)
        yield lambda mode: make(f"probe_{mode}", "service")


def dig(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def test_every_derived_field_is_covered() -> None:
    found = schema_derived_fields()
    listed = set(DERIVED) | set(ELSEWHERE)
    assert set(found) == listed, "list the new derived field in DERIVED with a query"
    for field, (kind, _) in found.items():
        assert kind == (DERIVED[field] if field in DERIVED else ELSEWHERE[field])[0], field


async def test_every_derived_field_in_every_mode_shows_only_what_the_mode_reveals(
    probe: Callable[[str], Api],
) -> None:
    found = schema_derived_fields()
    assert date(YEAR + 25, 12, 31) != TODAY, "the pair differs in full only before 31 December"
    for field, (kind, selection, path) in DERIVED.items():
        allow = found[field][1]
        for mode in MaskMode:
            api = probe(mode)
            query = "query D($id: ID!) { customer(id: $id) { maskedFields " + selection + " } }"
            values = []
            for person in (EARLY, LATE):
                body = await api.gql(query, {"id": person["id"]})
                assert "errors" not in body, body
                customer = body["data"]["customer"]
                value = dig(customer, path)
                assert value == expected(field, mode, person), (field, mode, person["id"])
                if mode not in allow:
                    assert value is None, (field, mode)
                    if field[0] == "Customer":
                        assert field[1] in customer["maskedFields"], (field, mode)
                values.append(value)
            if mode != MaskMode.REVEAL:
                # The two customers look alike in this mode: so must everything derived.
                assert values[0] == values[1], (field, kind, mode, values)
            elif field[0] != "ChurnRisk":
                assert values[0] != values[1], (field, "the pair must differ in full")


async def test_segment_filter_tells_no_more_than_the_segment_field(
    probe: Callable[[str], Api],
) -> None:
    # QA finding: with the middle bound inside a band, `customers(segment:)` filtered on exact
    # amounts and its membership and count said which side of the bound a banded customer is.
    query = "query S($s: Segment) { customers(segment: $s) { totalCount edges { node { id } } } }"
    for mode in MaskMode:
        api = probe(mode)
        for segment in ("MASS", "MIDDLE", "HIGH"):
            body = await api.gql(query, {"s": segment})
            if body.get("errors"):
                assert mode not in (MaskMode.REVEAL, MaskMode.BAND), (mode, body)
                assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN_FILTER"
                continue
            listed = {e["node"]["id"] for e in body["data"]["customers"]["edges"]}
            found = body["data"]["customers"]["totalCount"]
            ours = listed & {EARLY["id"], LATE["id"]}
            want = {
                p["id"]
                for p in (EARLY, LATE)
                if expected(("Customer", "segment"), mode, p) == segment
            }
            assert ours == want, (mode, segment, ours)
            assert found == len(listed), (mode, segment)
