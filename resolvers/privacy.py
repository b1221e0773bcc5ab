"""Per-request privacy state: batched policy decisions and what the audit record will say.

``PrivacyServices`` (privacy/services.py) is app-wide (engine, audit log, mask key, policy
admin), built in the lifespan. ``RequestPrivacy`` lives for one request: one ``engine.decide``
per DataLoader batch of customers (their attributes come with the customer loader's own query),
decisions cached for the request, and per customer the fields revealed and masked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from strawberry.dataloader import DataLoader

from graph.repositories.access import ACCESS_KEY, advisor_branches, customer_attributes
from graph.store import GraphStore, Row
from privacy.audit import make_record, numbered, split_customers
from privacy.services import PrivacyServices
from privacy.types import (
    Decision,
    MaskMode,
    PolicyUnavailable,
    Principal,
    Resource,
)
from resolvers.errors import ApiError, NotFound
from resolvers.loaders import forget
from resolvers.paced_loader import PacedDataLoader
from shared.echo import echo_id
from shared.settings import AUDIT_CUSTOMERS_PER_RECORD

READ, WRITE = "read", "write"
INTENT = "intent"  # the outcome of a write-ahead audit record
CUSTOMER = "Customer"
# A handle suggested for linking to a customer (linkCandidates), decided with that customer's
# policy attributes: the policy gives it to the roles that may link handles to the customer.
LINK_CANDIDATE = "LinkCandidate"

# Policy attributes no real customer has (no advisor, no branch, no consent): a decision on
# them is what the caller's roles give whatever the customer, i.e. its unconditional grants.
UNSEEN_ATTRIBUTES: dict[str, Any] = customer_attributes(None, None, False, False)

# Decided in place of a customer an id names and the graph does not hold, as a customer of
# another advisor in another branch without consents is, so a miss costs the question a
# customer the caller may not see costs: fresh from the engine in an id lookup's search
# (resolvers/search.py, whose hits are fresh), as kept answers are in customer(id:) (_load).
PAD_ROW: Row = {
    "id": "\x00pad",
    ACCESS_KEY: {
        "advisorId": "\x00pad",
        "branchId": "\x00pad",
        "consentMarketing": False,
        "consentDataSharing": False,
    },
}


class CustomerGoverned(Protocol):
    """A GraphQL type whose personal fields the customer's decision governs (the schema types
    carry ``customer_id`` as a Private field)."""

    customer_id: str


class ResourceGoverned(Protocol):
    """A GraphQL type governed by a decision on another resource (a Post, a SocialAccount)."""

    policy_resource: Resource


def governed_by(source: CustomerGoverned | ResourceGoverned | object) -> str | Resource | None:
    """The customer id or the resource whose decision governs ``source``'s personal fields.

    Attribute lookups, not ``isinstance`` on the protocols: this runs for every personal field
    resolved, and a runtime protocol check costs a hundred times more."""
    cid = getattr(source, "customer_id", None)
    if isinstance(cid, str):
        return cid
    resource = getattr(source, "policy_resource", None)
    return resource if isinstance(resource, Resource) else None


class Forbidden(ApiError):
    """The policy denies this resource; the message carries the policy's reason (no values)."""

    code = "FORBIDDEN"


class ForbiddenFilter(ApiError):
    """A filter or ordering would reveal a field the caller only sees masked."""

    code = "FORBIDDEN_FILTER"

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message, field=field)


def customer_resource(customer_id: str, row: Row) -> Resource:
    return Resource(CUSTOMER, customer_id, dict(row.get(ACCESS_KEY) or {}))


@dataclass
class FieldLog:
    revealed: set[str] = field(default_factory=set)
    masked: set[str] = field(default_factory=set)


