"""Next best action types: recommendations in the 360 view (``Customer.recommendations``)."""

from __future__ import annotations

import strawberry

from insights.recommend import RecommendationKind as _RecommendationKind
from resolvers.errors import BadUserInput
from resolvers.recommendations import recommendations_for
from schema.types import Ctx, Product

RecommendationKind = strawberry.enum(_RecommendationKind, name="RecommendationKind")
MAX_RECOMMENDATIONS = 10


@strawberry.type(description="a product to offer, why, and how strongly")
class Recommendation:
    product: Product
    kind: RecommendationKind
    score: float = strawberry.field(description="0..1, comparable within one customer")
    reasons: list[str] = strawberry.field(
        description="sentences a person can read; only from data you may see"
    )


async def customer_recommendations(info: Ctx, customer_id: str, first: int) -> list[Recommendation]:
    if not 1 <= first <= MAX_RECOMMENDATIONS:
        raise BadUserInput(f"first must be between 1 and {MAX_RECOMMENDATIONS}", field="first")
    recs = await recommendations_for(info.context, customer_id, first)
    catalogue = await info.context.nba.catalogue()
    privacy = info.context.privacy
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
    if privacy is not None:
        privacy.customers_touched.add(customer_id)
    return out


__all__ = ["Recommendation", "RecommendationKind", "customer_recommendations"]
