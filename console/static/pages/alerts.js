// Alerts: buckets whose volume or negative share spiked against the brand's seasonal baseline,
// explained by the terms that set them apart, their emotions and their most engaging negative
// posts (brandAlerts). A hub without brandAlerts gets the older sentimentAlerts (z-score only).
import { gql, schemaFeatures } from "../api.js";
import { clear, h } from "../dom.js";
import { fmtDate, fmtNum } from "../format.js";
import { t } from "../i18n.js";
import { filterForm, range } from "../brand.js";
import { empty, errorNotice, errorsNotice, heading, notice } from "../ui.js";

const POST = "platform postId text createdAt keywords products metrics { likes reposts replies } author { handle }";
const BRAND_ALERTS = `query ($brand: String!, $from: DateTime!, $to: DateTime!, $interval: Interval!, $reposts: Boolean!) {
  brandAlerts(brand: $brand, from: $from, to: $to, interval: $interval, includeReposts: $reposts, topPosts: 3, topTerms: 8) {
    judgedBuckets insufficientHistory
    alerts { start kinds count negative expected volumeZ negativeShare baselineNegativeShare
      topTerms { term count share baselineShare } emotions { emotion count share baselineShare }
      topPosts { ${POST} } } } }`;
const SENTIMENT_ALERTS = `query ($brand: String!, $from: DateTime!, $to: DateTime!, $interval: Interval!, $reposts: Boolean!) {
  sentimentAlerts(brand: $brand, from: $from, to: $to, interval: $interval, includeReposts: $reposts, topPosts: 3) {
    start count negative zScore baselineMean topPosts { ${POST} } } }`;

const pct = (v) => (v === null || v === undefined ? "—" : `${fmtNum(v * 100, 0)}%`);

function posts(list) {
  return h("ol", {}, list.map((p) =>
    h("li", {}, h("span", { class: "post" }, p.text), " ",
      p.keywords.concat(p.products).map((k) => h("span", { class: "tag" }, k)),
      h("small", {}, ` · ${fmtDate(p.createdAt)} · ♥ ${fmtNum(p.metrics?.likes ?? 0)} ↻ ${fmtNum(p.metrics?.reposts ?? 0)} · ${p.author?.handle ?? "—"}`))));
}

function explainedCard(a, interval) {
  return h(
    "article",
    { class: "card alert", "data-kinds": a.kinds.join(",") },
    h("h2", {}, fmtDate(a.start, interval === "HOUR"), " ", a.kinds.map((k) => h("span", { class: "tag" }, t(`kind${k}`)))),
    h("p", { class: "facts" },
      `${t("count")} ${fmtNum(a.count)} (${t("expected")} ${fmtNum(a.expected, 1)}, Z ${fmtNum(a.volumeZ, 1)}) · ` +
      `${t("negative")} ${fmtNum(a.negative)} · ${t("negShare")} ${pct(a.negativeShare)} (${t("baselineShort")} ${pct(a.baselineNegativeShare)})`),
    a.topTerms.length > 0 && h("div", {}, h("h3", {}, t("topTerms")),
      h("p", { class: "terms" }, a.topTerms.map((x) =>
        h("span", { class: "tag", title: `${pct(x.share)} vs ${pct(x.baselineShare)}` }, `${x.term} ×${fmtNum(x.count)}`)))),
    a.emotions.length > 0 && h("p", { class: "meta" }, `${t("emotion")}: `,
      a.emotions.filter((e) => e.count > 0).map((e) => `${e.emotion} ${pct(e.share)} (${t("baselineShort")} ${pct(e.baselineShare)})`).join(" · ")),
    h("h3", {}, t("topNegative")),
    posts(a.topPosts)
  );
}

function zCard(a, interval) {
  return h(
    "article",
    { class: "card alert" },
    h("h2", {}, fmtDate(a.start, interval === "HOUR")),
    h("p", { class: "facts" },
      `${t("negative")} ${fmtNum(a.negative)} / ${t("count")} ${fmtNum(a.count)} · ${t("baseline")} ${fmtNum(a.baselineMean, 1)} · ${t("zScore")} ${a.zScore === null ? "—" : fmtNum(a.zScore, 2)}`),
    h("h3", {}, t("topNegative")),
    posts(a.topPosts)
  );
}

export async function render(main) {
  const out = h("div", { id: "alerts-out", "aria-live": "polite" });
  const explained = (await schemaFeatures()).query.has("brandAlerts");
  const run = async (f) => {
    if (!f.brand) return clear(out, empty(t("needBrand")));
    const vars = { brand: f.brand, ...range(f), interval: f.interval, reposts: f.includeReposts };
    try {
      if (!explained) {
        const { data, errors } = await gql(SENTIMENT_ALERTS, vars);
        const alerts = data.sentimentAlerts || [];
        return clear(out, errorsNotice(errors), alerts.length ? alerts.map((a) => zCard(a, f.interval)) : empty(t("noAlerts")));
      }
      const { data, errors } = await gql(BRAND_ALERTS, vars);
      const report = data.brandAlerts;
      const alerts = [...(report?.alerts || [])].reverse(); // newest first
      const unjudged = report?.insufficientHistory.length
        ? notice(`${fmtNum(report.insufficientHistory.length)} ${t("unjudged")}`) : null;
      clear(out, errorsNotice(errors), unjudged,
        alerts.length ? alerts.map((a) => explainedCard(a, f.interval)) : empty(t("noAlerts")));
    } catch (exc) {
      clear(out, errorNotice(exc));
    }
  };
  const { form, filter } = await filterForm(["interval"], run);
  main.append(heading(t("alertsTitle")), form, out);
  await run(filter);
}