class RequestPrivacy:
    """One request's decisions (cached) and its audit accumulator."""

    def __init__(
        self,
        services: PrivacyServices,
        principal: Principal | None,
        customer_rows: Callable[[list[str]], Awaitable[list[Row | None]]],
        request_id: str = "",
        per_record: int = AUDIT_CUSTOMERS_PER_RECORD,
    ) -> None:
        self.services = services
        self.principal = principal
        self.request_id = request_id
        # Customers one audit record names at most (C360_AUDIT_CUSTOMERS_PER_RECORD).
        self.per_record = per_record
        self.decided: dict[str, Decision] = {}  # customer id -> decision
        self.resources: dict[tuple[str, str], Decision] = {}  # (type, id) -> decision
        self.fields: dict[str, FieldLog] = defaultdict(FieldLog)
        self.customers_touched: set[str] = set()
        # Customer ids the caller named (require, require_write, the 360 prefetch), noted
        # before anything is read: a request cut off before deciding them still names them.
        self.asked: set[str] = set()
        self.denied = False
        self.failed = False
        self.audit_always = False
        self.details: dict[str, Any] = {}
        self._customer_rows = customer_rows
        self._reach: dict[str, tuple[Decision, Decision]] = {}
        # Customer id -> their own values a note about them may name (own_values).
        self.own: dict[str, dict[str, Any]] = {}
        self.customers: DataLoader[str, Decision | None] = PacedDataLoader(load_fn=self._load)
        self.others: DataLoader[Resource, Decision] = PacedDataLoader(
            load_fn=self._load_resources, cache_key_fn=lambda r: (r.type, r.id)
        )

    @property
    def hmac_key(self) -> bytes:
        return self.services.hmac_key

    async def decide(
        self, resources: list[Resource], action: str = READ, fresh: bool = False
    ) -> dict[str, Decision]:
        """Reads decide what a response shows (mutations too); writes are checked explicitly."""
        try:
            # Its batches take turns with other subjects' (privacy/decision_queue.py).
            return await self.services.decide(self.principal, action, resources, fresh)
        except PolicyUnavailable:
            self.failed = True
            raise

    async def _load(self, ids: list[str]) -> list[Decision | None]:
        rows = await self._customer_rows(ids)
        found = {cid: row for cid, row in zip(ids, rows, strict=True) if row is not None}
        for cid, row in found.items():
            self.own[cid] = own_of(row)
        # An id the graph does not hold is decided as PAD_ROW, in the same batch: a miss then
        # costs what a customer the caller may not see costs, so customer(id:) tells the two
        # apart neither by its answer nor by its time (it answered ~1 ms sooner: QA, session
        # 26). The pad's answer is dropped: the id stays unknown (None).
        decided = await self.decide(
            [customer_resource(cid, found.get(cid, PAD_ROW)) for cid in dict.fromkeys(ids)]
        )
        self.remember({cid: decided[cid] for cid in found})
        return [decided[cid] if cid in found else None for cid in ids]

    async def _load_resources(self, resources: list[Resource]) -> list[Decision]:
        decided = await self.decide(list({(r.type, r.id): r for r in resources}.values()))
        for r in resources:
            self.resources[(r.type, r.id)] = decided[r.id]
        return [decided[r.id] for r in resources]

    def release(self) -> None:
        """Drop the request's decisions once it is answered (RequestContext.release): the
        customer loader's ``load_fn`` is a method of this object, a cycle only a full garbage
        collection would break."""
        self.customers.clear_all()
        self.others.clear_all()
        self.decided.clear()
        self.resources.clear()
        self.fields.clear()
        self.asked.clear()
        self._reach.clear()
        self.own.clear()

    def remember(self, decided: dict[str, Decision]) -> None:
        for cid, decision in decided.items():
            self.decided[cid] = decision
            self.customers.prime(cid, decision)

    async def decide_candidates(
        self, candidates: list[Row], fresh: bool = False
    ) -> dict[str, Decision]:
        """One batched decision for every search candidate (rows with policy attributes);
        the engine evaluates each distinct attribute set once, so this stays cheap."""
        resources = [customer_resource(r["id"], r) for r in candidates]
        decided = await self.decide(resources, fresh=fresh)
        self.remember(decided)
        return decided

    async def reach(self, action: str = READ) -> tuple[Decision, Decision]:
        """(floor, best): what the caller gets on a customer nobody's grants single out
        (the unconditional grants) and on one that every known scope admits (managed by the
        caller, in its branch, consenting). Decided on no graph data (kept like every decision,
        see PrivacyServices.decide), so a refusal built from them says nothing about any
        customer."""
        if action not in self._reach:
            principal = self.principal
            best = customer_attributes(
                principal.subject if principal else None,
                principal.branch if principal else None,
                True,
                True,
            )
            decided = await self.decide(
                [Resource(CUSTOMER, "floor", UNSEEN_ATTRIBUTES), Resource(CUSTOMER, "best", best)],
                action,
            )
            self._reach[action] = (decided["floor"], decided["best"])
        return self._reach[action]

    async def unseen(
        self,
        customer_id: str,
        action: str = READ,
        what: str = "customer",
        field: str | None = None,
    ) -> ApiError:
        """The one error for an id the caller may not see, whether it exists or not: NOT_FOUND
        for a caller whose grants reach every customer (existence is no secret to them), else
        FORBIDDEN with the reason the policy gives for a customer no grant singles out. Both
        cases are noted and audited alike, so neither the answer nor the work tells them apart."""
        floor, _ = await self.reach(action)
        if what == "customer":
            self.customers_touched.add(customer_id)
        else:
            # The id is the caller's: noted capped (make_record caps the customer ids).
            self.details.setdefault("unseen", []).append(echo_id(f"{what}:{customer_id}"))
        self.audit_always = True
        where = {"field": field} if field else {"id": customer_id}
        if floor.allow:
            return NotFound(f"no {what} with this id", **where)
        self.denied = True
        return Forbidden(f"access denied: {floor.reason}", **where)

    def asking(self, customer_id: str) -> None:
        """Note a customer id the caller named, before it is read or decided (see ``asked``)."""
        self.asked.add(customer_id)

    async def customer(self, customer_id: str) -> Decision | None:
        """The decision for one customer; None when no such customer exists."""
        return await self.customers.load(customer_id)

    async def allowed(self, ids: list[str]) -> list[str]:
        """``ids`` the caller may see, in order; the others are left out.

        Leaving a related record out (a household member, a campaign contact, a relation) is
        not a refusal of the request: the data that is returned was handed out, and the audit
        record says so (outcome ok), or the data subject's export and an auditor filtering on
        ok would miss the read. "denied" is for requests that refused the caller
        (:meth:`unseen`, :meth:`require_resource`), the one rule a hidden household head
        follows too (resolvers.customers.household_name_governor)."""
        decisions = await self.customers.load_many(ids)
        out = []
        for cid, decision in zip(ids, decisions, strict=True):
            if decision is not None and decision.allow:
                out.append(cid)
                self.customers_touched.add(cid)
        return out

    async def require(self, customer_id: str, field: str | None = None) -> Decision:
        """The decision for a customer the caller may see; else the error of :meth:`unseen`,
        the same for a denied customer and an unknown id."""
        self.asking(customer_id)
        decision = await self.customer(customer_id)
        if decision is None or not decision.allow:
            raise await self.unseen(customer_id, field=field)
        self.customers_touched.add(customer_id)
        return decision

    async def require_write(
        self,
        customer_id: str,
        data: dict[str, Any] | None,
        advisor_branch: Callable[[str], Awaitable[str | None]] | None = None,
    ) -> None:
        """May the caller write this customer? An existing one is decided on its stored
        attributes, and, when ``data`` changes them (its advisor, its consents), on the
        attributes it will have too: an advisor may not move a customer out of their own book
        (the write went through, then its answer was refused; QA, session 24).
        ``advisor_branch``: the branch a new advisor works at. A new customer (``data``
        given) is decided on what the input says (no advisor yet). A missing customer
        without ``data`` is left to the mutation (NOT_FOUND)."""
        self.asking(customer_id)
        row = (await self._customer_rows([customer_id]))[0]
        if row is not None:
            resource = customer_resource(customer_id, row)
        elif data is not None:
            resource = Resource(CUSTOMER, customer_id, new_customer_attributes(data))
        else:
            # Unknown: NOT_FOUND (from the mutation) only for callers who may write any
            # customer; the others get what a denied existing customer gets.
            floor, _ = await self.reach(WRITE)
            if not floor.allow:
                raise await self.unseen(customer_id, WRITE)
            return
        self.customers_touched.add(customer_id)
        decision = (await self.decide([resource], WRITE))[customer_id]
        if not decision.allow:
            raise await self.unseen(customer_id, WRITE)
        if row is not None and data is not None:
            after = await attributes_after(resource.attributes, data, advisor_branch)
            if after != resource.attributes:
                moved = await self.decide([Resource(CUSTOMER, customer_id, after)], WRITE)
                if not moved[customer_id].allow:
                    self.denied = self.audit_always = True
                    raise Forbidden(
                        "access denied: after this change the customer would not be yours to "
                        f"write ({moved[customer_id].reason}); nothing was written: a caller "
                        "who may write the customer in its new book makes this change",
                        id=customer_id,
                    )
        what: dict[str, Any] = {"write": echo_id(f"{CUSTOMER}:{customer_id}")}
        if data is not None:
            # Which fields, never their values: a reassignment or a withdrawn consent shows.
            what["fields"] = sorted(str(k) for k in data if k != "id")
        await self.audit_intent(what, (customer_id,))

    async def audit_intent(self, what: dict[str, Any], customer_ids: tuple[str, ...] = ()) -> None:
        """Write-ahead audit: a write is recorded (outcome "intent") before it happens, so a
        write the audit log cannot record does not happen. The request's own record follows.
        Many customers (a campaign's audience) are named over several intent records of at
        most ``per_record`` each; the write waits for all of them (any failure: no write)."""
        ids: dict[str, dict[str, list[str]]] = {
            cid: {"revealed": [], "masked": []} for cid in customer_ids
        }
        parts = split_customers(ids, self.per_record)
        await self.services.append_audit(
            [
                make_record(
                    principal=self.principal,
                    operation="intent",
                    outcome=INTENT,
                    request_id=self.request_id,
                    customers=part,
                    policy_revision=self.services.revision,
                    details=numbered(what, n, len(parts)),
                )
                for n, part in enumerate(parts, 1)
            ]
        )

    def forget(self, customer_id: str) -> None:
        """Drop a cached decision after a write may have changed the customer's attributes."""
        self.decided.pop(customer_id, None)
        forget(self.customers, customer_id)

    async def resource(self, resource: Resource) -> Decision:
        return await self.others.load(resource)

    async def require_resource(self, resource: Resource, action: str) -> Decision:
        """A non-customer resource (AuditLog, Policy) for ``action``; Forbidden when denied."""
        self.audit_always = True
        decision = (await self.decide([resource], action))[resource.id]
        self.details.setdefault("resources", []).append(echo_id(f"{resource.type}:{resource.id}"))
        if not decision.allow:
            self.denied = True
            raise Forbidden(f"access denied: {decision.reason}")
        return decision

    def cached(self, source: object) -> Decision | None:
        """The decision governing ``source`` if this request already has it."""
        governor = governed_by(source)
        if isinstance(governor, str):
            return self.decided.get(governor)
        if governor is not None:
            return self.resources.get((governor.type, governor.id))
        return None

    async def governing(self, source: object) -> Decision | None:
        governor = governed_by(source)
        if isinstance(governor, str):
            return await self.customer(governor)
        if governor is not None:
            return await self.resource(governor)
        return None

    async def own_values(self, customer_id: str) -> dict[str, Any]:
        """The customer's own values a note about them may name, by kind
        (privacy.masking.OWN_KINDS), opened: from the row the customer's decision is made on
        (the customer loader's, kept for the request), so at most one read per request and
        customer, batched with the others asked at once."""
        if customer_id not in self.own:
            row = (await self._customer_rows([customer_id]))[0]
            self.own[customer_id] = own_of(row) if row is not None else {}
        return self.own[customer_id]

    def mode(self, customer_id: str, kind: str) -> str:
        decision = self.decided.get(customer_id)
        return decision.mode_for(kind) if decision is not None else MaskMode.REDACT

    def record(self, source: object, field_name: str, mode: str) -> None:
        governor = governed_by(source)
        if governor is None:
            return
        if isinstance(governor, str):
            cid = governor
        else:
            cid = _linked_customer(governor) or f"{governor.type}:{governor.id}"
        self.customers_touched.add(cid)
        log = self.fields[cid]
        (log.revealed if mode == MaskMode.REVEAL else log.masked).add(field_name)

    @property
    def touched(self) -> bool:
        return bool(self.customers_touched or self.decided or self.resources or self.failed)

    def audit_fields(self) -> dict[str, dict[str, list[str]]]:
        out: dict[str, dict[str, list[str]]] = {}
        # By the id's string: an id another tool wrote as a number is recorded, not a
        # comparison error that fails the request.
        for cid in sorted(self.customers_touched | set(self.fields), key=str):
            log = self.fields.get(cid, FieldLog())
            out[str(cid)] = {"revealed": sorted(log.revealed), "masked": sorted(log.masked)}
        return out

    def decision_ids(self, customers: Iterable[str] | None = None) -> list[str]:
        """The decision ids the audit record names: of ``customers`` (default: every customer
        touched) and of the other resources."""
        named = self.customers_touched if customers is None else customers
        return self._decision_ids(named, {str(c): d for c, d in self.decided.items()})

    def _decision_ids(self, customers: Iterable[str], decided: dict[str, Decision]) -> list[str]:
        # Looked up per customer named (by the id's string, as audit_fields names them): a
        # part costs its own customers, not every decision of the request.
        ids = {d.decision_id for c in customers if (d := decided.get(str(c))) is not None}
        ids |= {d.decision_id for d in self.resources.values()}
        return sorted(i for i in ids if i)

    def audit_parts(
        self, cut_off: bool = False
    ) -> list[tuple[dict[str, dict[str, list[str]]], list[str]]]:
        """The request record's customers (:meth:`audit_fields`) in parts of at most
        ``per_record``, each with its decision ids: one audit record per part. ``cut_off``
        (its deadline passed): also every customer id it had been asked for, decided or not
        (an attempt is audited), from what this state holds: nothing is read again."""
        customers = self.audit_fields()
        if cut_off:
            asked = sorted({*customers, *self.asked})
            customers = {c: customers.get(c) or {"revealed": [], "masked": []} for c in asked}
        decided = {str(c): d for c, d in self.decided.items()}
        return [
            (part, self._decision_ids(part, decided))
            for part in split_customers(customers, self.per_record)
        ]

    def outcome(self, has_errors: bool) -> str:
        if self.failed:
            return "error"
        if self.denied:
            return "denied"
        return "error" if has_errors else "ok"


