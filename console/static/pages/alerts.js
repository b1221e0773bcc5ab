// Alerts: buckets whose negative volume spiked, with their most engaging negative posts.
import { gql } from "../api.js";
import { clear, h } from "../dom.js";
import { fmtDate, fmtNum } from "../format.js";
import { t } from "../i18n.js";
import { filterForm, range } from "../brand.js";
import { empty, errorNotice, errorsNotice, heading } from "../ui.js";

const ALERTS = `query ($brand: String!, $from: DateTime!, $to: DateTime!, $interval: Interval!, $reposts: Boolean!) {
  sentimentAlerts(brand: $brand, from: $from, to: $to, interval: $interval, includeReposts: $reposts, topPosts: 3) {
    start count negative zScore baselineMean
    topPosts { platform postId text createdAt keywords products metrics { likes reposts replies } author { handle } } } }`;

function alertCard(a, interval) {
  return h(
    "article",
    { class: "card alert" },
    h("h2", {}, fmtDate(a.start, interval === "HOUR")),
    h("p", { class: "facts" },
      `${t("negative")} ${fmtNum(a.negative)} / ${t("count")} ${fmtNum(a.count)} · ${t("baseline")} ${fmtNum(a.baselineMean, 1)} · ${t("zScore")} ${a.zScore === null ? "—" : fmtNum(a.zScore, 2)}`),
    h("h3", {}, t("topNegative")),
    h("ol", {}, a.topPosts.map((p) =>
      h("li", {}, h("span", { class: "post" }, p.text), " ",
        p.keywords.concat(p.products).map((k) => h("span", { class: "tag" }, k)),
        h("small", {}, ` · ${fmtDate(p.createdAt)} · ♥ ${fmtNum(p.metrics?.likes ?? 0)} ↻ ${fmtNum(p.metrics?.reposts ?? 0)} · ${p.author?.handle ?? "—"}`))))
  );
}

export async function render(main) {
  const out = h("div", { id: "alerts-out", "aria-live": "polite" });
  const run = async (f) => {
    if (!f.brand) return clear(out, empty(t("needBrand")));
    try {
      const { data, errors } = await gql(ALERTS, { brand: f.brand, ...range(f), interval: f.interval, reposts: f.includeReposts });
      const alerts = data.sentimentAlerts || [];
      clear(out, errorsNotice(errors), alerts.length ? alerts.map((a) => alertCard(a, f.interval)) : empty(t("noAlerts")));
    } catch (exc) {
      clear(out, errorNotice(exc));
    }
  };
  const { form, filter } = await filterForm(["interval"], run);
  main.append(heading(t("alertsTitle")), form, out);
  await run(filter);
}
