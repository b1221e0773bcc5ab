"""Customer-360 object types. Resolvers here only pick arguments and hand off to the request's
loaders (resolvers.loaders) and the pure analytics (resolvers.analytics).

Every type with a @sensitive field carries ``customer_id`` (Private): the customer whose policy
decision governs the value, so the privacy field extension can look the decision up.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info
from strawberry.types.base import get_object_definition

from graph.repositories.customer360 import BOOK_CURRENCY
from graph.store import Row
from privacy.masking import OWN_KINDS, band_range
from privacy.types import MaskMode
from privacy.types import SensitiveKind as K
from resolvers import analytics
from resolvers import customers as resolve
from resolvers.churn_model import SCORE_MODES, model_churn_risk
from resolvers.context import RequestContext
from schema.directives import sensitive
from schema.enums import AccountRole, AccountType, LifecycleStage, Segment, parse_enum
from schema.extensions.masking import derived, masked_names, quoting
from schema.pagination import Connection, connection
from schema.selection import selects
from schema.social import (
    PostConnection,
    SentimentSummary,
    customer_mentions,
    customer_sentiment_summary,
)
from shared.amounts import money

if TYPE_CHECKING:
    from schema.nba import Recommendation

Ctx = Info[RequestContext, None]
# Time-dependent figures can be asked "as of" a day (its end, UTC); default C360_AS_OF or now.
# The customer's paged lists are nullable: a bad page argument (a reversed window, a cursor
# from elsewhere, first over the cap) nulls that list with its error, not the whole customer
# (as a non-null list did: the rest of the 360 was lost with it; QA, session 22).
PAGE_OR_NULL = "null, with its error, when the page cannot be answered (e.g. a bad argument)"
# So are its other fields with an argument that can be refused (asOf before 1900 or over 10
# years ahead, recommendations' first out of range): the same rule, the same reason.
REFUSED_OR_NULL = "null, with its error, when an argument is refused (e.g. asOf out of range)"

AsOf = Annotated[
    date | None,
    strawberry.argument(description="as of the end of this day (UTC); default C360_AS_OF or now"),
]


def _mode(info: Ctx, customer_id: str, kind: str) -> str:
    """The mode the caller sees ``kind`` in for this customer."""
    return info.context.privacy.mode(customer_id, kind)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


# How a personal field reads to a caller whose policy does not reveal it.
MASKED = "masked as your policy decides for this customer: partly shown, hashed or null"
MASKED_AMOUNT = (
    'decimal string with the currency\'s ISO 4217 decimals (CNY "1234.50", KWD "1.005", '
    'JPY "1234"); masked as your policy decides for this customer: a band in 万 (e.g. '
    '"1万-5万"), hashed or null'
)


@strawberry.type(description="What the customer has consented to, as last recorded.")
class Consents:
    marketing: bool | None = strawberry.field(
        description="may be contacted for marketing; null: never recorded"
    )
    data_sharing: bool | None = strawberry.field(
        description="may have their data shared; null: never recorded"
    )
    updated_at: str | None = strawberry.field(
        description="when a consent was last changed, ISO-8601 UTC"
    )


@strawberry.type(description="A branch of the bank, where advisors work.")
class Branch:
    id: strawberry.ID = strawberry.field(description="the branch's id")
    name: str | None = strawberry.field(description="the branch's name")
    city: str | None = strawberry.field(description="the city it is in")


@strawberry.type(description="The relationship manager who looks after a customer.")
class Advisor:
    id: strawberry.ID = strawberry.field(description="the advisor's id (advisorTasks takes it)")
    name: str | None = strawberry.field(description="the advisor's name (not masked)")
    branch: Branch | None = strawberry.field(description="where they work; null: not recorded")


@strawberry.type(
    description="How likely the customer is to leave, from the trained model when one is "
    "active (c360 churn train), else from rules on outflow and inactivity."
)
class ChurnRisk:
    customer_id: strawberry.Private[str]
    # Weighs net outflow against assets: null for callers who see amounts neither revealed
    # nor banded (a banded caller still gets it; see README known gaps).
    score: float | None = derived(
        K.AMOUNT,
        SCORE_MODES,  # a CHURN_RISK care task's reason quotes it: the same modes
        description="0 (no sign) .. 1 (very likely to leave); null unless amounts are revealed "
        "or banded",
    )
    reasons: list[str] | None = derived(
        K.AMOUNT,
        (MaskMode.REVEAL,),
        description="null unless amounts are revealed to you; a reason quoting the age only "
        "where the birth date or its year shows",
    )
    model: str = strawberry.field(
        default="rules", description="rules, or the trained model (c360 churn train) used"
    )


@strawberry.type(description="A product of the bank's catalogue.")
class Product:
    code: str = strawberry.field(description="the catalogue's product code")
    name: str | None = strawberry.field(description="display name; null: not known")
    category: str | None = strawberry.field(description="product category; null: not known")


@strawberry.type(description="A money movement on one of the customer's accounts.")
class Transaction:
    customer_id: strawberry.Private[str]
    id: strawberry.ID = strawberry.field(description="the transaction's id")
    account_id: str | None = strawberry.field(description="id of the account it was booked on")
    amount: str | None = sensitive(
        K.AMOUNT,
        description="positive, in currency; kind gives the direction. " + MASKED_AMOUNT,
    )
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217 code of amount (e.g. CNY)"
    )
    time: str | None = strawberry.field(
        default=None, description="when it was booked, ISO-8601 UTC"
    )
    channel: str | None = strawberry.field(
        default=None, description="ATM, POS, ONLINE, MOBILE or BRANCH; null: not recorded"
    )
    kind: str | None = strawberry.field(
        default=None,
        description="DEPOSIT, WITHDRAWAL, TRANSFER_IN, TRANSFER_OUT, PAYMENT, SALARY, FEE or "
        "INTEREST",
    )
    # Booking texts quote what notes do (a counterpart's phone, a card number, the
    # customer's own name): masked by the same QuotingField as Interaction.summary.
    description: str | None = quoting(
        own=True,
        default=None,
        description="the booking text, as imported; the personal data it quotes masked as "
        "in Interaction.summary (phone numbers, e-mail addresses, ID numbers, handles; bank "
        "card numbers as ID numbers; this customer's name and address as written on record; "
        "on a joint account, a co-owner's name as Account.coOwners shows it, redacted for one "
        "you may not see)",
    )
    # The other owners of account_id: their names in the booking text are masked too.
    co_owner_ids: strawberry.Private[tuple[str, ...]] = ()

    @classmethod
    def from_row(
        cls, customer_id: str, row: Row, co_owner_ids: tuple[str, ...] = ()
    ) -> Transaction:
        return cls(
            customer_id=customer_id,
            id=strawberry.ID(row["id"]),
            account_id=_str(row.get("accountId")),
            amount=money(row.get("amount"), row.get("currency")),
            currency=_str(row.get("currency")),
            time=_str(row.get("time")),
            channel=_str(row.get("channel")),
            kind=_str(row.get("kind")),
            description=_str(row.get("description")),
            co_owner_ids=co_owner_ids,
        )


@strawberry.type(
    description="A contact between the bank and the customer: a call, chat, e-mail, branch or "
    "app visit, complaint or survey."
)
class Interaction:
    customer_id: strawberry.Private[str]
    id: strawberry.ID = strawberry.field(description="the interaction's id")
    channel: str | None = strawberry.field(description="PHONE, SMS, CHAT, EMAIL, BRANCH or APP")
    kind: str | None = strawberry.field(
        description="INQUIRY, COMPLAINT, FEEDBACK, SURVEY or MARKETING"
    )
    time: str | None = strawberry.field(description="when it happened, ISO-8601 UTC")
    # Notes quote phone numbers, e-mail addresses, ID numbers, card numbers, the customer's
    # name and address: masked like those fields of this customer (privacy.masking
    # QUOTED_KINDS, OWN_KINDS; card numbers as ID numbers), by the same decision.
    summary: str | None = quoting(
        own=True,
        description="the note; the personal data it quotes (phone numbers, e-mail addresses, "
        "ID numbers, handles; bank card numbers as ID numbers; this customer's name and "
        "address as written on record) masked as you see those of this customer",
    )
    satisfaction: int | None = strawberry.field(
        description="the customer's score, 1 (worst) .. 5; null: not given"
    )
    resolved: bool | None = strawberry.field(
        description="whether the matter was resolved; null: not recorded"
    )
    products: list[Product] = strawberry.field(description="the products it was about")

    @classmethod
    def from_row(cls, customer_id: str, row: Row) -> Interaction:
        satisfaction = row.get("satisfaction")
        return cls(
            customer_id=customer_id,
            id=strawberry.ID(row["id"]),
            channel=_str(row.get("channel")),
            kind=_str(row.get("kind")),
            time=_str(row.get("time")),
            summary=_str(row.get("summary")),
            satisfaction=None if satisfaction is None else int(satisfaction),
            resolved=row.get("resolved"),
            products=[
                Product(code=p["code"], name=_str(p.get("name")), category=_str(p.get("category")))
                for p in row.get("products") or []
            ],
        )


@strawberry.type(description="An account the customer owns, alone or jointly.")
class Account:
    customer_id: strawberry.Private[str]
    co_owner_ids: strawberry.Private[list[str]]
    id: strawberry.ID = strawberry.field(description="the account's id")
    type: AccountType | None = strawberry.field(
        description="the kind of account; null: not recorded or not a known type"
    )
    product: str | None = strawberry.field(description="code of the catalogue product it holds")
    balance: str | None = sensitive(
        K.AMOUNT, description="current balance in currency. " + MASKED_AMOUNT
    )
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217 code of balance (e.g. CNY)"
    )
    opened_at: str | None = strawberry.field(
        default=None, description="when it was opened, ISO-8601 UTC"
    )
    status: str | None = strawberry.field(
        default=None, description="ACTIVE, DORMANT or CLOSED; null: not recorded"
    )
    role: AccountRole | None = strawberry.field(
        default=None, description="the viewed customer's role on this account"
    )

    @classmethod
    def from_row(cls, customer_id: str, row: Row) -> Account:
        return cls(
            customer_id=customer_id,
            co_owner_ids=list(row.get("coOwnerIds") or []),
            id=strawberry.ID(row["id"]),
            type=parse_enum(AccountType, row.get("type")),
            product=_str(row.get("product")),
            balance=money(row.get("balance"), row.get("currency")),
            currency=_str(row.get("currency")),
            opened_at=_str(row.get("openedAt")),
            status=_str(row.get("status")),
            role=parse_enum(AccountRole, row.get("role")),
        )

    @strawberry.field(description="the other customers who own this account")
    async def co_owners(self, info: Ctx) -> list[Customer]:
        return await load_customers(info, self.co_owner_ids)


@strawberry.type(description="A customer's place in a household.")
class HouseholdMember:
    role: str | None = strawberry.field(description="HEAD, SPOUSE, CHILD, PARENT or MEMBER")
    customer: Customer = strawberry.field(description="the member")


@strawberry.type(description="A household: customers grouped as one family, under a head.")
class Household:
    customer_id: strawberry.Private[str]  # governs the name: its head (see household_of)
    id: strawberry.ID = strawberry.field(description="the household's id")
    name: str | None = sensitive(
        K.NAME,
        description="the head's surname + 家: masked as the head's name; null when you may "
        "not see the head",
    )

    @strawberry.field(description="its members you may see; the others are left out")
    async def members(self, info: Ctx) -> list[HouseholdMember]:
        row = await info.context.loaders.household.load(str(self.id))
        members = (row or {}).get("members") or []
        customers = await load_customers(info, [m["customerId"] for m in members])
        by_id = {c.customer_id: c for c in customers}
        return [
            HouseholdMember(role=_str(m.get("role")), customer=by_id[m["customerId"]])
            for m in members
            if m["customerId"] in by_id
        ]


@strawberry.type(description="Another customer related to this one (family, guarantor).")
class RelatedCustomer:
    kind: str | None = strawberry.field(
        description="what the other customer is to this one: SPOUSE, SIBLING, PARENT, CHILD, "
        "GUARANTOR, GUARANTEED, or another imported kind"
    )
    customer: Customer = strawberry.field(description="the related customer")


TransactionConnection = Connection[Transaction]
InteractionConnection = Connection[Interaction]


@strawberry.type(
    description="A customer's 360 view: personal data, accounts, activity, household, advisor, "
    "social mentions and derived insights. Personal fields are masked per your policy."
)
class Customer:
    customer_id: strawberry.Private[str]
    row: strawberry.Private[Row]
    id: strawberry.ID = strawberry.field(description="the customer's id (CRM key)")
    name: str | None = sensitive(K.NAME, description="full name; " + MASKED)
    gender: str | None = strawberry.field(default=None, description="M or F; null: not recorded")
    birth_date: str | None = sensitive(
        K.BIRTH_DATE,
        description="YYYY-MM-DD; masked as your policy decides for this customer: the year "
        "only (YYYY), partly shown, hashed or null",
    )
    id_number: str | None = sensitive(K.NATIONAL_ID, description="national ID number; " + MASKED)
    phone: str | None = sensitive(K.PHONE, description="E.164; " + MASKED)
    email: str | None = sensitive(K.EMAIL, description="e-mail address; " + MASKED)
    address: str | None = sensitive(K.ADDRESS, description="postal address; " + MASKED)
    occupation: str | None = strawberry.field(default=None, description="as imported")
    income_band: str | None = strawberry.field(
        default=None, description="the income band as imported (free text, not masked)"
    )
    risk_profile: str | None = strawberry.field(default=None, description="保守, 稳健 or 激进")
    created_at: str | None = strawberry.field(
        default=None, description="when they became a customer, ISO-8601 UTC"
    )
    consents: Consents | None = strawberry.field(
        default=None, description="marketing and data-sharing consents"
    )

    @classmethod
    def from_row(cls, row: Row) -> Customer:
        return cls(
            customer_id=row["id"],
            row=row,
            id=strawberry.ID(row["id"]),
            name=_str(row.get("name")),
            gender=_str(row.get("gender")),
            birth_date=_str(row.get("birthDate")),
            id_number=_str(row.get("idNumber")),
            phone=_str(row.get("phone")),
            email=_str(row.get("email")),
            address=_str(row.get("address")),
            occupation=_str(row.get("occupation")),
            income_band=_str(row.get("incomeBand")),
            risk_profile=_str(row.get("riskProfile")),
            created_at=_str(row.get("createdAt")),
            consents=Consents(
                marketing=row.get("consentMarketing"),
                data_sharing=row.get("consentDataSharing"),
                updated_at=_str(row.get("consentUpdatedAt")),
            ),
        )

    @strawberry.field(description="this customer's personal fields you see masked or not at all")
    def masked_fields(self, info: Ctx) -> list[str]:
        return masked_names(
            get_object_definition(Customer, strict=True),
            info.context.privacy.decided.get(self.customer_id),
        )

    @strawberry.field(description="the accounts the customer owns or co-owns")
    async def accounts(self, info: Ctx) -> list[Account]:
        rows = await info.context.loaders.accounts.load(self.customer_id)
        return [Account.from_row(self.customer_id, r) for r in rows]

    @strawberry.field(description="the household they belong to; null: none")
    async def household(self, info: Ctx) -> Household | None:
        row = await info.context.loaders.household_of.load(self.customer_id)
        return None if row is None else await household_of(info, row, self.customer_id)

    @strawberry.field(description="their relationship manager; null: none assigned")
    async def advisor(self, info: Ctx) -> Advisor | None:
        row = await info.context.loaders.advisor.load(self.customer_id)
        if row is None:
            return None
        branch = row.get("branch")
        return Advisor(
            id=strawberry.ID(row["id"]),
            name=_str(row.get("name")),
            branch=Branch(
                id=strawberry.ID(branch["id"]),
                name=_str(branch.get("name")),
                city=_str(branch.get("city")),
            )
            if branch
            else None,
        )

    @strawberry.field(
        description="customers related to this one (family, guarantors) whom you may see"
    )
    async def related_customers(self, info: Ctx) -> list[RelatedCustomer]:
        links = await info.context.loaders.related.load(self.customer_id)
        customers = await load_customers(info, [link["customerId"] for link in links])
        by_id = {c.customer_id: c for c in customers}
        return [
            RelatedCustomer(kind=_str(link.get("kind")), customer=by_id[link["customerId"]])
            for link in links
            if link["customerId"] in by_id
        ]

    @strawberry.field(description="across the customer's accounts, newest first; " + PAGE_OR_NULL)
    async def transactions(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> TransactionConnection | None:
        page = await resolve.transactions_page(
            info.context, self.customer_id, first, after, from_, to
        )
        co_owners: dict[Any, tuple[str, ...]] = {}
        raw = info._raw_info
        if page.items and selects(raw.field_nodes[0], "description", raw.fragments):
            # Only a booking text is masked by the customer's own values and the co-owners'
            # decisions: a page without it (the 360 bench's) reads neither.
            await self._own_values(info)
            co_owners = await self._co_owners(info, {r.get("accountId") for r, _ in page.items})
        return connection(
            page.map(
                lambda r: Transaction.from_row(
                    self.customer_id, r, co_owners.get(r.get("accountId"), ())
                )
            )
        )

    @strawberry.field(description="newest first; " + PAGE_OR_NULL)
    async def interactions(
        self,
        info: Ctx,
        first: int | None = None,
        after: str | None = None,
        kind: str | None = None,
    ) -> InteractionConnection | None:
        page = await resolve.interactions_page(info.context, self.customer_id, first, after, kind)
        await self._own_values(info)
        return connection(page.map(lambda r: Interaction.from_row(self.customer_id, r)))

    async def _own_values(self, info: Ctx) -> None:
        """The customer's name and address, which their notes and booking texts are checked
        against where those fields are masked (QuotingField ``own``): kept from the row
        decided on, read here (batched) after a search's decision."""
        if any(_mode(info, self.customer_id, kind) != MaskMode.REVEAL for kind in OWN_KINDS):
            await info.context.privacy.own_values(self.customer_id)

    async def _co_owners(self, info: Ctx, account_ids: set[Any]) -> dict[Any, tuple[str, ...]]:
        """The co-owners of the customer's accounts among ``account_ids``, decided on with
        their names loaded (QuotingField: a booking text naming one masks their name): from
        the accounts loader and the customer decisions, which the 360 prefetch primes when
        the view asks for transactions; else one batch of each for the request."""
        accounts = await info.context.loaders.accounts.load(self.customer_id)
        out = {
            a["id"]: tuple(a.get("coOwnerIds") or ())
            for a in accounts
            if a.get("id") in account_ids and a.get("coOwnerIds")
        }
        ids = sorted({cid for owners in out.values() for cid in owners})
        if ids:
            privacy = info.context.privacy
            await privacy.customers.load_many(ids)
            await asyncio.gather(*(privacy.own_values(cid) for cid in ids))
        return out

    async def _assets(self, info: Ctx) -> float | None:
        return analytics.total_assets(await info.context.loaders.accounts.load(self.customer_id))

    async def _activity(self, info: Ctx, moment: datetime) -> analytics.Activity:
        row = await info.context.loaders_at(moment).activity.load(self.customer_id)
        return analytics.Activity.from_row(row)

    @sensitive(
        K.AMOUNT,
        description="sum of balances of non-loan, non-credit-card accounts; null when one has "
        "no balance or is in a currency other than the book's (the hub holds no exchange "
        "rates). " + MASKED_AMOUNT,
    )
    async def total_assets(self, info: Ctx) -> str | None:
        return money(await self._assets(info), BOOK_CURRENCY)

    @derived(
        K.AMOUNT,
        (MaskMode.REVEAL, MaskMode.BAND, MaskMode.PARTIAL),
        description="null unless amounts are revealed or banded; when banded, from the band of "
        "totalAssets alone (null when that band straddles a segment bound)",
    )
    async def segment(self, info: Ctx) -> Segment | None:
        settings = info.context.settings
        high, middle = settings.segment_high_assets, settings.segment_middle_assets
        assets = await self._assets(info)
        if _mode(info, self.customer_id, K.AMOUNT) == MaskMode.REVEAL:
            return analytics.segment(assets, high, middle)
        bounds = band_range(assets)  # partial amounts are bands too
        return None if bounds is None else analytics.segment_in_range(*bounds, high, middle)

    @derived(
        K.BIRTH_DATE,
        (MaskMode.REVEAL, MaskMode.YEAR, MaskMode.PARTIAL),
        description="null unless the birth date or its year shows; from the year alone (the "
        "age reached this calendar year) when only the year shows",
    )
    def age_band(self, info: Ctx, as_of: AsOf = None) -> str | None:
        today = info.context.moment(as_of).date()
        born = analytics.parse_date(self.birth_date)
        if _mode(info, self.customer_id, K.BIRTH_DATE) == MaskMode.REVEAL:
            return analytics.age_band(born, today)
        return analytics.age_band_from_year(born.year if born else None, today)

    @derived(K.BIRTH_DATE, (MaskMode.REVEAL,), description="null unless BIRTH_DATE is revealed")
    def days_to_next_birthday(self, info: Ctx, as_of: AsOf = None) -> int | None:
        today = info.context.moment(as_of).date()
        return analytics.days_to_next_birthday(analytics.parse_date(self.birth_date), today)

    @strawberry.field(
        description="where the customer is in their relationship with the bank; " + REFUSED_OR_NULL
    )
    async def lifecycle_stage(self, info: Ctx, as_of: AsOf = None) -> LifecycleStage | None:
        accounts = await info.context.loaders.accounts.load(self.customer_id)
        moment = info.context.moment(as_of)
        return analytics.lifecycle_stage(
            analytics.parse_time(self.created_at),
            await self._activity(info, moment),
            [a.get("status") for a in accounts],
            moment,
        )

    @strawberry.field(description="how likely the customer is to leave; " + REFUSED_OR_NULL)
    async def churn_risk(self, info: Ctx, as_of: AsOf = None) -> ChurnRisk | None:
        moment = info.context.moment(as_of)
        trained = await model_churn_risk(info.context, self.customer_id, moment)
        if trained is not None:
            return ChurnRisk(
                customer_id=self.customer_id,
                score=trained.score,
                reasons=trained.reasons,
                model=trained.model,
            )
        # The outflow is weighed against what was held, in its own currency (no rates needed).
        held = analytics.held_assets(await info.context.loaders.accounts.load(self.customer_id))
        risk = analytics.churn_risk(held, await self._activity(info, moment), moment)
        return ChurnRisk(customer_id=self.customer_id, score=risk.score, reasons=risk.reasons)

    @strawberry.field(
        description="next best products to offer (cross-sell, up-sell), best first; "
        + REFUSED_OR_NULL
    )
    async def recommendations(
        self, info: Ctx, first: int = 3
    ) -> list[Annotated[Recommendation, strawberry.lazy("schema.nba")]] | None:
        from schema.nba import customer_recommendations  # schema.nba imports this module

        return await customer_recommendations(info, self.customer_id, first)

    @strawberry.field(
        description="posts by the customer's confirmed social handles, newest first; "
        + PAGE_OR_NULL
    )
    async def mentions(
        self, info: Ctx, first: int | None = None, after: str | None = None
    ) -> PostConnection | None:
        return await customer_mentions(info, self.customer_id, first, after)

    @strawberry.field(description="sentiment of the posts by the customer's confirmed handles")
    async def sentiment_summary(self, info: Ctx) -> SentimentSummary:
        return await customer_sentiment_summary(info, self.customer_id)


