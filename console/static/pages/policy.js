// The policy: data.json as a table (role x purpose x kind -> mode, scope, actions), editable;
// Rego modules as source. Test and activate (putPolicy), or propose/approve where the schema
// has the four-eyes mutations.
import { gql, schemaFeatures } from "../api.js";
import { clear, field, h, select, table } from "../dom.js";
import { fmtDate } from "../format.js";
import { t } from "../i18n.js";
import { empty, errorNotice, errorsNotice, heading, notice } from "../ui.js";

const POLICIES = "{ policies { id revision source tests } }";
const MODES = ["reveal", "partial", "hash", "band", "year", "redact"];
const SCOPES = ["any", "managed", "branch", "consent_marketing"];
const RESULT = "passed results { name passed message }";
const PUT = `mutation ($id: String!, $source: String!) { putPolicy(id: $id, source: $source) {
  activated oldRevision newRevision ${RESULT} } }`;
const PROPOSE = `mutation ($id: String!, $source: String!) { proposePolicy(id: $id, source: $source) {
  id status activated candidateRevision ${RESULT} } }`;
const PROPOSALS = `{ policyProposals { id policyId proposer createdAt status passed } }`;
const DECIDE = (verb) => `mutation ($id: String!) { ${verb}(proposalId: $id) { id status activated candidateRevision ${RESULT} } }`;

function rows(doc) {
  const tables = doc?.c360?.tables || {};
  const out = [];
  for (const [resource, byRole] of Object.entries(tables.resources || {})) {
    for (const [role, byPurpose] of Object.entries(byRole)) {
      for (const [purpose, rule] of Object.entries(byPurpose)) out.push({ resource, role, purpose, rule });
    }
  }
  return { tables, rows: out };
}

function policyTable(doc, onEdit) {
  const { tables, rows: all } = rows(doc);
  const kinds = tables.kinds || [];
  const profiles = Object.keys(tables.mask_profiles || {});
  const edit = (fn) => (e) => { fn(e.target.value); onEdit(); };
  const cols = [
    [t("resource"), (r) => r.resource], [t("role"), (r) => r.role], [t("purpose"), (r) => r.purpose],
    [t("scope"), (r) => { const s = select("scope", SCOPES.includes(r.rule.scope) ? SCOPES.map((v) => [v, v]) : [[r.rule.scope, r.rule.scope], ...SCOPES.map((v) => [v, v])], r.rule.scope);
      s.setAttribute("aria-label", `${r.resource} ${r.role} ${r.purpose} ${t("scope")}`);
      s.addEventListener("change", edit((v) => (r.rule.scope = v))); return s; }],
    [t("actions"), (r) => { const i = h("input", { value: (r.rule.actions || []).join(","), size: 9, "aria-label": `${r.resource} ${r.role} ${r.purpose} ${t("actions")}` });
      i.addEventListener("change", edit((v) => (r.rule.actions = v.split(",").map((a) => a.trim()).filter(Boolean)))); return i; }],
    [t("masksProfile"), (r) => { const s = select("masks", profiles.map((p) => [p, p]), r.rule.masks);
      s.setAttribute("aria-label", `${r.resource} ${r.role} ${r.purpose} ${t("masksProfile")}`);
      s.dataset.row = `${r.resource}/${r.role}/${r.purpose}`;
      s.addEventListener("change", edit((v) => (r.rule.masks = v))); return s; }],
    // A zero-width space lets NATIONAL_ID wrap: the table fits 1280 px.
    ...kinds.map((k) => [k.replace(/_/g, "_\u200b"), (r) => { const mode = tables.mask_profiles?.[r.rule.masks]?.[k] ?? "redact";
      return h("span", { class: `mode ${mode}` }, mode); }]),
  ];
  const profileCols = [[t("masksProfile"), (p) => p], ...kinds.map((k) => [k.replace(/_/g, "_\u200b"), (p) => {
    const s = select("mode", MODES.map((m) => [m, m]), tables.mask_profiles[p][k] ?? "redact");
    s.setAttribute("aria-label", `${p} ${k}`);
    s.addEventListener("change", edit((v) => (tables.mask_profiles[p][k] = v))); return s; }])];
  return [
    h("h2", {}, t("policyTable")),
    h("div", { class: "scroll" }, table(cols, all, { class: "data policy", id: "policy-table" })),
    h("h2", {}, t("profiles")),
    h("div", { class: "scroll" }, table(profileCols, profiles, { class: "data policy", id: "profile-table" })),
  ];
}

function report(r, fourEyes) {
  const ok = fourEyes ? r.passed : r.activated;
  return h("div", { id: "policy-result", class: `card ${ok ? "ok" : "bad"}`, "data-activated": String(Boolean(r.activated)), "data-passed": String(r.passed) },
    // The policy set's revision now in force (putPolicy's newRevision), not the proposal's id.
    notice(r.activated ? `${t("activated")}: ${(r.newRevision ?? r.candidateRevision).slice(0, 12)}`
      : fourEyes && r.passed ? `${r.status} · ${t("fourEyes")}` : t("notActivated"), ok ? "info" : "error"),
    table([[t("testOnly"), (x) => x.name], ["", (x) => h("span", { class: x.passed ? "pass" : "fail" }, x.passed ? t("passed") : t("failed"))],
      ["", (x) => x.message]], r.results, { class: "data" }));
}

