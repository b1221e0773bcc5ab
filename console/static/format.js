// Dates in the user's time zone, numbers with grouping, both in the UI language.
import { locale } from "./i18n.js";

export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

export function fmtDate(iso, withTime = true) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const opts = withTime ? { dateStyle: "medium", timeStyle: "short" } : { dateStyle: "medium" };
  return new Intl.DateTimeFormat(locale(), opts).format(date);
}

export function fmtNum(n, digits) {
  if (n === null || n === undefined) return "—";
  const opts = digits === undefined ? {} : { maximumFractionDigits: digits, minimumFractionDigits: digits };
  return new Intl.NumberFormat(locale(), opts).format(n);
}

// Amounts arrive as strings: a number (revealed) or a band like "10万-50万".
export function fmtAmount(text) {
  if (text === null || text === undefined) return null;
  return /^-?\d+(\.\d+)?$/.test(text) ? fmtNum(Number(text), 2) : text;
}

// <input type="date"> value (local day) <-> ISO UTC instant at local midnight.
export function dayInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export function localDayToIso(value, plusDays = 0) {
  const [y, m, d] = value.split("-").map(Number);
  return new Date(y, m - 1, d + plusDays).toISOString();
}

export function daysAgo(n) {
  const d = new Date();
  d.setDate(d.getDate() - n);
  return d;
}