# What a social listening query (mentions, trends, alerts, top authors) is decided on.
SOCIAL_FEED = Resource("Post", "feed", {"linkedCustomerId": None})


def own_of(row: Row) -> dict[str, Any]:
    """A customer row's values a note about them may name (privacy.masking.OWN_KINDS)."""
    return {"NAME": row.get("name"), "ADDRESS": row.get("address")}


async def require_social(privacy: RequestPrivacy) -> Decision:
    """Social listening is for roles the policy lets read posts; Forbidden otherwise. The
    feed's decision: how the caller sees posts no customer governs."""
    return await privacy.require_resource(SOCIAL_FEED, READ)


async def require_customer(
    privacy: RequestPrivacy, customer_id: str, field: str | None = None
) -> None:
    await privacy.require(customer_id, field)


async def require_customer_write(
    privacy: RequestPrivacy,
    customer_id: str,
    data: dict[str, Any] | None = None,
    store: GraphStore | None = None,
) -> None:
    """See :meth:`RequestPrivacy.require_write`; ``store``: where a new advisor's branch is
    read (the write's ``data`` names one)."""

    async def branch(advisor_id: str) -> str | None:
        assert store is not None
        return (await advisor_branches(store, [advisor_id])).get(advisor_id)

    await privacy.require_write(customer_id, data, branch if store is not None else None)


