// Pieces every page uses: headings, notices, empty states, charts.
import { errorText } from "./api.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";

let charts = [];

export function heading(text) {
  return h("h1", { tabindex: "-1" }, text);
}

export function notice(text, kind = "info") {
  return h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

export function empty(text) {
  return h("p", { class: "empty", role: "status" }, text);
}

export function errorNotice(exc) {
  if (exc.code === "401") {
    // Expired or unknown token: say so and offer the way back in.
    const p = notice(`${t("error")}: ${exc.message} · `, "error");
    p.append(h("a", { href: "#/signin" }, t("signin")));
    return p;
  }
  const forbidden = exc.code === "403" || /FORBIDDEN/.test(exc.message || "");
  if (forbidden) return notice(`${t("forbidden")} (${exc.message})`, "error");
  // A hub that timed out, is not ready or did not answer: what to do next, not only what broke.
  const passing = ["502", "503", "504", "NETWORK"].includes(exc.code);
  return notice(`${t("error")}: ${exc.message}${passing ? ` · ${t("tryAgain")}` : ""}`, "error");
}

export function errorsNotice(errors) {
  if (!errors.length) return null;
  // The hint "switch purpose or use another token" fits the policy's own refusal ("access
  // denied: ..."); the others (the two-person rule, a secret not granted) say what to do.
  const forbidden = errors.some((e) => e.extensions?.code === "FORBIDDEN" && /^access denied/.test(e.message));
  return notice((forbidden ? t("forbidden") + " " : "") + errorText(errors), "error");
}

export function chart(el, option) {
  const instance = window.echarts.init(el, null, { renderer: "svg" });
  instance.setOption({ animation: false, ...option });
  charts.push(instance);
  return instance;
}

let leaving = [];

// Run ``fn`` when the user leaves this page view (live subscriptions end there).
export function onLeave(fn) {
  leaving.push(fn);
}

export function disposeCharts() {
  for (const c of charts) c.dispose();
  charts = [];
  for (const fn of leaving) fn();
  leaving = [];
}

// A toast (alerts arriving live): bottom right, dismissable, gone after ``ms``.
export function toast(title, lines, ms = 20_000) {
  let box = document.getElementById("toasts");
  if (!box) {
    box = h("div", { id: "toasts", class: "toasts" });
    document.body.append(box);
  }
  const el = h("div", { class: "toast", role: "alert" }, h("b", {}, title), lines.map((l) => h("div", {}, l)));
  el.append(h("button", { type: "button", onclick: () => el.remove() }, t("dismiss")));
  box.prepend(el);
  setTimeout(() => el.remove(), ms);
  return el;
}

// "● live" next to a heading while the subscription's socket is open.
export function liveBadge(live) {
  const badge = h("span", { class: "live", id: "live-state", "data-state": "connecting" });
  const stop = live.onState((state) => {
    badge.dataset.state = state;
    badge.className = `live ${state === "open" ? "on" : ""}`;
    badge.textContent = state === "open" ? t("live") : state === "retrying" ? t("liveOff") : "";
    badge.title = state === "open" ? t("liveOn") : "";
  });
  onLeave(stop);
  return badge;
}

window.addEventListener("resize", () => charts.forEach((c) => c.resize()));

export const LABEL_COLORS = { POSITIVE: "#2e7d32", NEUTRAL: "#757575", NEGATIVE: "#c62828", UNSUPPORTED: "#b0bec5" };

export function labelBadge(label) {
  if (!label) return "—";
  return h("span", { class: `badge ${label.toLowerCase()}` }, t(label.toLowerCase()));
}
