"""The recommender as pure functions: eligibility, up-sell, reasons, scores."""

from __future__ import annotations

from insights.catalogue import default_catalogue
from insights.recommend import (
    Holder,
    ReasonSource,
    RecommendationKind,
    fit,
    popular,
    ranking_score,
    recommend,
)

CATALOGUE = default_catalogue()


def holder(cid: str, held: set[str], risk: str = "激进", **kw: object) -> Holder:
    kw.setdefault("ages", (30, 30))  # the age band's: within every product's age limits
    return Holder(cid, "20-50万", "25-34", risk, frozenset(held), **kw)  # type: ignore[arg-type]


def book() -> list[Holder]:
    """Card holders in this cell mostly also hold 朝朝宝 and the index fund."""
    out = [holder(f"a{i}", {"SAV-BASIC", "CC-GOLD", "MMF-ZZB", "FUND-IDX"}) for i in range(30)]
    out += [holder(f"b{i}", {"SAV-BASIC", "CHK-PAYROLL"}) for i in range(30)]
    out += [holder(f"c{i}", {"SAV-BASIC", "SAV-TERM"}, "保守") for i in range(10)]
    return out


def test_never_a_held_product_and_peers_reason() -> None:
    model = fit(book())
    me = holder("me", {"SAV-BASIC", "CC-GOLD"})
    recs = recommend(me, model, CATALOGUE, 3)
    assert [r.code for r in recs][:2] == ["FUND-IDX", "MMF-ZZB"]
    assert not {r.code for r in recs} & me.held
    peers = [x for x in recs[1].reasons if x.source is ReasonSource.PEERS]
    assert peers and "who hold 金卡信用卡 also hold 朝朝宝" in peers[0].text
    assert peers[0].text.startswith("99% of customers in your income band (20-50万) and age band")


def test_conservative_never_gets_high_risk_wealth_even_when_peers_hold_it() -> None:
    model = fit(book())
    me = holder("me", {"SAV-BASIC", "CC-GOLD"}, "保守")
    codes = [r.code for r in recommend(me, model, CATALOGUE, 14)]
    risky = {
        c for c, p in CATALOGUE.products.items() if p.category == "WEALTH" and p.risk_level > 2
    }
    assert risky == {"FUND-IDX", "WM-GROWTH"}
    assert not risky & set(codes)
    assert "MMF-ZZB" in codes  # low-risk wealth stays on offer
    assert not risky & set(popular(me, model, CATALOGUE, 14))


def test_upsell_reason_needs_six_months_above_the_threshold() -> None:
    model = fit(book())
    sustained = holder("me", {"SAV-BASIC", "CC-GOLD"}, assets=350_000.0, assets_before=260_000.0)
    recs = {r.code: r for r in recommend(sustained, model, CATALOGUE, 14)}
    plat = recs["CC-PLAT"]
    assert plat.kind is RecommendationKind.UP_SELL
    (amount,) = [x for x in plat.reasons if x.source is ReasonSource.AMOUNT]
    assert amount.text == "total assets above the 20万 threshold of 白金信用卡 for 6 months"
    dipped = holder("me", {"SAV-BASIC", "CC-GOLD"}, assets=350_000.0, assets_before=150_000.0)
    recs2 = {r.code: r for r in recommend(dipped, model, CATALOGUE, 14)}
    assert recs2["CC-PLAT"].kind is RecommendationKind.UP_SELL
    assert not [x for x in recs2["CC-PLAT"].reasons if x.source is ReasonSource.AMOUNT]
    assert recs2["CC-PLAT"].score < plat.score
    # Unknown amounts (a caller who sees them banded): no amount reason, same as dipped.
    hidden = holder("me", {"SAV-BASIC", "CC-GOLD"})
    recs3 = {r.code: r for r in recommend(hidden, model, CATALOGUE, 14)}
    assert recs3["CC-PLAT"].score == recs2["CC-PLAT"].score


def test_household_holdings_raise_the_score_and_say_so() -> None:
    model = fit(book())
    alone = holder("me", {"SAV-BASIC", "CHK-PAYROLL"})
    family = holder(
        "me", {"SAV-BASIC", "CHK-PAYROLL"}, household={"WM-STABLE": 2}, household_size=2
    )
    a = {r.code: r for r in recommend(alone, model, CATALOGUE, 14)}
    b = {r.code: r for r in recommend(family, model, CATALOGUE, 14)}
    assert b["WM-STABLE"].score > a["WM-STABLE"].score
    assert any(
        x.text == "2 of your 2 household member(s) hold 稳健理财30天"
        for x in b["WM-STABLE"].reasons
    )


def test_model_round_trips_through_json() -> None:
    model = fit(book())
    again = type(model).from_json(model.to_json())
    me = holder("me", {"SAV-BASIC", "CC-GOLD"})
    assert recommend(me, again, CATALOGUE) == recommend(me, model, CATALOGUE)


def test_ranking_score() -> None:
    score = ranking_score([("a", ["a", "b", "c"]), ("b", ["c", "b"]), ("z", ["a", "b", "c"])])
    assert score.cases == 3
    assert score.hit_rate == 2 / 3
    assert abs(score.mrr - (1 + 0.5) / 3) < 1e-9
