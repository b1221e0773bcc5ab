// The one way to the data: POST /graphql with the user's token (and X-Purpose).
const TOKEN = "c360.token";
const PURPOSE = "c360.purpose";

export class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

export function decodeClaims(token) {
  const parts = token.trim().split(".");
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(
      [...atob(b64)].map((c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join("")
    );
    const claims = JSON.parse(json);
    return claims && typeof claims.sub === "string" ? claims : null;
  } catch {
    return null;
  }
}

// The token the hub last accepted (this page load): the header names a subject only then, not
// from claims anyone can write into a token (QA, session 26: a forged token's subject and role
// showed while every page answered "invalid token").
let accepted = null;

export const session = {
  get token() {
    return localStorage.getItem(TOKEN);
  },
  get claims() {
    const token = this.token;
    return token ? decodeClaims(token) : null;
  },
  // Past the token's exp (seconds since 1970) by this browser's clock: the hub refuses it.
  get expired() {
    const exp = this.claims?.exp;
    return typeof exp === "number" && exp * 1000 <= Date.now();
  },
  // Signed in with a token that has not expired.
  get active() {
    return Boolean(this.claims) && !this.expired;
  },
  get purpose() {
    return localStorage.getItem(PURPOSE) || "";
  },
  get accepted() {
    return Boolean(this.token) && accepted === this.token;
  },
  // Ask the hub whether it accepts the token: true, false (refused: 401), null (no answer).
  async verify() {
    if (this.accepted) return true;
    const token = this.token;
    try {
      await gql("{ __typename }");
    } catch (exc) {
      return exc.code === "401" ? false : null;
    }
    if (token === this.token) accepted = token;
    return true;
  },
  purposes() {
    const c = this.claims || {};
    const all = new Set(Array.isArray(c.purposes) ? c.purposes : []);
    if (c.purpose) all.add(c.purpose);
    return [...all];
  },
  signIn(token) {
    const claims = decodeClaims(token);
    if (!claims) return false;
    localStorage.setItem(TOKEN, token.trim());
    localStorage.setItem(PURPOSE, claims.purpose || "");
    features = null;
    return true;
  },
  setPurpose(purpose) {
    localStorage.setItem(PURPOSE, purpose);
  },
  signOut() {
    localStorage.removeItem(TOKEN);
    localStorage.removeItem(PURPOSE);
    features = null;
  },
};

// {data, errors}: GraphQL errors come back for the page to show next to what did load.
export async function gql(query, variables = {}) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (session.purpose) headers["X-Purpose"] = session.purpose;
  let response;
  try {
    response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  } catch (exc) {
    throw new ApiError(`the hub did not answer: ${exc.message}`, "NETWORK");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok && !body.data) {
    const message = body.error || (body.errors && body.errors[0]?.message) || response.statusText;
    throw new ApiError(message, String(response.status));
  }
  return { data: body.data || {}, errors: body.errors || [] };
}

// What this hub's schema offers (optional queries and mutations from other features), by
// introspection. With introspection off (production), the console assumes the schema it was
// shipped with: SHIPPED lists the optional names it uses, and tests/console/test_routes.py
// checks each against schema/schema.graphql.
let features = null;
const FEATURES = `{
  __schema { queryType { fields { name } } mutationType { fields { name } }
             subscriptionType { fields { name } } }
  sentiment: __type(name: "Sentiment") { fields { name } }
  mentionFilter: __type(name: "MentionFilter") { inputFields { name } }
}`;
export const SHIPPED = {
  query: ["policyProposals", "auditChain", "shareOfVoice", "brandAlerts"],
  mutation: ["proposePolicy", "approvePolicy", "rejectPolicy"],
  subscription: [],
  sentiment: ["emotion"],
  mentionFilter: ["query"],
};

function shipped() {
  const set = (k) => new Set(SHIPPED[k]);
  return {
    query: set("query"), mutation: set("mutation"), subscription: set("subscription"),
    sentiment: set("sentiment"), mentionFilter: set("mentionFilter"), known: false,
  };
}

export async function schemaFeatures() {
  if (features) return features;
  try {
    const { data } = await gql(FEATURES);
    if (!data.__schema) throw new Error("introspection is off");
    const names = (t) => new Set((t?.fields || []).map((f) => f.name));
    features = {
      query: names(data.__schema.queryType),
      mutation: names(data.__schema.mutationType),
      subscription: names(data.__schema.subscriptionType),
      sentiment: names(data.sentiment),
      mentionFilter: new Set((data.mentionFilter?.inputFields || []).map((f) => f.name)),
      known: true,
    };
  } catch {
    features = shipped();
  }
  return features;
}

export function errorText(errors) {
  return errors.map((e) => (e.extensions?.code ? `${e.extensions.code}: ` : "") + e.message).join("; ");
}
