// The JSON query API, as the page reads it, with the query token when the server wants one.

export class ApiError extends Error {}

// The token lives in this tab's sessionStorage only: gone when the tab closes, never in a
// cookie (sent without asking), localStorage (kept on disk) or the URL (shared, logged).
const TOKEN_KEY = "otelite.queryToken";

/** The query token this tab signed in with, or null. */
export function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null; // storage disabled: the page still works on servers without tokens
  }
}

/** Keep `value` as this tab's query token; null forgets it. */
export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// The tenant a multi-tenant server is asked about, sent as X-Scope-OrgID; kept like the token.
const TENANT_KEY = "otelite.tenant";

/** The tenant this tab reads, or null. */
export function tenant() {
  try {
    return sessionStorage.getItem(TENANT_KEY);
  } catch {
    return null;
  }
}

/** Read `value`'s data from now on; null or "" sends no tenant. */
export function setTenant(value) {
  if (value) sessionStorage.setItem(TENANT_KEY, value);
  else sessionStorage.removeItem(TENANT_KEY);
}

let unauthorized = () => {};

/** Call `listener(hadToken)` whenever the API refuses a request for want of a valid token. */
export function onUnauthorized(listener) {
  unauthorized = listener;
}

/**
 * GET `path` with query `params` (arrays repeat the key); resolves to the JSON body.
 * `options.token` sends that token instead of the stored one, and a 401 then only rejects
 * (the sign-in form checks a candidate this way); `options.headers` adds headers.
 */
export async function get(path, params = {}, options = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) if (v !== undefined && v !== null && v !== "") query.append(key, v);
  }
  const url = query.toString() ? `${path}?${query}` : path;
  const checking = "token" in options;
  const bearer = checking ? options.token : token();
  const headers = { Accept: "application/json", ...options.headers };
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  const chosen = tenant();
  if (chosen) headers["X-Scope-OrgID"] = chosen;
  const response = await fetch(url, { headers });
  const text = await response.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  if (!response.ok) {
    // otelite's API answers {"error": ...}; Tempo's and Loki's routes answer the message as text.
    const plain = (response.headers.get("Content-Type") || "").startsWith("text/plain") ? text.trim() : "";
    const message = body && body.error ? body.error : plain || `${response.status} ${response.statusText}`;
    const error = new ApiError(message);
    error.status = response.status;
    // Only when the refused token is still the tab's: a request sent before a sign-in may
    // come back refused after it.
    if (response.status === 401 && !checking && bearer === token()) {
      setToken(null); // refused: ask again rather than resend it
      unauthorized(Boolean(bearer));
    }
    throw error;
  }
  return body;
}

const cache = new Map(); // path and params → {at, promise}

/**
 * `get`, with the answer kept for `maxAgeMs` (a minute by default); a failed request
 * resolves to null and is asked again next time. For completions, which follow new
 * telemetry without a request per key typed.
 */
export function getCached(path, params = {}, maxAgeMs = 60_000) {
  const key = `${path}?${JSON.stringify(params)}`;
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < maxAgeMs) return hit.promise;
  const promise = get(path, params).catch(() => {
    cache.delete(key); // completions are a convenience: no list now, another try later
    return null;
  });
  cache.set(key, { at: Date.now(), promise });
  return promise;
}

/** A path segment, percent-encoded (service and metric names may hold '/'). */
export function segment(text) {
  return encodeURIComponent(text);
}
