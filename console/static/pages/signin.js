// Sign in: paste a token, or (demo hub) pick a role and get a demo token.
import { session } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { heading, notice } from "../ui.js";

// {roles, off}: the demo roles, or why demo sign-in is off on this hub (a book the demo did not seed).
async function demoRoles() {
  try {
    const response = await fetch("/console/demo-token");
    return response.ok ? await response.json() : {};
  } catch {
    return {};
  }
}

function done() {
  location.hash = "#/mentions";
}

export async function render(main) {
  const status = h("div", { "aria-live": "polite" });
  const area = h("textarea", { id: "token", rows: 4, cols: 80, "aria-label": t("pasteToken"), spellcheck: "false" });
  const form = h(
    "form",
    {
      class: "card",
      onsubmit: (e) => {
        e.preventDefault();
        if (session.signIn(area.value)) done();
        else status.replaceChildren(notice(t("badToken"), "error"));
      },
    },
    h("h2", {}, t("pasteToken")),
    area,
    h("p", { class: "hint" }, t("tokenHint")),
    h("button", { type: "submit", id: "use-token" }, t("useToken"))
  );
  main.append(heading(t("signin")), status, form);
  if (session.expired) {
    const expired = notice(t("sessionExpiredSignin"), "error");
    expired.id = "session-expired";
    main.prepend(expired);
  } else if (session.claims) main.prepend(notice(`${t("signedInAs")}: ${session.claims.sub}`));
  const { roles = [], off } = await demoRoles();
  if (off) {
    const said = notice(off, "info");
    said.id = "demo-off";
    main.append(said);
  }
  if (!roles.length) return;
  const pick = async (role) => {
    const response = await fetch("/console/demo-token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ role }),
    });
    const body = await response.json();
    if (response.ok && session.signIn(body.token)) done();
    else status.replaceChildren(notice(body.error || response.statusText, "error"));
  };
  main.append(
    h(
      "section",
      { class: "card", "aria-labelledby": "demo-h" },
      h("h2", { id: "demo-h" }, t("demoRoles")),
      h("p", { class: "hint" }, t("demoHint")),
      h("div", { class: "roles" }, roles.map((role) =>
        h("button", { type: "button", "data-role": role, onclick: () => pick(role) }, role)
      ))
    )
  );
}