async function proposals(out, reload) {
  try {
    const { data, errors } = await gql(PROPOSALS);
    const list = data.policyProposals || [];
    clear(out, h("h2", {}, t("proposals")), errorsNotice(errors), list.length ? table([
      ["id", (p) => p.id], [t("module"), (p) => p.policyId], [t("subject"), (p) => p.proposer],
      [t("time"), (p) => fmtDate(p.createdAt)], [t("status"), (p) => p.status],
      ["", (p) => [t("approve"), t("reject")].map((label, i) => h("button", { type: "button", onclick: async () => {
        const res = await gql(DECIDE(i ? "rejectPolicy" : "approvePolicy"), { id: p.id });
        const r = res.data.approvePolicy || res.data.rejectPolicy;
        await reload(r ? report(r, true) : errorsNotice(res.errors));
      } }, label))],
    ], list, { class: "data" }) : empty(t("noProposals")));
  } catch (exc) {
    clear(out, errorNotice(exc));
  }
}

export async function render(main) {
  main.append(heading(t("policy")));
  const body = h("div", { id: "policy-out" });
  main.append(body);
  const load = async (flash = null) => {
    const features = await schemaFeatures();
    const fourEyes = features.mutation.has("proposePolicy") && features.mutation.has("approvePolicy");
    let data, errors;
    try {
      ({ data, errors } = await gql(POLICIES));
    } catch (exc) {
      return clear(body, errorNotice(exc));
    }
    const modules = data.policies || [];
    if (!modules.length) return clear(body, errorsNotice(errors), empty(t("forbidden")));
    const picker = select("module", modules.map((m) => [m.id, m.id]), "data");
    picker.id = "policy-module";
    const editor = h("div", {});
    // data-state: waiting for the hub's answer (the policy's tests run in a child process and
    // may take a while), done once it is shown; tests wait for it.
    const result = h("div", { id: "policy-outcome", "aria-live": "polite", "data-state": flash ? "done" : "idle" }, flash);
    const proposalsOut = h("section", { id: "proposals" });
    const show = () => {
      const mod = modules.find((m) => m.id === picker.value);
      const src = h("textarea", { id: "policy-source", rows: 16, spellcheck: "false", "aria-label": mod.id === "data" ? t("dataJson") : t("regoSource") });
      src.value = mod.source;
      const dirty = h("span", { class: "dirty", "aria-live": "polite" });
      const tableOut = h("div", {});
      let doc = null;
      const fromText = () => {
        if (mod.id !== "data") return;
        try { doc = JSON.parse(src.value); } catch (exc) { return clear(tableOut, notice(t("invalidJson") + exc.message, "error")); }
        clear(tableOut, policyTable(doc, () => { src.value = JSON.stringify(doc, null, 2); dirty.textContent = t("edited"); fromText(); }));
      };
      src.addEventListener("change", () => { dirty.textContent = t("edited"); fromText(); });
      fromText();
      const submit = h("button", { type: "button", id: "policy-submit", onclick: async () => {
        submit.disabled = true;
        result.dataset.state = "waiting";
        clear(result, notice(t("testsRunning")));
        try {
          const res = await gql(fourEyes ? PROPOSE : PUT, { id: mod.id, source: src.value });
          const r = res.data.proposePolicy || res.data.putPolicy;
          // Reload only what passed (activated, or a proposal waiting for approval): a failed
          // run keeps the officer's edit in the editor, next to the tests it failed.
          if (r && (r.activated || (fourEyes && r.passed))) return await load(report(r, fourEyes));
          clear(result, r ? report(r, fourEyes) : errorsNotice(res.errors));
        } catch (exc) {
          clear(result, errorNotice(exc));
        } finally {
          submit.disabled = false;
          result.dataset.state = "done";
        }
      } }, fourEyes ? t("propose") : t("runTests"));
      clear(editor,
        h("p", { class: "meta" }, `${t("revision")}: `, h("code", { id: "policy-revision" }, mod.revision.slice(0, 12)),
          ` · ${modules.reduce((n, m) => n + m.tests.length, 0)} tests`, " ", dirty),
        tableOut,
        h("details", { open: mod.id !== "data" }, h("summary", {}, mod.id === "data" ? t("dataJson") : t("regoSource")), src),
        h("p", {}, submit, " ", h("button", { type: "button", onclick: () => load() }, t("reload")),
          fourEyes ? h("small", {}, ` ${t("fourEyes")}`) : null));
    };
    picker.addEventListener("change", show);
    clear(body, errorsNotice(errors), h("div", { class: "filters" }, field(t("module"), picker)), editor, result, proposalsOut);
    show();
    if (fourEyes && features.query.has("policyProposals")) await proposals(proposalsOut, load);
  };
  await load();
}