async def attributes_after(
    attributes: dict[str, Any],
    data: dict[str, Any],
    advisor_branch: Callable[[str], Awaitable[str | None]] | None,
) -> dict[str, Any]:
    """The policy attributes a stored customer with ``attributes`` has once ``data`` is
    written: a new advisor brings its branch (``advisor_branch``; unknown: none), a consent
    given replaces the stored one."""
    after = dict(attributes)
    advisor = data.get("advisorId")
    if advisor is not None and str(advisor) != attributes.get("advisorId"):
        after["advisorId"] = str(advisor)
        after["branchId"] = await advisor_branch(str(advisor)) if advisor_branch else None
    for consent in ("consentMarketing", "consentDataSharing"):
        if data.get(consent) is not None:
            after[consent] = data[consent] is True
    return after


def new_customer_attributes(data: dict[str, Any]) -> dict[str, Any]:
    """A customer the input creates has no advisor yet: only its consents count."""
    return customer_attributes(
        None, None, data.get("consentMarketing") is True, data.get("consentDataSharing") is True
    )


def _linked_customer(resource: Resource) -> str | None:
    linked = resource.attributes.get("linkedCustomerId")
    return str(linked) if linked else None


__all__ = [
    "CUSTOMER",
    "INTENT",
    "LINK_CANDIDATE",
    "READ",
    "UNSEEN_ATTRIBUTES",
    "WRITE",
    "CustomerGoverned",
    "FieldLog",
    "Forbidden",
    "ForbiddenFilter",
    "PrivacyServices",
    "RequestPrivacy",
    "ResourceGoverned",
    "customer_resource",
    "governed_by",
    "require_customer",
    "require_customer_write",
    "require_social",
]
