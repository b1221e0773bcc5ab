// Audit trail search (subject, customer, since, outcome), newest first.
import { gql } from "../api.js";
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
  // The schema does not expose the chain's verification yet: say where to get it.
  const chain = notice(`${t("chain")}: ${t("chainUnknown")}`);
  chain.id = "audit-chain";
  const form = h("form", { class: "filters", role: "search", onsubmit: (e) => { e.preventDefault(); run(); } },
    field(t("subject"), inputs.subject), field(t("customerId"), inputs.customerId), field(t("since"), inputs.since),
    field(t("outcome"), inputs.outcome), h("button", { type: "submit" }, t("search")));
  main.append(heading(t("auditTitle")), chain, form, out);
  await run();
}
