"""Next best action: recommendations in the 360 view (``Customer.recommendations``), care
tasks for advisors (``advisorTasks``, ``completeTask``) and campaigns for marketing analysts
(``createCampaign``, ``campaign``, ``logCampaignContacts``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import strawberry

from insights.recommend import RecommendationKind as _RecommendationKind
from insights.tasks import CHURN_THRESHOLD
from insights.tasks import TaskKind as _TaskKind
from resolvers.campaigns import (
    CONTROL,
    TREATMENT,
    Audience,
    CampaignSpec,
    campaign_result,
    contacts_page,
    create_campaign,
    load_campaign,
    log_contacts,
)
from resolvers.errors import BadUserInput
from resolvers.recommendations import recommendations_for
from resolvers.tasks import (
    DEFAULT_WINDOW_DAYS,
    VisibleTask,
    advisor_tasks_page,
    check_window,
    complete_task,
)
from schema.customer import CustomerConnection
from schema.enums import describe_values
from schema.pagination import Connection, connection
from schema.selection import asks
from schema.types import PAGE_OR_NULL, Ctx, Customer, Interaction, Product, load_customers

RecommendationKind = _RecommendationKind
strawberry.enum(
    RecommendationKind,
    name="RecommendationKind",
    description="Whether a recommended product (one the customer does not hold) is a step up "
    "from one they hold.",
)
describe_values(
    RecommendationKind,
    {
        "CROSS_SELL": "not a step up: no lower tier of its product family is held",
        "UP_SELL": "a higher tier of a product family the customer holds a lower tier of",
    },
)
MAX_RECOMMENDATIONS = 10
_REASONS = frozenset({"reasons"})


@strawberry.type(description="a product to offer, why, and how strongly")
class Recommendation:
    product: Product = strawberry.field(description="the product to offer")
    kind: RecommendationKind = strawberry.field(description="cross-sell or up-sell")
    score: float = strawberry.field(description="0..1, comparable within one customer")
    reasons: list[str] = strawberry.field(
        description="sentences a person can read; only from data you may see"
    )


async def customer_recommendations(info: Ctx, customer_id: str, first: int) -> list[Recommendation]:
    if not 1 <= first <= MAX_RECOMMENDATIONS:
        raise BadUserInput(f"first must be between 1 and {MAX_RECOMMENDATIONS}", field="first")
    recs = await recommendations_for(
        info.context, customer_id, first, with_reasons=asks(info, _REASONS)
    )
    catalogue = info.context.catalogue
    out = []
    for r in recs:
        product = catalogue.products[r.code]
        out.append(
            Recommendation(
                product=Product(code=product.code, name=product.name, category=product.category),
                kind=RecommendationKind(r.kind),
                score=r.score,
                reasons=[reason.text for reason in r.reasons],
            )
        )
    return out


# --- care tasks ---------------------------------------------------------------------------

TaskKind = _TaskKind
strawberry.enum(TaskKind, name="TaskKind", description="Why a care task was made.")
describe_values(
    TaskKind,
    {
        "BIRTHDAY": "the customer's birthday (the 生日关怀 greeting)",
        "MATURITY": "a term product reaches the end of its term",
        "BALANCE_DROP": "net outflow over 30 days above a share of the customer's assets",
        "COMPLAINT": "a complaint still unresolved 7 days after it was made",
        # Both rules of resolvers/tasks.py: the model's learned bar, not 0.5, once one is fitted.
        "CHURN_RISK": "a high churn risk: with a trained churn model, a score in the model's "
        "riskiest tenth (at or above the bar it learned); without one, a rule score of "
        f"{CHURN_THRESHOLD:g} or more",
    },
)


@strawberry.type(description="something an advisor should do for one of their customers")
class CareTask:
    id: strawberry.ID = strawberry.field(description="the task's id (completeTask takes it)")
    customer_id: strawberry.ID = strawberry.field(description="the customer it is for")
    kind: TaskKind = strawberry.field(description="why it was made")
    due_date: date = strawberry.field(description="the day it is due, YYYY-MM-DD")
    reason: str | None = strawberry.field(
        description="null unless you may see the data it quotes (an amount, a birth date)"
    )
    suggested_action: str = strawberry.field(description="what the advisor could do")

    @strawberry.field(description="the customer; null when you may not see them")
    async def customer(self, info: Ctx) -> Customer | None:
        found = await load_customers(info, [str(self.customer_id)])
        return found[0] if found else None


CareTaskConnection = Connection[CareTask]
_REASON = frozenset({"reason"})


def _task(v: VisibleTask) -> CareTask:
    t = v.task
    return CareTask(
        id=strawberry.ID(t.id),
        customer_id=strawberry.ID(t.customer_id),
        kind=TaskKind(t.kind),
        due_date=t.due,
        reason=v.reason,
        suggested_action=t.action,
    )


# --- campaigns ----------------------------------------------------------------------------


@strawberry.enum(name="CampaignGroup", description="The part of a campaign's audience.")
class CampaignGroup(StrEnum):
    TREATMENT = TREATMENT
    CONTROL = CONTROL


describe_values(
    CampaignGroup,
    {
        "TREATMENT": "customers to contact",
        "CONTROL": "customers held out (never contacted) to measure the effect against",
    },
)


@strawberry.input(description="who a campaign is for; every given condition must hold")
class AudienceFilter:
    income_bands: list[str] | None = strawberry.field(
        default=None, description="the customer's income band is one of these"
    )
    risk_profiles: list[str] | None = strawberry.field(
        default=None, description="the customer's risk profile is one of these (保守, 稳健, 激进)"
    )
    holds: str | None = strawberry.field(default=None, description="a product code held")
    not_holds: str | None = strawberry.field(default=None, description="a product code not held")
    min_age: int | None = strawberry.field(default=None, description="from the birth year")
    max_age: int | None = strawberry.field(default=None, description="from the birth year")


@strawberry.type(description="a marketing campaign, its control group and its measured effect")
class Campaign:
    row: strawberry.Private[dict[str, Any]]
    id: strawberry.ID = strawberry.field(description="the campaign's id")
    name: str = strawberry.field(description="its name")
    product: Product = strawberry.field(description="the product it promotes")
    channel: str = strawberry.field(description="PHONE, SMS, CHAT, EMAIL, BRANCH or APP")
    from_: datetime = strawberry.field(name="from", description="start of its window")
    to: datetime = strawberry.field(description="end of its window")
    control_share: float = strawberry.field(
        description="share of the audience held out as the control group, 0..0.9"
    )

    async def _result(self, info: Ctx) -> Any:
        cached = self.row.get("_result")
        if cached is None:
            cached = self.row["_result"] = await campaign_result(info.context, self.row)
        return cached

    @strawberry.field(description="customers in the campaign (treatment and control)")
    async def audience_count(self, info: Ctx) -> int:
        return int((await self._result(info)).audience)

    @strawberry.field(description="customers in the control group")
    async def control_count(self, info: Ctx) -> int:
        return int((await self._result(info)).control)

    @strawberry.field(description="treatment customers with a contact in the window")
    async def contacted(self, info: Ctx) -> int:
        return int((await self._result(info)).contacted)

    @strawberry.field(description="contacted customers who opened the product after contact")
    async def converted(self, info: Ctx) -> int:
        return int((await self._result(info)).converted)

    @strawberry.field(description="converted / contacted; null: none contacted")
    async def conversion_rate(self, info: Ctx) -> float | None:
        return _round((await self._result(info)).conversion_rate)

    @strawberry.field(description="control customers who opened the product in the window")
    async def control_conversion_rate(self, info: Ctx) -> float | None:
        return _round((await self._result(info)).control_conversion_rate)

    @strawberry.field(description="conversionRate - controlConversionRate (incremental)")
    async def lift(self, info: Ctx) -> float | None:
        return _round((await self._result(info)).lift)

    @strawberry.field(description="conversionRate / controlConversionRate")
    async def relative_lift(self, info: Ctx) -> float | None:
        return _round((await self._result(info)).relative_lift)

    # Nullable, as a customer's lists: a bad page argument nulls only the list, not the
    # campaign's name and figures (QA).
    @strawberry.field(
        description="the contact list as you may see it (masked by the policy), by id; "
        + PAGE_OR_NULL
    )
    async def contacts(
        self,
        info: Ctx,
        group: CampaignGroup | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> CustomerConnection | None:
        page = await contacts_page(
            info.context, str(self.id), group.value if group else None, first, after
        )
        return connection(page.map(Customer.from_row))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


async def _campaign(info: Ctx, row: dict[str, Any]) -> Campaign:
    catalogue = info.context.catalogue
    product = catalogue.get(row["product"])
    return Campaign(
        row=row,
        id=strawberry.ID(row["id"]),
        name=row["name"],
        product=Product(
            code=row["product"],
            name=product.name if product else None,
            category=product.category if product else None,
        ),
        channel=row["channel"],
        from_=datetime.fromisoformat(row["from"].replace("Z", "+00:00")),
        to=datetime.fromisoformat(row["to"].replace("Z", "+00:00")),
        control_share=float(row["controlShare"]),
    )


@strawberry.type
class NbaQuery:
    @strawberry.field(
        description="care tasks due in [from, to] (default: the next 14 days) for your own "
        "customers, earliest first"
    )
    async def advisor_tasks(
        self,
        info: Ctx,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> CareTaskConnection:
        today = info.context.analytics_now.date()
        start = from_ or today
        check_window(today, start, start)  # before the default end is computed from it
        end = to or start + timedelta(days=DEFAULT_WINDOW_DAYS)
        page = await advisor_tasks_page(
            info.context, start, end, first, after, with_reason=asks(info, _REASON)
        )
        return connection(page.map(_task))

    @strawberry.field(description="a campaign and its figures; unknown id: null + NOT_FOUND")
    async def campaign(self, info: Ctx, id: strawberry.ID) -> Campaign | None:
        return await _campaign(info, await load_campaign(info.context, str(id)))


@strawberry.input(description="A campaign to create: who, what, through which channel, when.")
class CampaignInput:
    name: str = strawberry.field(description="1..200 characters")
    audience: AudienceFilter = strawberry.field(description="who it is for")
    product: str = strawberry.field(description="code of the product it promotes")
    channel: str = strawberry.field(description="PHONE, SMS, CHAT, EMAIL, BRANCH or APP")
    from_: datetime = strawberry.field(name="from", description="start of its window")
    to: datetime = strawberry.field(description="end of its window; after from")
    control_share: float = strawberry.field(
        default=0.1, description="share of the audience to hold out as control, 0..0.9"
    )


@strawberry.type
class NbaMutation:
    @strawberry.mutation(description="log the interaction that completes a care task")
    async def complete_task(self, info: Ctx, id: strawberry.ID, note: str) -> Interaction:
        row = await complete_task(info.context, str(id), note)
        return Interaction.from_row(row["customerId"], row)

    @strawberry.mutation(
        description="a campaign for the customers matching the audience that the policy lets "
        "you see for marketing, with a random control group held out"
    )
    async def create_campaign(self, info: Ctx, input: CampaignInput) -> Campaign:
        a = input.audience
        spec = CampaignSpec(
            name=input.name,
            audience=Audience(a.income_bands, a.risk_profiles, a.holds, a.not_holds,
                              a.min_age, a.max_age),
            product=input.product,
            channel=input.channel.upper(),
            start=input.from_,
            end=input.to,
            control_share=input.control_share,
        )  # fmt: skip
        campaign_id = await create_campaign(info.context, spec)
        return await _campaign(info, await load_campaign(info.context, campaign_id))

    @strawberry.mutation(
        description="log a MARKETING contact for the campaign's treatment members (all, or "
        "the given ones); returns how many were logged"
    )
    async def log_campaign_contacts(
        self, info: Ctx, id: strawberry.ID, customer_ids: list[strawberry.ID] | None = None
    ) -> int:
        ids = [str(c) for c in customer_ids] if customer_ids is not None else None
        return await log_contacts(info.context, str(id), ids)


__all__ = [
    "Campaign",
    "CareTask",
    "NbaMutation",
    "NbaQuery",
    "Recommendation",
    "RecommendationKind",
    "customer_recommendations",
]
