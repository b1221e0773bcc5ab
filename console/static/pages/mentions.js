// Mentions search: term/brand/platform/label filters, labels, emotions and authors as the role sees them.
import { gql, schemaFeatures } from "../api.js";
import { items, liveSubscribe } from "../live.js";
import { clear, h, table } from "../dom.js";
import { fmtDate, fmtNum } from "../format.js";
import { t } from "../i18n.js";
import { filterForm, range } from "../brand.js";
import { empty, errorNotice, errorsNotice, heading, labelBadge, liveBadge, onLeave } from "../ui.js";

function postFields(withEmotion) {
  return `platform postId text createdAt url isRepost duplicateOf
        sentiment { label score ${withEmotion ? "emotion" : ""} }
        brands products keywords metrics { likes reposts replies }
        author { platform handle displayName followers }`;
}

function query(withEmotion) {
  return `query ($filter: MentionFilter, $after: String) {
    mentions(filter: $filter, first: 25, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { ${postFields(withEmotion)} } } } }`;
}

// New posts as they are stored (the mentionAdded subscription, where the hub has it).
function liveQuery(withEmotion) {
  return `subscription ($query: String) { mentionAdded(query: $query) { ${postFields(withEmotion)} } }`;
}

// Does a post pushed live belong in the list the filter shows? (The server filters by the
// query language; brand, platform, label, reposts and the time range are checked here.)
function matches(p, f, filter) {
  if (f.brand && !f.term && !(p.brands || []).includes(f.brand)) return false;
  if (f.term && !p.text?.includes(f.term)) return false;
  if (f.platform && p.platform !== f.platform) return false;
  if (f.label && p.sentiment?.label !== f.label) return false;
  if (!f.includeReposts && p.isRepost) return false;
  const at = Date.parse(p.createdAt);
  return at >= Date.parse(filter.from) && at < Date.parse(filter.to);
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
  const liveState = h("span", {});
  let stopLive = null;
  let left = false;
  onLeave(() => { left = true; stopLive?.(); });
  const follow = async (f, filter, view) => {
    stopLive?.();
    stopLive = null;
    const live = await liveSubscribe("mentionAdded", liveQuery(withEmotion), { query: (withQuery && f.query) || null }, {
      next: ({ data }) => view.prepend(items(data?.mentionAdded).filter((p) => matches(p, f, filter))),
    });
    if (left) return live?.unsubscribe(); // the user moved on while it was being set up
    stopLive = live?.unsubscribe || null;
    if (live) liveState.replaceChildren(liveBadge(live));
  };
  // A post is one row however it reached the page: a page of the search, or the live feed
  // (a post pushed live may come again in a later page; QA, session 26).
  const key = (p) => `${p.platform}/${p.postId}`;
  const search = async (f, after = null, rows = []) => {
    const filter = {
      brand: f.brand || null, term: f.term || null, platform: f.platform || null,
      label: f.label || null, ...range(f), includeReposts: f.includeReposts,
    };
    if (withQuery && f.query) filter.query = f.query;
    try {
      const { data, errors } = await gql(query(withEmotion), { filter, after });
      const conn = data.mentions;
      const all = [...rows];
      const shown = new Set(all.map(key));
      const unshown = (posts) => posts.filter((p) => !shown.has(key(p)) && shown.add(key(p)));
      all.push(...unshown(conn?.edges.map((e) => e.node) || []));
      // The search's count, plus the posts stored since that the live feed added.
      let total = conn?.totalCount ?? 0;
      let fresh = new Set();
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
      const draw = () => {
        const list = all.length ? table(cols, all, { class: "data", id: "mentions-table" }) : empty(t("noMentions"));
        list.querySelectorAll?.("tbody tr").forEach((tr, i) => fresh.has(all[i]) && tr.classList.add("fresh"));
        clear(
          out,
          errorsNotice(errors),
          conn && h("p", { class: "count" }, `${fmtNum(total)} ${t("results")}`),
          list,
          conn?.pageInfo.hasNextPage &&
            h("button", { type: "button", onclick: () => search(f, conn.pageInfo.endCursor, all) }, t("loadMore"))
        );
      };
      draw();
      const view = {
        prepend: (posts) => {
          const added = unshown(posts);
          if (!added.length) return;
          fresh = new Set(added);
          added.sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
          all.unshift(...added);
          total += added.length;
          draw();
        },
      };
      // The newest list view gets the live posts; only where the hub let us read posts (the
      // same check refuses the subscription).
      if (conn) await follow(f, filter, view);
    } catch (exc) {
      clear(out, errorNotice(exc));
    }
  };
  const { form, filter } = await filterForm([...(withQuery ? ["query"] : []), "term", "platform", "label"], (f) => search(f));
  const title = heading(t("mentions"));
  title.append(liveState);
  main.append(title, form, out);
  await search(filter);
}
