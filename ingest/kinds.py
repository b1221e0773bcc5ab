"""The import kinds: what each ``c360 import <kind>`` validates with, writes with, looks up, and
requires. One table, read by the importer and by the CLI (its commands and their help)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from graph.repositories.accounts import (
    insert_transactions,
    upsert_accounts,
    upsert_holdings,
    upsert_transactions,
)
from graph.repositories.advisors import upsert_advisors
from graph.repositories.customers import case_twins, upsert_customers
from graph.repositories.households import upsert_households
from graph.repositories.imports import (
    Found,
    Lookup,
    held,
    lookup_accounts,
    lookup_advisors,
    lookup_customers,
    lookup_holdings,
    lookup_households,
    lookup_interactions,
    lookup_social_accounts,
    lookup_transactions,
)
from graph.repositories.interactions import upsert_interactions
from graph.repositories.social import link_social_accounts
from graph.store import GraphStore, Row
from ingest.household_warnings import HouseholdWarnings
from ingest.identity_warnings import IdentityWarnings
from ingest.mapping import ColumnMapping
from ingest.social.accounts import SocialAccountLink, link_conflicts
from ingest.summary import ImportRefused
from shared.echo import echo
from shared.records import (
    AccountRecord,
    AdvisorRecord,
    CustomerRecord,
    HoldingRecord,
    HouseholdRecord,
    ImportRecord,
    InteractionRecord,
    TransactionRecord,
    stored_id_reasons,
)
from shared.validators import NO_CASE_TWIN, birth_date_from_cn_id

BIRTH_DATE_DISAGREES = (
    "birthDate: does not agree with the ID number on record (or that cannot be opened: the "
    "customer's key is gone); fix the export, or give idNumber with birthDate"
)

Upsert = Callable[[GraphStore, list[Row]], Awaitable[int]]
Conflicts = Callable[[Row, Found], list[str]]
# (row, what the lookup found, the import's --as-of) -> the row to write, and why some of its
# fields were left out (None: all of it is written).
Stale = Callable[[Row, Found, str | None], tuple[Row, str | None]]


class Advice(Protocol):
    """Warnings on rows an import writes (ImportKind.advice): ``prepare`` reads what a batch
    needs, once, after its lookup; ``warnings`` judges each row written, in input order."""

    async def prepare(self, store: GraphStore, rows: list[Row], found: list[Found]) -> None: ...

    def warnings(self, row: Row, state: Found, line: int) -> list[str]: ...


@dataclass(frozen=True)
class ImportKind:
    """``model``: a pydantic model class whose instances have ``to_graph_row()``; ``keys``: the
    columns every file must have (after mapping), default ``model.KEY_FIELDS``;
    ``unique``: what makes two rows of one file the same record (default ``keys``);
    ``lookup``: reads the stored state of a batch (None: every row counts as "upserted");
    ``insert``: writes rows the lookup found absent, more cheaply than ``upsert`` and as
    idempotently (None: ``upsert`` writes them);
    ``link``: the row field compared with the lookup's ``links``; ``home``: the row field
    naming the one parent the record belongs to, stored on its node too (a transaction's
    account, an interaction's customer): a row naming another one moves the record there
    (the upsert replaces the parent edge) and counts as updated; ``parents``: parent key
    field -> the kind that imports it (a row whose parent is missing is a dead letter, unless
    ``--create-missing`` and ``creates_parents``: the upsert MERGEs bare parents);
    ``kept``: sealed fields a row that moves its record to another ``home`` keeps from the
    stored record when it does not give them (an interaction's summary): the lookup opened
    them under the old owner's key, the upsert seals them under the new one's;
    ``erased``: row field -> what an erasure erased by that id ("customers" / "households"):
    a row naming an erased one is a dead letter (ingest.erasures);
    ``conflicts``: the reasons a valid row cannot be written over what the lookup found
    (a customer's birth date without the ID number on record): a dead letter;
    ``exclusive``: fields whose values one ``link`` holds alone (a social handle: one
    customer): a row giving them with another link than an earlier row of the same import
    is judged as if that row's link were stored (added to the lookup's ``links``, its line
    as ``claimedBy``), so ``conflicts`` refuses it as it refuses a stored one;
    ``stale``: the row without the fields the stored record holds newer evidence for (a
    customer's consents, :func:`stale_consent`), and why: the rest of the row is written and
    the line is warned of;
    ``one_case``: ids compared without case, as ``conflicts`` compares a new id with the
    stored ones (customers): a new id of a row differing only by case from one an earlier row
    of the same import brings in is a dead letter too (:func:`import_case_conflict`);
    ``one_home``: an id names one record whatever its ``home`` (a transaction's id is its
    graph key): a row giving an id another home than an earlier row of the same import did
    is a dead letter, not a move (ingest.writing);
    ``advice``: makes one import's :class:`Advice`, which warns of rows imported as given
    that a reviewer wants to see (one ID number on two customers, two household heads);
    ``money``: the amount prop whose currency a row without one takes from the stored
    record, else (a new record) from its ``money_parent`` account, else the book's CNY; its
    decimals are checked against that currency (ingest.currencies);
    ``help``: the CLI command's one-line help."""

    model: type[ImportRecord] | type[SocialAccountLink]
    upsert: Upsert
    keys: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()
    lookup: Lookup | None = None
    insert: Upsert | None = None
    link: str | None = None
    home: str | None = None
    parents: dict[str, str] = field(default_factory=dict)
    creates_parents: bool = True
    kept: tuple[str, ...] = ()
    erased: dict[str, str] = field(default_factory=dict)
    conflicts: Conflicts | None = None
    exclusive: tuple[str, ...] = ()
    stale: Stale | None = None
    one_case: bool = False
    one_home: bool = False
    advice: Callable[[], Advice] | None = None
    money: str | None = None
    money_parent: str | None = None
    help: str = ""

    def __post_init__(self) -> None:
        if not self.keys:
            object.__setattr__(self, "keys", self.model.KEY_FIELDS)
        if not self.unique:
            object.__setattr__(self, "unique", self.keys)

    @property
    def fields(self) -> list[str]:
        return list(self.model.model_fields)


async def _lookup_customers(store: GraphStore, rows: list[Row]) -> list[Found]:
    """The customers' lookup, each new id whose case twin is stored (``c000031`` next to
    ``C000031``, graph.repositories.customers.case_twins) noted as ``caseTwin``: read side by
    side, one round trip's wait."""
    found, twins = await asyncio.gather(
        lookup_customers(store, rows), case_twins(store, [str(r["id"]) for r in rows])
    )
    return [
        {**f, "caseTwin": twins[r["id"]]} if r["id"] in twins else f
        for r, f in zip(rows, found, strict=True)
    ]


def case_conflict(twin: str) -> str:
    return (
        f"id: differs only by case from the stored customer {echo(twin)}; {NO_CASE_TWIN}: "
        "write the stored id"
    )


def import_case_conflict(first: str, line: int) -> str:
    return (
        f"id: differs only by case from the customer {echo(first)} of line {line} of this "
        f"import; {NO_CASE_TWIN}: write one spelling"
    )


def _customer_conflicts(row: Row, found: Found) -> list[str]:
    """A new id whose case twin is stored would be a second customer (as upsertCustomer
    refuses it). The API refuses a birth date without the ID number whatever its value (an
    oracle otherwise); the import runs with every key and may compare: a date that agrees with
    the ID number on record is taken (a CRM export of ``id,name,birthDate`` re-imported)."""
    if twin := found.get("caseTwin"):
        return [case_conflict(str(twin))]
    given = row.get("props") or {}
    if not stored_id_reasons(given, held(found)):
        return []
    stored = (found.get("props") or {}).get("idNumber")
    try:
        born = birth_date_from_cn_id(str(stored)).isoformat() if stored else None
    except ValueError:  # not a mainland ID number: nothing to compare with
        born = None
    return [] if born == given.get("birthDate") else [BIRTH_DATE_DISAGREES]


CONSENTS = ("consentMarketing", "consentDataSharing")
CONSENT_FIELDS = (*CONSENTS, "consentUpdatedAt")


def stale_consent(row: Row, found: Found, as_of: str | None) -> tuple[Row, str | None]:
    """A customer row's consents, left out when the stored ones may be newer than the row's
    evidence: an import never gives back a consent withdrawn after its file was exported
    (QA, session 22: a re-imported file said yes again, dated with the withdrawal's time).

    The evidence is the row's ``consentUpdatedAt``, else the import's ``as_of`` (when the
    file was exported), else unknown. A row's consents are written when the customer holds
    none yet, or when its evidence is later than the stored ``consentUpdatedAt`` (a stored
    consent without one is older than any dated evidence); written, they are dated with
    the evidence (unknown: no date). Otherwise they are left out, and said why when they
    would have changed a stored answer (the same answers, or only an older date, are no
    news). Times compare as their UTC ISO text; a date-only evidence counts as that day's
    start, so it never wins over a change made that day."""
    given = row.get("props") or {}
    if not any(f in given for f in CONSENT_FIELDS):
        return row, None
    stored = (found.get("props") or {}) if found.get("exists") else {}
    evidence = given.get("consentUpdatedAt") or as_of
    if any(stored.get(f) is not None for f in CONSENT_FIELDS):
        since = stored.get("consentUpdatedAt")
        if evidence is None or (since is not None and str(evidence) <= str(since)):
            props = {k: v for k, v in given.items() if k not in CONSENT_FIELDS}
            if not any(f in given and given[f] != stored.get(f) for f in CONSENTS):
                return {**row, "props": props}, None
            told = f"as of {evidence}" if evidence else "undated"
            why = (
                f"consents not changed: the stored ones were changed at {since}, after "
                f"this row's ({told})"
                if since
                else "consents not changed: the customer holds consents, and this row's are undated"
            )
            return {**row, "props": props}, (
                f"{why}; give a later consentUpdatedAt column, or --as-of (when the file "
                "was exported) if that is later"
            )
    if evidence is not None and given.get("consentUpdatedAt") != evidence:
        return {**row, "props": {**given, "consentUpdatedAt": evidence}}, None
    return row, None


# The registry: add a kind with one entry; key columns default to the model's KEY_FIELDS.
KINDS: dict[str, ImportKind] = {
    "customers": ImportKind(
        CustomerRecord, upsert_customers, lookup=_lookup_customers, link="advisorId",
        parents={"advisorId": "advisors"}, erased={"id": "customers"},
        conflicts=_customer_conflicts, stale=stale_consent, one_case=True,
        advice=IdentityWarnings,
        help="Customers: id, name, gender, birthDate, idNumber, phone, email, ... advisorId."),
    "accounts": ImportKind(
        AccountRecord, upsert_accounts, lookup=lookup_accounts, link="customerId",
        parents={"customerId": "customers"}, erased={"customerId": "customers"},
        money="balance",
        help="Accounts: id, customerId (owner), type, product, balance, currency, openedAt."),
    "holdings": ImportKind(
        HoldingRecord, upsert_holdings, lookup=lookup_holdings, link="role",
        parents={"customerId": "customers", "accountId": "accounts"},
        erased={"customerId": "customers"},
        help="Account holders: customerId, accountId, role (OWNER|JOINT)."),
    "households": ImportKind(
        HouseholdRecord, upsert_households, unique=("id", "customerId"),
        lookup=lookup_households, link="role", parents={"customerId": "customers"},
        erased={"id": "households", "customerId": "customers"}, advice=HouseholdWarnings,
        help="Household members: id, name, address, customerId, role."),
    "transactions": ImportKind(
        TransactionRecord, upsert_transactions, lookup=lookup_transactions,
        insert=insert_transactions, link="accountId", home="accountId", one_home=True,
        parents={"accountId": "accounts"}, money="amount", money_parent="accountId",
        help="Transactions: id, accountId, amount, currency, time, channel, kind."),
    "interactions": ImportKind(
        InteractionRecord, upsert_interactions, unique=("id",), lookup=lookup_interactions,
        link="productCode", home="customerId", parents={"customerId": "customers"},
        kept=("summary",), erased={"customerId": "customers"},
        help="Interactions: id, customerId, channel, kind, time, summary, satisfaction."),
    "advisors": ImportKind(
        AdvisorRecord, upsert_advisors, lookup=lookup_advisors, link="branchId",
        help="Advisors and branches: id, name, phone, email, title, branchId, branchName."),
    # A handle links to a customer that exists: --create-missing makes no bare customer.
    # And to one customer: linkSocialAccount's rule (link_conflicts), in the file too.
    "social-accounts": ImportKind(
        SocialAccountLink, link_social_accounts, lookup=lookup_social_accounts, link="customerId",
        parents={"customerId": "customers"}, creates_parents=False,
        erased={"customerId": "customers"}, conflicts=link_conflicts,
        exclusive=("platform", "handle"),
        help="Confirmed social handles: customerId, platform, handle."),
}  # fmt: skip


def kind_spec(kind: str, kinds: dict[str, ImportKind] | None = None) -> ImportKind:
    kinds = kinds or KINDS
    spec = kinds.get(kind)
    if spec is None:
        raise ImportRefused(f"unknown import kind {kind!r}; use one of {', '.join(kinds)}")
    return spec


def check_mapping(
    kind: str, mapping: ColumnMapping, kinds: dict[str, ImportKind] | None = None
) -> None:
    """Raise MappingError if the mapping names a field ``kind`` does not have."""
    mapping.check(kind_spec(kind, kinds).fields, kind)


__all__ = [
    "KINDS",
    "Advice",
    "ImportKind",
    "Upsert",
    "case_conflict",
    "check_mapping",
    "import_case_conflict",
    "kind_spec",
    "stale_consent",
]
