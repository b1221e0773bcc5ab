"""The per-role leak battery (issue 11, items 5 and 9): canary customers written through the
API, then every role probes them with the query shapes an attacker tries (360 view with every
nested list, searches by each secret, ordering, aliases, fragments, households, admin roots,
bad input, writes). A leak is a canary value in a raw response body that the request itself
did not contain. The same canaries are then grepped for in the server log.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ingest.validators import cn_id_checksum

Query = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Canary:
    id: str
    name: str
    national: str  # the phone as typed in China
    id_number: str
    email: str
    consent: bool

    @property
    def phone(self) -> str:
        return "+86" + self.national

    def values(self, kinds: frozenset[str]) -> list[str]:
        table = {
            "NAME": [self.name],
            "PHONE": [self.phone, self.national],
            "NATIONAL_ID": [self.id_number],
            "EMAIL": [self.email],
        }
        return [v for kind in sorted(kinds) for v in table[kind]]


ALL_KINDS = frozenset({"NAME", "PHONE", "NATIONAL_ID", "EMAIL"})
# role, purpose, the canary kinds it must never see in full (data.json's mask profiles).
PROBES: tuple[tuple[str, str | None, frozenset[str]], ...] = (
    ("service_agent", "service", frozenset({"PHONE", "NATIONAL_ID", "EMAIL"})),
    ("marketing_analyst", "marketing", ALL_KINDS),
    ("brand_analyst", "marketing", ALL_KINDS),
    ("advisor", "service", ALL_KINDS),  # not the canaries' advisor
    ("intern", "service", ALL_KINDS),  # a role no policy knows
)
NAMES = "甄金丝雀鸣啼晓岚"


def make_canaries(count: int = 4) -> list[Canary]:
    tag = secrets.token_hex(3)
    out = []
    for i in range(count):
        digits = f"{secrets.randbelow(10**8):08d}"
        first17 = f"32010619870615{secrets.randbelow(1000):03d}"
        out.append(
            Canary(
                id=f"canary-{tag}-{i}",
                name="甄" + NAMES[i % len(NAMES)] + NAMES[(i + 3) % len(NAMES)] + tag[:2],
                national="139" + digits,
                id_number=first17 + cn_id_checksum(first17),
                email=f"canary.{tag}.{i}@example.cn",
                consent=i % 2 == 0,
            )
        )
    return out


UPSERT = """mutation Up($input: CustomerInput!) { upsertCustomer(input: $input) { id } }"""


CANARY_ADVISOR = "canary-advisor"


def import_canary_advisor(data_dir: Path) -> None:
    """The canaries' advisor, imported as a bank would (``c360 import advisors``) into the live
    hub's graph: upsertCustomer refuses an advisor that does not exist (session 16)."""
    csv = data_dir.parent / "canary-advisor.csv"
    csv.write_text(f"id,name,branchId\n{CANARY_ADVISOR},金丝雀顾问,BR-CANARY\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", "from hub.cli import main; main()", "import", "advisors",
         str(csv), "--no-progress"],
        env={**os.environ, "C360_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def write_canaries(client: httpx.Client, headers: dict[str, str], canaries: list[Canary]) -> None:
    """As a service agent (may write any customer); managed by an advisor nobody probes as
    (:func:`import_canary_advisor` first)."""
    for c in canaries:
        variables = {
            "input": {
                "id": c.id,
                "name": c.name,
                "phone": c.national,
                "idNumber": c.id_number,
                "email": c.email,
                "birthDate": "1987-06-15",
                "address": "南京市鼓楼区中山路1号",
                "advisorId": CANARY_ADVISOR,
                "consentMarketing": c.consent,
            }
        }
        response = client.post(
            "/graphql", json={"query": UPSERT, "variables": variables}, headers=headers
        )
        body = response.json()
        assert "errors" not in body, body


PERSONAL = "id name phone idNumber email address birthDate totalAssets maskedFields ageBand"
NESTED = (
    "accounts { id coOwners { id name phone idNumber email } } "
    "household { id name members { role customer { id name phone idNumber email } } } "
    "relatedCustomers { kind customer { id name phone idNumber email } } "
    "advisor { id } transactions(first: 5) { totalCount } interactions(first: 5) { totalCount }"
)


def queries(canaries: list[Canary], round_: int) -> Iterator[Query]:
    """One round of probes; ``round_`` varies page sizes and which canary leads."""
    c = canaries[round_ % len(canaries)]
    other = canaries[(round_ + 1) % len(canaries)]
    first = 5 + round_ % 40
    yield "query One($id: ID!) { customer(id: $id) { " + PERSONAL + " } }", {"id": c.id}
    yield (
        "query Deep($id: ID!) { customer(id: $id) { " + PERSONAL + " " + NESTED + " } }",
        {"id": c.id},
    )
    yield (
        "query Frag($id: ID!) { customer(id: $id) { ...P } } fragment P on Customer { "
        + PERSONAL
        + " }",
        {"id": c.id},
    )
    yield (
        "query Two($a: ID!, $b: ID!) { a: customer(id: $a) { id phone } "
        "b: customer(id: $b) { id idNumber email name } }",
        {"a": c.id, "b": other.id},
    )
    search = (
        "query S($q: String, $first: Int, $o: CustomerOrder!) { customers(search: $q, "
        "first: $first, orderBy: $o) { totalCount edges { node { id name phone idNumber email "
        "} } } }"
    )
    for value in (c.phone, c.national, c.id_number, c.name, c.email, c.name[:2], c.id):
        yield search, {"q": value, "first": first, "o": "ID"}
    for order in ("ID", "NAME"):
        yield search, {"q": None, "first": first, "o": order}
    yield (
        "query Seg($first: Int) { customers(segment: MASS, first: $first) { totalCount "
        "edges { node { id name phone } } } }",
        {"first": first},
    )
    yield "query Cand($id: ID!) { linkCandidates(customerId: $id) { handle } }", {"id": c.id}
    yield "{ auditEvents(first: 20) { edges { node { subject customerIds } } } }", {}
    yield (
        'query Prev($id: ID!) { previewAccess(customerId: $id, role: "advisor", '
        'purpose: "service") { allowed fields { field mode } } }',
        {"id": c.id},
    )
    # Bad input and writes, answered with errors that must not echo stored values.
    yield "query Bad($id: ID!) { customer(id: $id) { nope } }", {"id": c.id}
    yield "query Nul($q: String) { customers(search: $q) { totalCount } }", {"q": c.phone + "\x00"}
    # A write of the values it already has (service agents may write: nothing changes).
    yield UPSERT, {"input": {"id": c.id, "phone": c.national, "name": c.name}}


def forms(value: str) -> tuple[str, str]:
    """The value as written and as JSON writes it with ASCII escapes (the API's bodies)."""
    return value, json.dumps(value)[1:-1]


def contains(text: str, value: str) -> bool:
    return any(form in text for form in forms(value))


def leaks_in(text: str, request_text: str, forbidden: list[str]) -> list[str]:
    """Forbidden values the response holds that the request did not send itself."""
    return [v for v in forbidden if contains(text, v) and not contains(request_text, v)]


@dataclass
class RoleResult:
    role: str
    requests: int = 0
    leaks: int = 0
    server_errors: int = 0


def run_battery(
    client: httpx.Client,
    headers_for: Callable[[str, str | None], dict[str, str]],
    canaries: list[Canary],
    rounds: int,
) -> list[RoleResult]:
    results = []
    for role, purpose, kinds in PROBES:
        headers = headers_for(role, purpose)
        forbidden = [v for c in canaries for v in c.values(kinds)]
        result = RoleResult(role)
        for round_ in range(rounds):
            for q, v in queries(canaries, round_):
                payload = json.dumps({"query": q, "variables": v}, ensure_ascii=False)
                response = client.post(
                    "/graphql",
                    content=payload.encode(),
                    headers={**headers, "Content-Type": "application/json"},
                )
                result.requests += 1
                result.server_errors += response.status_code >= 500
                found = leaks_in(response.text, payload, forbidden)
                result.leaks += len(found)
                assert not found, (role, q, found)
        results.append(result)
    return results


__all__ = [
    "PROBES",
    "Canary",
    "RoleResult",
    "contains",
    "leaks_in",
    "make_canaries",
    "queries",
    "run_battery",
    "write_canaries",
]
