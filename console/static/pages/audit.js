// Audit trail search (subject, customer, since, outcome), newest first.
import { gql, schemaFeatures } from "../api.js";
import { clear, field, h, select, table } from "../dom.js";
import { fmtDate, fmtNum, localDayToIso } from "../format.js";
import { t } from "../i18n.js";
import { empty, errorNotice, errorsNotice, heading, notice } from "../ui.js";

const AUDIT = `query ($filter: AuditFilter, $after: String) { auditEvents(filter: $filter, first: 50, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { seq time subject roles purpose operation customerIds outcome policyRevision
    fields { customerId revealed masked } } } } }`;

export async function render(main) {
  const out = h("div", { id: "audit-out", "aria-live": "polite" });
  const inputs = {
    subject: h("input", { name: "subject", size: 10 }),
    customerId: h("input", { name: "customerId", size: 10 }),
    since: h("input", { name: "since", type: "date" }),
    outcome: select("outcome", [["", t("any")], ["ok", "ok"], ["denied", "denied"], ["error", "error"], ["intent", "intent"]], ""),
  };
  const run = async (after = null, rows = []) => {
    const filter = {
      subject: inputs.subject.value.trim() || null, customerId: inputs.customerId.value.trim() || null,
      since: inputs.since.value ? localDayToIso(inputs.since.value) : null, outcome: inputs.outcome.value || null,
    };
    try {
      const { data, errors } = await gql(AUDIT, { filter, after });
      const conn = data.auditEvents;
      const all = rows.concat(conn?.edges.map((e) => e.node) || []);
      const cols = [
        ["#", (e) => fmtNum(e.seq)], [t("time"), (e) => fmtDate(e.time)], [t("subject"), (e) => e.subject ?? "—"],
        [t("roles"), (e) => e.roles.join(", ")], [t("purpose"), (e) => e.purpose ?? "—"], [t("operation"), (e) => e.operation],
        [t("customers"), (e) => e.customerIds.slice(0, 5).join(", ") + (e.customerIds.length > 5 ? ` +${fmtNum(e.customerIds.length - 5)}` : "")],
        [t("maskedFields"), (e) => [...new Set(e.fields.flatMap((f) => f.masked))].join(", ")],
        [t("outcome"), (e) => h("span", { class: `outcome ${e.outcome}` }, e.outcome)],
        [t("revision"), (e) => h("code", {}, e.policyRevision.slice(0, 8))],
      ];
      clear(out, errorsNotice(errors),
        conn && h("p", { class: "count" }, `${fmtNum(conn.totalCount)} ${t("results")}`),
        all.length ? table(cols, all, { class: "data", id: "audit-table" }) : empty(t("noAudit")),
        conn?.pageInfo.hasNextPage && h("button", { type: "button", onclick: () => run(conn.pageInfo.endCursor, all) }, t("loadMore")));
    } catch (exc) {
      clear(out, errorNotice(exc));
    }
  };
  const chain = h("section", { id: "audit-chain", class: "chain", "aria-live": "polite" }, notice(`${t("chain")}: ${t("chainChecking")}`));
  const form = h("form", { class: "filters", role: "search", onsubmit: (e) => { e.preventDefault(); run(); } },
    field(t("subject"), inputs.subject), field(t("customerId"), inputs.customerId), field(t("since"), inputs.since),
    field(t("outcome"), inputs.outcome), h("button", { type: "submit" }, t("search")));
  main.append(heading(t("auditTitle")), chain, form, out);
  await Promise.all([chainStatus(chain), run()]);
}

const CHAIN = "{ auditChain { verified records lastSeq lastCheckpoint { seq time } problems checkedAt } }";

// The hash chain's verification (the walk c360 audit verify does), where the schema has it.
async function chainStatus(out) {
  if (!(await schemaFeatures()).query.has("auditChain")) return clear(out, notice(`${t("chain")}: ${t("chainUnknown")}`));
  try {
    const { data, errors } = await gql(CHAIN);
    const c = data.auditChain;
    if (!c) return clear(out, errorsNotice(errors));
    const cp = c.lastCheckpoint;
    clear(out, h("p", { class: `notice ${c.verified ? "ok" : "error"}`, role: c.verified ? "status" : "alert", "data-verified": String(c.verified) },
      h("b", {}, `${t("chain")}: ${c.verified ? t("chainOk") : t("chainBroken")}`),
      ` · ${fmtNum(c.records)} ${t("chainRecords")} · ${t("lastSeq")} ${fmtNum(c.lastSeq)} · `,
      cp ? `${t("checkpoint")} #${fmtNum(cp.seq)} (${fmtDate(cp.time)})` : t("noCheckpoint"),
      ` · ${t("checkedAt")} ${fmtDate(c.checkedAt)}`),
      c.problems.length ? h("ul", { class: "problems", "aria-label": t("problems") }, c.problems.map((p) => h("li", {}, p))) : null);
  } catch (exc) {
    clear(out, errorNotice(exc));
  }
}
