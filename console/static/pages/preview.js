// Preview access: what a role would see of a customer for a purpose, field by field, and why.
import { gql } from "../api.js";
import { clear, field, h, select, table } from "../dom.js";
import { t } from "../i18n.js";
import { empty, errorNotice, errorsNotice, heading } from "../ui.js";

const PREVIEW = `query ($role: String!, $customerId: ID!, $purpose: String, $subject: String) {
  previewAccess(role: $role, customerId: $customerId, purpose: $purpose, subject: $subject) {
    allowed reason fields { field kind mode masked } } }`;
const ROLES = ["advisor", "service_agent", "marketing_analyst", "brand_analyst", "privacy_officer", "auditor"];
const PURPOSES = ["", "service", "marketing", "risk", "compliance"];

export async function render(main) {
  const out = h("div", { id: "preview-out", "aria-live": "polite" });
  const role = select("role", ROLES.map((r) => [r, r]), "marketing_analyst");
  const purpose = select("purpose", PURPOSES.map((p) => [p, p || t("none")]), "marketing");
  const customer = h("input", { name: "customerId", value: "C000001", required: true, size: 10 });
  const subject = h("input", { name: "subject", size: 10, placeholder: "ADV0001" });
  const run = async () => {
    try {
      const { data, errors } = await gql(PREVIEW, {
        role: role.value, customerId: customer.value.trim(), purpose: purpose.value || null, subject: subject.value.trim() || null,
      });
      const p = data.previewAccess;
      if (!p) return clear(out, errorsNotice(errors), empty(t("previewHint")));
      clear(out, errorsNotice(errors),
        h("p", { class: `verdict ${p.allowed ? "ok" : "bad"}`, id: "preview-verdict" }, p.allowed ? t("allowed") : t("denied"), ` · ${t("reason")}: ${p.reason}`),
        table([[t("field"), (f) => f.field], [t("kind"), (f) => f.kind],
          [t("mode"), (f) => h("span", { class: `mode ${f.mode}` }, f.mode)],
          [t("masked"), (f) => (f.masked ? h("span", { class: "masked" }, t("masked")) : "—")]], p.fields, { class: "data", id: "preview-table" }));
    } catch (exc) {
      clear(out, errorNotice(exc));
    }
  };
  const form = h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); run(); } },
    field(t("role"), role), field(t("purpose"), purpose), field(t("customerId"), customer), field(t("subject"), subject),
    h("button", { type: "submit" }, t("search")));
  main.append(heading(t("previewTitle")), form, out);
  await run();
}
