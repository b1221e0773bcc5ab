// Live updates: a small graphql-transport-ws client (the protocol of the hub's subscriptions at
// /graphql), used only where this hub's schema has the subscription (schemaFeatures), so the
// console opens no socket at all on a hub without them.
//
// Protocol: connection_init {authorization, x-purpose} -> connection_ack; subscribe {id, query,
// variables} -> next* -> complete | error; ping -> pong. A socket that drops is opened again
// with exponential backoff (1 s .. 30 s, jittered) and every live subscription is sent again;
// a refused sign-in (4401/4403) is not retried.
import { gql, schemaFeatures, session } from "./api.js";

const PROTOCOL = "graphql-transport-ws";
const FATAL = new Set([4400, 4401, 4403]);
const MAX_BACKOFF_MS = 30_000;

export class LiveClient {
  constructor(url, params) {
    this.url = url;
    this.params = params;
    this.subs = new Map(); // id -> {payload, sink}
    this.nextId = 1;
    this.attempt = 0;
    this.acked = false;
    this.closed = false;
    this.listeners = new Set();
    this.state = "connecting";
    this.connect();
  }

  onState(fn) {
    this.listeners.add(fn);
    fn(this.state);
    return () => this.listeners.delete(fn);
  }

  setState(state) {
    this.state = state;
    for (const fn of this.listeners) fn(state);
  }

  connect() {
    this.acked = false;
    this.setState(this.attempt ? "retrying" : "connecting");
    const ws = new WebSocket(this.url, PROTOCOL);
    // The protocol says text frames; a server that sends JSON as binary frames is read too.
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => this.send({ type: "connection_init", payload: this.params() });
    ws.onmessage = (event) => this.receive(event.data);
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.closed) return;
      if (FATAL.has(event.code)) {
        this.setState("denied");
        for (const { sink } of this.subs.values()) sink.error?.([{ message: event.reason || `closed ${event.code}` }]);
        this.subs.clear();
        return;
      }
      const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
      this.attempt += 1;
      this.setState("retrying");
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  receive(data) {
    let msg;
    try {
      msg = JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(data));
    } catch {
      return;
    }
    switch (msg.type) {
      case "connection_ack":
        this.acked = true;
        this.attempt = 0;
        this.setState("open");
        for (const [id, { payload }] of this.subs) this.send({ id, type: "subscribe", payload });
        break;
      case "ping":
        this.send({ type: "pong" });
        break;
      case "next":
        this.subs.get(msg.id)?.sink.next?.(msg.payload || {});
        break;
      case "error": {
        const sub = this.subs.get(msg.id);
        this.subs.delete(msg.id);
        sub?.sink.error?.(msg.payload || []);
        break;
      }
      case "complete": {
        const sub = this.subs.get(msg.id);
        this.subs.delete(msg.id);
        sub?.sink.complete?.();
        break;
      }
      default:
        break;
    }
  }

  // sink: {next({data, errors}), error(errors), complete()}; returns the unsubscribe function.
  subscribe(query, variables, sink) {
    const id = String(this.nextId++);
    const payload = { query, variables };
    this.subs.set(id, { payload, sink });
    if (this.acked) this.send({ id, type: "subscribe", payload });
    return () => {
      if (this.subs.delete(id) && this.acked) this.send({ id, type: "complete" });
    };
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    this.subs.clear();
    this.ws?.close(1000, "bye");
    this.ws = null;
  }
}

let client = null;
let clientToken = null;

// The one socket of this signed-in session (a new token or purpose opens a new one).
function liveClient() {
  const key = `${session.token}|${session.purpose}`;
  if (client && clientToken === key) return client;
  client?.close();
  const url = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/graphql`;
  client = new LiveClient(url, () => {
    const params = { authorization: `Bearer ${session.token}` };
    if (session.purpose) params["x-purpose"] = session.purpose;
    return params;
  });
  clientToken = key;
  return client;
}

export function closeLive() {
  client?.close();
  client = null;
  clientToken = null;
}

// Subscribe to ``field`` if this hub's schema has it; else null (nothing is opened).
export async function liveSubscribe(field, query, variables, sink) {
  if (!session.token || typeof WebSocket === "undefined") return null;
  const features = await schemaFeatures();
  if (!features.subscription.has(field)) return null;
  const c = liveClient();
  return { unsubscribe: c.subscribe(query, variables, sink), onState: (fn) => c.onState(fn) };
}

// Payloads may carry one item or a batch: always a list.
export function items(value) {
  if (value === null || value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

// The fields of the type a subscription returns that the console wants to show (by
// introspection; with introspection off, the whole wish list).
const RETURNS = `{ __schema { subscriptionType { fields { name
  type { name ofType { name ofType { name ofType { name } } } } } } } }`;

export async function wantedFields(field, wish) {
  try {
    const { data } = await gql(RETURNS);
    const f = data.__schema?.subscriptionType?.fields?.find((x) => x.name === field);
    let type = f?.type;
    while (type && !type.name) type = type.ofType;
    if (!type) return wish;
    const { data: t } = await gql(`query ($n: String!) { __type(name: $n) { fields { name } } }`, { n: type.name });
    const have = new Set((t.__type?.fields || []).map((x) => x.name));
    return wish.filter((w) => have.has(w.split(" ")[0]));
  } catch {
    return wish;
  }
}

// Whether the hub lets this caller read alerts: alertRules asks what the alertRaised
// subscription does (posts and alert rules readable), over HTTP. Without it no socket is
// opened: a service agent's console opened one on every sign-in only to be refused.
async function mayFollowAlerts(features) {
  if (!features.query.has("alertRules")) return false;
  try {
    const { data } = await gql("{ alertRules { id } }");
    return Array.isArray(data.alertRules);
  } catch {
    return false;
  }
}

// Alerts raised while the console is open, as toasts (any page, the whole signed-in session).
// True when they are followed.
let alertsOff = null;

export async function followAlerts(show) {
  alertsOff?.();
  alertsOff = null;
  if (!session.token || typeof WebSocket === "undefined") return false;
  const features = await schemaFeatures();
  if (!features.subscription.has("alertRaised") || !(await mayFollowAlerts(features))) return false;
  const fields = await wantedFields("alertRaised", ["brand", "start", "kinds", "count", "negative", "topTerms", "raisedAt"]);
  if (!fields.includes("brand")) return false;
  const live = await liveSubscribe("alertRaised", `subscription { alertRaised { ${fields.join(" ")} } }`, {}, {
    next: ({ data }) => items(data?.alertRaised).forEach(show),
  });
  alertsOff = live?.unsubscribe || null;
  return Boolean(live);
}
