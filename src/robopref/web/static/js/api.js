// The JSON API: same-origin fetch with the session cookie and the CSRF header; 401 → sign-in.

const CSRF_HEADER = "X-CSRF-Token";
let current = null; // {annotator_id, role, csrf_token, expires_in_s}

/** The server answered with an error status; `detail` is its message for people. */
export class ApiError extends Error {
  constructor(status, detail) {
    super(`${status}: ${detail}`);
    this.status = status;
    this.detail = detail;
  }
}

/** The request never got an answer (offline, server down, connection reset). */
export class NetworkError extends Error {}

/** Send the browser to the sign-in page, coming back here afterwards. */
export function goSignIn() {
  const next = location.pathname === "/" ? "" : `?next=${encodeURIComponent(location.pathname)}`;
  location.assign(`/${next}`);
}

function detailText(data, status) {
  const detail = data && typeof data === "object" ? data.detail : null;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
  }
  return `HTTP ${status}`;
}

async function send(method, url, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && current) headers[CSRF_HEADER] = current.csrf_token;
  try {
    return await fetch(url, {
      method, headers, credentials: "same-origin", cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new NetworkError(`${method} ${url}: ${error.message || "network error"}`);
  }
}

/**
 * Call the API and return its JSON.
 *
 * Writes carry the session's CSRF token (fetched first if needed; refreshed once on a CSRF
 * 403). A 401 sends the browser to sign-in unless `signIn` is false.
 */
export async function call(method, url, body = undefined, { signIn = true } = {}) {
  const isSignIn = method === "POST" && url === "/api/session";
  if (method !== "GET" && current === null && !isSignIn) await session({ signIn });
  let reply = await send(method, url, body);
  if (reply.status === 403 && method !== "GET" && !isSignIn) {
    const data = await reply.clone().json().catch(() => null);
    if (detailText(data, 403).includes(CSRF_HEADER)) {
      await refresh({ signIn });
      reply = await send(method, url, body);
    }
  }
  const data = reply.status === 204 ? null : await reply.json().catch(() => null);
  if (reply.status === 401 && signIn) goSignIn();
  if (!reply.ok) throw new ApiError(reply.status, detailText(data, reply.status));
  return data;
}

/** Who is signed in (cached for the page's life); 401 → sign-in page. */
export async function session({ signIn = true } = {}) {
  if (current === null) current = await call("GET", "/api/session", undefined, { signIn });
  return current;
}

/** Forget the cached session and ask the server again. */
export async function refresh({ signIn = true } = {}) {
  current = null;
  return session({ signIn });
}

/** Exchange a login token for a session cookie. */
export async function signIn(token) {
  current = await call("POST", "/api/session", { token }, { signIn: false });
  return current;
}

/** Drop the session cookie, then show the sign-in page. */
export async function signOut() {
  try {
    await call("DELETE", "/api/session", undefined, { signIn: false });
  } finally {
    current = null;
    location.assign("/");
  }
}

/** A fresh random key (hex): idempotency keys of submits. Works outside secure contexts. */
export function newKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
