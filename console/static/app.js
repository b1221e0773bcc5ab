// The console shell: navigation (hash routes), sign-in state, purpose switch, language toggle.
import { session } from "./api.js";
import { clear, h } from "./dom.js";
import { fmtDate, fmtNum, timeZone } from "./format.js";
import { lang, setLang, t } from "./i18n.js";
import { closeLive, followAlerts } from "./live.js";
import { disposeCharts, toast } from "./ui.js";
import * as alerts from "./pages/alerts.js";
import * as audit from "./pages/audit.js";
import * as authors from "./pages/authors.js";
import * as customer from "./pages/customer.js";
import * as mentions from "./pages/mentions.js";
import * as policy from "./pages/policy.js";
import * as preview from "./pages/preview.js";
import * as signin from "./pages/signin.js";
import * as trend from "./pages/trend.js";

const PAGES = { signin, mentions, trend, alerts, authors, customer, policy, preview, audit };
const NAV = ["mentions", "trend", "alerts", "authors", "customer", "policy", "preview", "audit"];

function current() {
  const name = (location.hash.replace(/^#\/?/, "").split("?")[0] || "").trim();
  if (!session.active) return "signin";
  return PAGES[name] ? name : "mentions";
}

function renderNav(page) {
  const links = NAV.map((name) =>
    h("a", { href: `#/${name}`, "aria-current": name === page ? "page" : null }, t(name))
  );
  clear(document.getElementById("nav"), session.active ? links : []);
}

let refused = null; // the token the hub refused, named so in the header

function renderWho() {
  const who = document.getElementById("who");
  const claims = session.claims;
  if (!claims) return clear(who, h("a", { href: "#/signin" }, t("signin")));
  // An expired token names nobody any more: say so, and the way back in.
  if (session.expired) {
    return clear(who, h("span", { id: "who-expired", class: "kv", role: "status" }, t("sessionExpired")), " ",
      h("a", { href: "#/signin" }, t("signinAgain")));
  }
  // Named once the hub has accepted the token (session.verify), not from its claims alone.
  if (!session.accepted) {
    if (refused === session.token) {
      return clear(who, h("span", { id: "who-refused", class: "kv", role: "status" }, t("tokenRefused")), " ",
        h("a", { href: "#/signin" }, t("signinAgain")));
    }
    session.verify().then((ok) => {
      if (ok === false) refused = session.token;
      if (ok !== null) renderWho();
    });
    return clear(who, h("span", { class: "kv", id: "who-checking" }, t("tokenChecking")));
  }
  const purposes = session.purposes();
  const purpose = h(
    "select",
    { id: "purpose", "aria-label": t("purpose"), onchange: (e) => { session.setPurpose(e.target.value); route(); } },
    (purposes.length ? purposes : [""]).map((p) =>
      h("option", { value: p, selected: p === session.purpose }, p || t("none"))
    )
  );
  clear(
    who,
    h("span", { class: "kv" }, t("subject"), ": ", h("b", { id: "who-subject" }, claims.sub)),
    h("span", { class: "kv" }, t("roles"), ": ", h("b", { id: "who-roles" }, (claims.roles || []).join(", ") || t("none"))),
    h("label", { class: "kv" }, t("purpose"), ": ", purpose),
    h("button", { type: "button", id: "signout", onclick: () => { session.signOut(); closeLive(); following = null; location.hash = "#/signin"; route(); } }, t("signout"))
  );
}

// Alerts arrive as toasts on every page; one subscription per token and purpose.
let following = null;

function showAlert(a) {
  const terms = (a.topTerms || []).slice(0, 5).join("、");
  toast(`${t("alertToast")}: ${a.brand}`, [
    [a.start && fmtDate(a.start, false), (a.kinds || []).join(", ")].filter(Boolean).join(" · "),
    a.count !== undefined ? `${t("negative")} ${fmtNum(a.negative)} / ${t("count")} ${fmtNum(a.count)}` : "",
    terms,
  ].filter(Boolean));
}

// Whether this session follows alerts live, on the page's root (data-live: on / off), once
// decided: tests wait for it.
function follow() {
  const key = session.active ? `${session.token}|${session.purpose}` : null;
  if (key === following) return;
  following = key;
  if (!key) {
    closeLive();
    document.documentElement.dataset.live = "off";
    return;
  }
  delete document.documentElement.dataset.live;
  followAlerts(showAlert).then((on) => {
    if (following === key) document.documentElement.dataset.live = on ? "on" : "off";
  });
}

// At the token's exp the console shows the session expired (header and sign-in page) and
// closes its socket, without waiting for the user to move.
let expiry = null;

function watchExpiry() {
  clearTimeout(expiry);
  const exp = session.active ? session.claims.exp : undefined;
  if (typeof exp !== "number") return;
  // setTimeout holds at most 2^31-1 ms (24.8 days); a later exp is looked at again then.
  expiry = setTimeout(route, Math.min(2 ** 31 - 1, Math.max(0, exp * 1000 - Date.now())));
}

export async function route() {
  const page = current();
  // Signed out or expired on another page's address: the address says sign-in too, so that
  // signing in (which goes to #/mentions) is a change of address from wherever the user was.
  if (page === "signin" && !/^#\/?signin\b/.test(location.hash)) history.replaceState(null, "", "#/signin");
  disposeCharts();
  document.title = `${t(page)} · ${t("title")}`;
  document.getElementById("lang").textContent = t("lang");
  document.querySelector(".skip").textContent = t("skip");
  renderNav(page);
  renderWho();
  clear(document.getElementById("foot"), `${t("tz")}: ${timeZone} · `, h("a", { href: "/graphql" }, t("graphiql")), " · c360");
  // A fresh view per navigation: a page still loading for an earlier route writes into a
  // view that is no longer shown.
  const view = h("div", { class: "view", "data-page": page });
  clear(document.getElementById("main"), view);
  follow();
  watchExpiry();
  await PAGES[page].render(view);
}

document.getElementById("lang").addEventListener("click", () => {
  setLang(lang() === "en" ? "zh" : "en");
  route();
});
window.addEventListener("hashchange", () => {
  route().then(() => document.querySelector("main h1")?.focus());
});
setLang(lang());
route();
