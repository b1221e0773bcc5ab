// Sentiment trend (stacked positive/neutral/negative per bucket) and share of voice.
import { gql } from "../api.js";
import { clear, h, table } from "../dom.js";
import { fmtDate, fmtNum, timeZone } from "../format.js";
import { t } from "../i18n.js";
import { filterForm, knownBrands, range } from "../brand.js";
import { LABEL_COLORS, chart, empty, errorNotice, errorsNotice, heading } from "../ui.js";

// Buckets of the browser's own zone (the range's bounds are its local midnights), so each
// bucket is one of the days (weeks, hours) its label names; the hub's default zone is its own.
const TREND = `query ($from: DateTime!, $to: DateTime!, $interval: Interval!, $brand: String, $term: String, $reposts: Boolean!, $tz: String) {
  sentimentTrend(from: $from, to: $to, interval: $interval, brand: $brand, term: $term, includeReposts: $reposts, timezone: $tz) {
    start partial count positive neutral negative avgScore } }`;

// A bucket's start in the zone the hub bucketed in; a partial one (sticking out of the range:
// a week cut by the dates) says so, as its counts cover only part of it.
function bucketLabel(b, interval) {
  const when = interval === "HOUR" ? fmtDate(b.start) : fmtDate(b.start, false);
  return b.partial ? `${when} (${t("partialBucket")})` : when;
}

async function drawTrend(out, f) {
  if (!f.brand && !f.term) return clear(out, empty(t("needBrand")));
  const vars = {
    ...range(f), interval: f.interval, reposts: f.includeReposts,
    brand: f.term ? null : f.brand, term: f.term || null, tz: timeZone,
  };
  const { data, errors } = await gql(TREND, vars);
  const buckets = data.sentimentTrend || [];
  const total = buckets.reduce((n, b) => n + b.count, 0);
  if (!total) return clear(out, errorsNotice(errors), empty(t("noTrend")));
  const el = h("div", { class: "chart", id: "trend-chart", role: "img", "data-total": total,
    "data-partial": buckets.filter((b) => b.partial).length,
    "aria-label": `${t("trendTitle")}: ${t("total")} ${fmtNum(total)}` });
  const details = h("details", {}, h("summary", {}, t("chartTable")), table(
    [[t("time"), (b) => bucketLabel(b, f.interval)], [t("positive"), (b) => fmtNum(b.positive)],
     [t("neutral"), (b) => fmtNum(b.neutral)], [t("negative"), (b) => fmtNum(b.negative)], [t("count"), (b) => fmtNum(b.count)]],
    buckets, { class: "data" }));
  clear(out, errorsNotice(errors), h("h2", {}, `${t("trendTitle")} · ${f.term || f.brand} · ${t("total")} ${fmtNum(total)}`), el, details);
  const series = ["positive", "neutral", "negative"].map((key) => ({
    name: t(key), type: "bar", stack: "all", data: buckets.map((b) => b[key]),
    itemStyle: { color: LABEL_COLORS[key.toUpperCase()] },
  }));
  chart(el, {
    tooltip: { trigger: "axis", valueFormatter: (v) => fmtNum(v) },
    legend: { top: 0 },
    grid: { left: 48, right: 16, top: 36, bottom: 32 },
    xAxis: { type: "category", data: buckets.map((b) => bucketLabel(b, f.interval)) },
    yAxis: { type: "value", axisLabel: { formatter: (v) => fmtNum(v) } },
    series,
  });
}

// Share of voice: the hub's shareOfVoice over the brands seen in recent posts (a post naming
// two brands counts for both), with each brand's net sentiment.
const SOV = `query ($brands: [String!]!, $from: DateTime!, $to: DateTime!, $reposts: Boolean!, $tz: String) {
  shareOfVoice(brands: $brands, from: $from, to: $to, interval: WEEK, includeReposts: $reposts, timezone: $tz) {
    brands { brand count share netSentiment } } }`;

async function drawShare(out, f) {
  const brands = (await knownBrands()).slice(0, 12);
  if (!brands.length) return clear(out, empty(t("noTrend")));
  const { data, errors } = await gql(SOV, { brands, ...range(f), reposts: f.includeReposts, tz: timeZone });
  const rows = (data.shareOfVoice?.brands || []).filter((r) => r.count > 0);
  if (!rows.length) return clear(out, errorsNotice(errors), empty(t("noTrend")));
  const el = h("div", { class: "chart small", id: "sov-chart", role: "img", "aria-label": t("sovTitle"),
    "data-brands": rows.length });
  const pct = (v) => (v === null || v === undefined ? "—" : `${fmtNum(v * 100, 1)}%`);
  clear(out, errorsNotice(errors), h("h2", {}, t("sovTitle")), el,
    h("details", {}, h("summary", {}, t("chartTable")),
      table([[t("brand"), (r) => r.brand], [t("count"), (r) => fmtNum(r.count)], [t("share"), (r) => pct(r.share)],
        [t("net"), (r) => (r.netSentiment === null ? "—" : fmtNum(r.netSentiment, 2))]], rows, { class: "data", id: "sov-table" })));
  chart(el, {
    tooltip: { trigger: "item", valueFormatter: (v) => fmtNum(v) },
    // The share the hub computed (of all the brands' volume), not the pie's own arithmetic.
    series: [{ type: "pie", radius: ["35%", "65%"], data: rows.map((r) => ({ name: r.brand, value: r.count, share: r.share })),
      label: { formatter: (p) => `${p.name}: ${pct(p.data.share)}` } }],
  });
}

export async function render(main) {
  const trendOut = h("section", { id: "trend-out", "aria-live": "polite" });
  const shareOut = h("section", { id: "sov-out" });
  const run = async (f) => {
    try {
      await drawTrend(trendOut, f);
      await drawShare(shareOut, f);
    } catch (exc) {
      clear(trendOut, errorNotice(exc));
    }
  };
  const { form, filter } = await filterForm(["term", "interval"], run);
  main.append(heading(t("trend")), form, h("div", { class: "grid2" }, trendOut, shareOut));
  await run(filter);
}