async def household_of(info: Ctx, row: Row, member: str) -> Household:
    """A household reached through ``member`` (a customer the caller sees), its name masked
    as its head's name, or not shown when the caller may not see the head."""
    governor = await resolve.household_name_governor(info.context, str(row["id"]))
    return Household(
        customer_id=governor or member,
        id=strawberry.ID(row["id"]),
        name=_str(row.get("name")) if governor else None,
    )


async def load_customers(info: Ctx, ids: list[str]) -> list[Customer]:
    """Customers by id, in order, leaving out unknown ids and customers the policy denies."""
    return [Customer.from_row(r) for r in await resolve.customer_rows(info.context, ids)]


async def load_customer(info: Ctx, customer_id: str) -> Customer | None:
    """One customer; None when there is none; Forbidden (no values) when the policy denies."""
    row = await resolve.customer_row(info.context, customer_id)
    return None if row is None else Customer.from_row(row)


__all__ = [
    "Account",
    "Advisor",
    "Branch",
    "ChurnRisk",
    "Consents",
    "Customer",
    "Household",
    "HouseholdMember",
    "Interaction",
    "InteractionConnection",
    "Product",
    "RelatedCustomer",
    "Transaction",
    "TransactionConnection",
    "household_of",
    "load_customer",
    "load_customers",
]
