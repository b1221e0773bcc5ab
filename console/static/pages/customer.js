// Customer 360: search, then the card exactly as the caller's role sees it; masked values marked.
import { gql, session } from "../api.js";
import { clear, field, h, table } from "../dom.js";
import { fmtAmount, fmtDate, fmtNum } from "../format.js";
import { t } from "../i18n.js";
import { empty, errorNotice, errorsNotice, heading, labelBadge } from "../ui.js";

const SEARCH = `query ($search: String, $after: String) { customers(search: $search, first: 20, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { id name segment lifecycleStage maskedFields } } } }`;

const CARD = `query ($id: ID!) { customer(id: $id) {
  id name gender birthDate idNumber phone email address occupation incomeBand riskProfile createdAt
  consents { marketing dataSharing updatedAt } maskedFields totalAssets segment ageBand lifecycleStage
  churnRisk { score reasons }
  advisor { id name branch { name city } }
  accounts { id type product balance currency openedAt status role }
  household { id name members { role customer { id name } } }
  transactions(first: 10) { totalCount edges { node { id accountId amount currency time channel kind description } } }
  interactions(first: 10) { totalCount edges { node { id channel kind time summary satisfaction resolved } } }
  mentions(first: 5) { totalCount edges { node { platform text createdAt sentiment { label } } } }
  sentimentSummary { count positive neutral negative } } }`;

// A value as the role sees it: masked fields get a visible marker, hidden ones say so.
function shown(value, masked) {
  if (value === null || value === undefined || value === "") {
    return masked ? h("span", { class: "masked redacted" }, `⊘ ${t("redacted")}`) : "—";
  }
  if (!masked) return String(value);
  return h("span", { class: "masked", title: t("masked") }, String(value), h("span", { class: "mark" }, ` · ${t("masked")}`));
}

