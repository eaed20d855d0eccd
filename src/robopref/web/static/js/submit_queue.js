// Answers that must reach the server: kept in localStorage and retried with the SAME
// idempotency key, with backoff, until the server acknowledges them.

import { ApiError, NetworkError, call } from "./api.js";

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000, 30000];
const STORAGE_PREFIX = "robopref.pending.";

function isRetryable(error) {
  if (error instanceof NetworkError) return true;
  return error instanceof ApiError && (error.status >= 500 || error.status === 429 || error.status === 408);
}

/**
 * A queue of submits for one annotator.
 *
 * Events: `change` (the pending count changed), `ack` ({item, reply}: the server stored it
 * or had it already), `refused` ({item, error}: the server will never take it), `signin`
 * (the session ended; items stay queued until the annotator signs in again).
 */
export class SubmitQueue extends EventTarget {
  constructor(annotatorId) {
    super();
    this.key = STORAGE_PREFIX + annotatorId;
    this.items = this.#load();
    this.timer = null;
    this.running = false;
    this.waiters = new Map(); // idempotency key → {resolve, reject} of submit()
    window.addEventListener("beforeunload", (event) => {
      if (this.items.length === 0) return;
      event.preventDefault();
      event.returnValue = ""; // the browser shows its own "leave the page?" text
    });
    window.addEventListener("online", () => this.flush());
  }

  /** Number of answers not yet acknowledged. */
  get pending() {
    return this.items.length;
  }

  /** True when an unacknowledged item satisfies `predicate(body)`. */
  holds(predicate) {
    return this.items.some((item) => predicate(item.body));
  }

  /**
   * Queue `body` (it carries its `idempotency_key`) for POST `url` and try at once.
   *
   * Resolves after the first attempt: `{acked: true, reply}` when the server took it,
   * `{acked: false}` when it stays queued for retries (an `ack` event follows later).
   * Rejects with the ApiError when the server refuses it for good (4xx).
   */
  submit(url, body) {
    const item = { url, body, attempts: 0, queuedAt: Date.now() };
    this.items.push(item);
    this.#save();
    const first = new Promise((resolve, reject) => {
      this.waiters.set(body.idempotency_key, { resolve, reject });
    });
    this.flush();
    return first;
  }

  /** Send queued items now, oldest first, one at a time. */
  async flush() {
    if (this.running) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.running = true;
    try {
      while (this.items.length > 0) {
        const item = this.items[0];
        const delay = await this.#attempt(item);
        if (delay !== null) {
          this.timer = setTimeout(() => this.flush(), delay);
          return;
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** One try; returns null when the item left the queue, else the ms to wait. */
  async #attempt(item) {
    const waiter = this.waiters.get(item.body.idempotency_key);
    try {
      const reply = await call("POST", item.url, item.body, { signIn: false });
      this.#drop(item);
      if (waiter) waiter.resolve({ acked: true, reply });
      else this.dispatchEvent(new CustomEvent("ack", { detail: { item, reply } }));
      return null;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        this.#settleQueued(item, waiter);
        this.dispatchEvent(new CustomEvent("signin"));
        return 60000;
      }
      if (error instanceof ApiError && error.status === 409) {
        // answered already under another key (e.g. from another tab): nothing to retry
        this.#drop(item);
        if (waiter) waiter.resolve({ acked: true, reply: { created: false } });
        else this.dispatchEvent(new CustomEvent("ack", { detail: { item, reply: { created: false } } }));
        return null;
      }
      if (!isRetryable(error)) {
        this.#drop(item);
        if (waiter) waiter.reject(error);
        else this.dispatchEvent(new CustomEvent("refused", { detail: { item, error } }));
        return null;
      }
      item.attempts += 1;
      this.#save();
      this.#settleQueued(item, waiter);
      return BACKOFF_MS[Math.min(item.attempts - 1, BACKOFF_MS.length - 1)];
    }
  }

  #settleQueued(item, waiter) {
    if (!waiter) return;
    this.waiters.delete(item.body.idempotency_key);
    waiter.resolve({ acked: false });
  }

  #drop(item) {
    this.items = this.items.filter((other) => other !== item);
    this.waiters.delete(item.body.idempotency_key);
    this.#save();
  }

  #load() {
    try {
      const items = JSON.parse(localStorage.getItem(this.key) || "[]");
      return Array.isArray(items) ? items.filter((i) => i && i.url && i.body) : [];
    } catch {
      return [];
    }
  }

  #save() {
    if (this.items.length === 0) localStorage.removeItem(this.key);
    else localStorage.setItem(this.key, JSON.stringify(this.items));
    this.dispatchEvent(new CustomEvent("change", { detail: { pending: this.items.length } }));
  }
}

/** "1 answer pending" / "3 answers pending" / "" for the page's status line. */
export function pendingText(count) {
  if (count === 0) return "";
  return `${count} answer${count === 1 ? "" : "s"} pending — retrying`;
}
