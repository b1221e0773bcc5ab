// The filter the brand pages share (kept for the session), and the brands seen in recent posts.
import { gql } from "./api.js";
import { field, h, select } from "./dom.js";
import { dayInput, daysAgo, localDayToIso } from "./format.js";
import { t } from "./i18n.js";

const KEY = "c360.brandFilter";

export function loadFilter() {
  const saved = JSON.parse(sessionStorage.getItem(KEY) || "{}");
  return {
    brand: saved.brand ?? "招商银行",
    term: saved.term ?? "",
    query: saved.query ?? "",
    from: saved.from ?? dayInput(daysAgo(30)),
    to: saved.to ?? dayInput(new Date()),
    interval: saved.interval ?? "DAY",
    label: saved.label ?? "",
    platform: saved.platform ?? "",
    includeReposts: saved.includeReposts ?? false,
  };
}

// [from, to) as ISO instants: the "to" day is included.
export function range(filter) {
  return { from: localDayToIso(filter.from), to: localDayToIso(filter.to, 1) };
}

let brandCache = null;

export async function knownBrands() {
  if (brandCache) return brandCache;
  try {
    const { data } = await gql("{ mentions(first: 100) { edges { node { brands } } } }");
    const seen = new Set((data.mentions?.edges || []).flatMap((e) => e.node.brands));
    brandCache = [...seen].sort();
  } catch {
    brandCache = [];
  }
  return brandCache;
}

// extra: which optional inputs to show ("term", "interval", "label", "platform").
export async function filterForm(extra, onSubmit) {
  const f = loadFilter();
  const brands = await knownBrands();
  const inputs = {
    brand: h("input", { name: "brand", value: f.brand, list: "brands", size: 12 }),
    from: h("input", { name: "from", type: "date", value: f.from, required: true }),
    to: h("input", { name: "to", type: "date", value: f.to, required: true }),
    term: h("input", { name: "term", value: f.term, size: 12 }),
    query: h("input", { name: "query", value: f.query, size: 24, placeholder: "brand:招商银行 AND 闪退" }),
    interval: select("interval", [["HOUR", "HOUR"], ["DAY", "DAY"], ["WEEK", "WEEK"]], f.interval),
    label: select("label", [["", t("any")], ...["POSITIVE", "NEUTRAL", "NEGATIVE"].map((l) => [l, t(l.toLowerCase())])], f.label),
    platform: select("platform", [["", t("any")], ...["x", "weibo", "wechat", "forum"].map((p) => [p, p])], f.platform),
    includeReposts: h("input", { name: "includeReposts", type: "checkbox", checked: f.includeReposts }),
  };
  const form = h(
    "form",
    {
      class: "filters",
      role: "search",
      onsubmit: (e) => {
        e.preventDefault();
        const next = { ...f };
        for (const [key, input] of Object.entries(inputs)) next[key] = input.type === "checkbox" ? input.checked : input.value.trim();
        sessionStorage.setItem(KEY, JSON.stringify(next));
        onSubmit(next);
      },
    },
    h("datalist", { id: "brands" }, brands.map((b) => h("option", { value: b }))),
    field(t("brand"), inputs.brand),
    extra.includes("query") && field(t("queryLang"), inputs.query),
    extra.includes("term") && field(t("term"), inputs.term),
    extra.includes("platform") && field(t("platform"), inputs.platform),
    extra.includes("label") && field(t("label"), inputs.label),
    field(t("from"), inputs.from),
    field(t("to"), inputs.to),
    extra.includes("interval") && field(t("interval"), inputs.interval),
    h("label", { class: "field check" }, inputs.includeReposts, h("span", {}, t("includeReposts"))),
    h("button", { type: "submit" }, t("search"))
  );
  return { form, filter: f };
}
