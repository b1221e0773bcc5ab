// Mentions search: term/brand/platform/label filters, labels, emotions and authors as the role sees them.
import { gql, schemaFeatures } from "../api.js";
import { clear, h, table } from "../dom.js";
import { fmtDate, fmtNum } from "../format.js";
import { t } from "../i18n.js";
import { filterForm, range } from "../brand.js";
import { empty, errorNotice, errorsNotice, heading, labelBadge } from "../ui.js";

function query(withEmotion) {
  return `query ($filter: MentionFilter, $after: String) {
    mentions(filter: $filter, first: 25, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { platform postId text createdAt url isRepost duplicateOf
        sentiment { label score ${withEmotion ? "emotion" : ""} }
        brands products keywords metrics { likes reposts replies }
        author { platform handle displayName followers } } } } }`;
}

function author(a) {
  if (!a) return "—";
  return h("span", { class: a.handle?.startsWith("h:") ? "hashed" : "" }, a.handle ?? h("i", { class: "masked" }, t("redacted")));
}

export async function render(main) {
  const out = h("div", { id: "mentions-out", "aria-live": "polite" });
  const features = await schemaFeatures();
  const withEmotion = features.sentiment.has("emotion");
  // The mention query language, where this hub's schema has it (MentionFilter.query).
  const withQuery = features.mentionFilter.has("query");
  const search = async (f, after = null, rows = []) => {
    const filter = {
      brand: f.brand || null, term: f.term || null, platform: f.platform || null,
      label: f.label || null, ...range(f), includeReposts: f.includeReposts,
    };
    if (withQuery && f.query) filter.query = f.query;
    try {
      const { data, errors } = await gql(query(withEmotion), { filter, after });
      const conn = data.mentions;
      const all = rows.concat(conn?.edges.map((e) => e.node) || []);
      const cols = [
        [t("time"), (p) => fmtDate(p.createdAt)],
        [t("platform"), (p) => p.platform],
        [t("author"), (p) => author(p.author)],
        [t("text"), (p) => h("span", { class: "post" }, p.text, p.isRepost ? h("small", {}, " ↻") : null)],
        [t("sentiment"), (p) => labelBadge(p.sentiment?.label)],
        withEmotion && [t("emotion"), (p) => p.sentiment?.emotion ?? "—"],
        [t("labels"), (p) => [...p.brands, ...p.products, ...p.keywords].map((l) => h("span", { class: "tag" }, l))],
        [t("metrics"), (p) => `♥ ${fmtNum(p.metrics?.likes ?? 0)} ↻ ${fmtNum(p.metrics?.reposts ?? 0)}`],
      ].filter(Boolean);
      clear(
        out,
        errorsNotice(errors),
        conn && h("p", { class: "count" }, `${fmtNum(conn.totalCount)} ${t("results")}`),
        all.length ? table(cols, all, { class: "data", id: "mentions-table" }) : empty(t("noMentions")),
        conn?.pageInfo.hasNextPage &&
          h("button", { type: "button", onclick: () => search(f, conn.pageInfo.endCursor, all) }, t("loadMore"))
      );
    } catch (exc) {
      clear(out, errorNotice(exc));
    }
  };
  const { form, filter } = await filterForm([...(withQuery ? ["query"] : []), "term", "platform", "label"], (f) => search(f));
  main.append(heading(t("mentions")), form, out);
  await search(filter);
}