function dl(pairs) {
  return h("dl", { class: "kv-list" }, pairs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function section(title, ...body) {
  return h("section", { class: "card" }, h("h2", {}, title), ...body);
}

// A paged list of the card: null when it could not be answered (its error is shown above the
// card); the rest of the customer is still shown. The count is left out then, not a "0".
function paged(title, conn, body) {
  if (!conn) return section(title, h("p", { class: "notice", "data-unavailable": "" }, t("pageUnavailable")));
  return section(`${title} (${fmtNum(conn.totalCount)})`, conn.edges.length ? body(conn.edges) : h("p", {}, t("empty")));
}

function card(c) {
  const m = new Set(c.maskedFields);
  const f = (name, value = c[name]) => [t(name), h("span", { "data-field": name }, shown(value, m.has(name)))];
  const amountMasked = m.has("totalAssets");
  const churn = c.churnRisk;
  return h(
    "div",
    { class: "c360", id: "c360-card", "data-customer": c.id },
    h("h2", { class: "who-title" }, shown(c.name, m.has("name")), h("small", {}, ` · ${c.id}`)),
    h("div", { class: "grid2" },
      section(t("profile"), dl([
        f("name"), f("gender"), f("birthDate"), f("ageBand"), f("idNumber"), f("phone"), f("email"), f("address"),
        f("occupation"), f("incomeBand"), f("riskProfile"), f("segment"), f("totalAssets", fmtAmount(c.totalAssets)),
        f("lifecycleStage"),
        [t("advisor"), c.advisor ? `${c.advisor.name ?? c.advisor.id} · ${c.advisor.branch?.name ?? ""}` : "—"],
      ])),
      h("div", {},
        section(t("maskedFields"), c.maskedFields.length
          ? h("ul", { id: "masked-fields", class: "tags" }, c.maskedFields.map((name) => h("li", { class: "tag masked" }, name)))
          : h("p", { id: "masked-fields" }, t("noneMasked"))),
        // churnRisk is null with its error (shown above the card) when it cannot be answered
        // (a refused asOf, a churn model file the hub cannot read): the rest still shows.
        section(t("churn"), !churn ? h("p", { class: "notice", "data-unavailable": "" }, t("fieldUnavailable")) : [
          h("p", { class: "score" }, h("meter", { min: 0, max: 1, low: 0.3, high: 0.6, optimum: 0, value: churn.score }),
            ` ${fmtNum(churn.score, 2)}`),
          churn.reasons === null ? shown(null, true)
            : churn.reasons.length ? h("ul", {}, churn.reasons.map((r) => h("li", {}, r))) : h("p", {}, t("empty"))]),
        section(t("household"), c.household
          ? [h("p", {}, c.household.name ?? c.household.id), h("ul", {}, c.household.members.map((mem) =>
              h("li", {}, `${mem.role ?? ""} `, h("a", { href: `#/customer?id=${mem.customer.id}` }, mem.customer.name ?? mem.customer.id))))]
          : h("p", {}, t("empty"))))),
    section(t("accounts"), c.accounts.length ? table([
      ["id", (a) => a.id], [t("type"), (a) => a.type], [t("product"), (a) => a.product ?? "—"],
      [t("balance"), (a) => shown(fmtAmount(a.balance), amountMasked)], ["", (a) => a.currency],
      [t("status"), (a) => a.status ?? "—"], [t("role"), (a) => a.role ?? "—"], [t("time"), (a) => fmtDate(a.openedAt, false)],
    ], c.accounts, { class: "data" }) : h("p", {}, t("empty"))),
    paged(t("transactions"), c.transactions, (edges) => table([
      [t("time"), (x) => fmtDate(x.node.time)], [t("kind"), (x) => x.node.kind], [t("amount"), (x) => shown(fmtAmount(x.node.amount), amountMasked)],
      ["", (x) => x.node.currency], [t("channel"), (x) => x.node.channel], [t("summary"), (x) => x.node.description ?? ""],
    ], edges, { class: "data" })),
    paged(t("interactions"), c.interactions, (edges) => table([
      [t("time"), (x) => fmtDate(x.node.time)], [t("channel"), (x) => x.node.channel], [t("kind"), (x) => x.node.kind],
      [t("summary"), (x) => x.node.summary ?? ""], [t("satisfaction"), (x) => x.node.satisfaction ?? "—"],
    ], edges, { class: "data" })),
    paged(t("customerMentions"), c.mentions, (edges) =>
      h("ul", {}, edges.map((x) => h("li", {}, labelBadge(x.node.sentiment?.label), " ", x.node.text, h("small", {}, ` · ${fmtDate(x.node.createdAt)}`)))))
  );
}

async function showCard(out, id) {
  clear(out, h("p", {}, t("loading")));
  try {
    const { data, errors } = await gql(CARD, { id });
    clear(out, errorsNotice(errors), data.customer ? card(data.customer) : null);
  } catch (exc) {
    clear(out, errorNotice(exc));
  }
}

export async function render(main) {
  const list = h("div", { id: "customer-list", "aria-live": "polite" });
  const out = h("div", { id: "customer-out" });
  const input = h("input", { name: "search", id: "customer-search", size: 24 });
  // Nothing found: the refusal says why where there is one; a hint only where there is none
  // (marketing's only where the purpose is marketing).
  const none = (errors) => errors.length ? null
    : empty(t("noCustomers") + (session.purpose === "marketing" ? ` ${t("noCustomersMarketing")}` : ""));
  // A page of 20, then more on request (the connection's cursor), the search's text kept.
  const search = async (text = input.value.trim() || null, after = null, rows = []) => {
    try {
      const { data, errors } = await gql(SEARCH, { search: text, after });
      const conn = data.customers;
      const all = rows.concat(conn?.edges.map((e) => e.node) || []);
      clear(list, errorsNotice(errors), all.length ? [
        h("p", { class: "count" }, `${fmtNum(conn?.totalCount ?? all.length)} ${t("results")}`),
        h("ul", { class: "pick" }, all.map((c) => h("li", {}, h("a", { href: `#/customer?id=${c.id}`, "data-id": c.id,
          onclick: (e) => { e.preventDefault(); history.replaceState(null, "", `#/customer?id=${c.id}`); showCard(out, c.id); } },
          `${c.id} · `, shown(c.name, c.maskedFields.includes("name")))))),
        conn?.pageInfo.hasNextPage ? h("button", { type: "button", id: "customer-more",
          onclick: () => search(text, conn.pageInfo.endCursor, all) }, t("loadMore")) : null,
      ] : none(errors));
    } catch (exc) {
      clear(list, errorNotice(exc));
    }
  };
  const form = h("form", { class: "filters", role: "search", onsubmit: (e) => { e.preventDefault(); search(); } },
    field(t("customerSearch"), input), h("button", { type: "submit" }, t("search")));
  main.append(heading(t("customer")), form, h("div", { class: "split" }, list, out));
  const id = new URLSearchParams(location.hash.split("?")[1] || "").get("id");
  await search();
  if (id) await showCard(out, id);
  else out.append(empty(t("pick")));
}
