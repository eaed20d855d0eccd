// The dashboard's writes: tokens (shown once), revocation, exclusion, batches.

import { call } from "./api.js";
import { $, el, notify, show } from "./dom.js";

function showToken(reply) {
  $("#token-value").textContent = reply.token;
  show($("#token-box"), true);
  const note = $("#token-note");
  note.textContent = `Token for ${reply.annotator_id}${reply.created ? " (new account)" : " (replaces the old one)"}`
    + ". Shown once: give it to them now; only its hash is stored.";
  show(note, true);
}

async function copyToken() {
  const text = $("#token-value").textContent;
  try {
    await navigator.clipboard.writeText(text);
    $("#copy-token").textContent = "Copied";
  } catch {
    // no clipboard outside secure contexts: select the text for Ctrl+C
    const range = document.createRange();
    range.selectNodeContents($("#token-value"));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    $("#copy-token").textContent = "Press Ctrl+C";
  }
}

function batchBody(form) {
  const data = new FormData(form);
  const body = {
    kind: data.get("kind"), size: Number(data.get("size")), rubric: data.get("rubric") === "on",
    seed: Number(data.get("seed") || 0),
  };
  const ids = String(data.get("annotator_ids") || "").split(",").map((s) => s.trim()).filter(Boolean);
  if (ids.length) body.annotator_ids = ids;
  return body;
}

/** Wire the forms; returns the per-annotator buttons and batch closing for the tables. */
export function wireActions(refresh) {
  const result = $("#batch-result");
  const run = async (what, fn) => {
    try {
      await fn();
      await refresh();
    } catch (error) {
      notify(result, `${what}: ${error.detail || error.message}`, { kind: "error", ms: 10000 });
    }
  };
  $("#add-annotator").addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(event.target);
    run("Issue token", async () => {
      showToken(await call("POST", "/api/admin/annotators",
        { annotator_id: String(data.get("annotator_id")).trim(), role: data.get("role") }));
    });
  });
  $("#copy-token").addEventListener("click", copyToken);
  $("#create-batch").addEventListener("submit", (event) => {
    event.preventDefault();
    run("Create batch", async () => {
      const made = await call("POST", "/api/admin/batches", batchBody(event.target));
      notify(result, `Created ${made.batch_id}: ${made.pairs} ${made.kind === "ranking" ? "sets" : "pairs"}, `
        + `${made.assignments} assignments.`, { ms: 15000 });
    });
  });
  const path = (a) => `/api/admin/annotators/${encodeURIComponent(a.annotator_id)}`;
  const buttons = (a) => el("span", { class: "row" },
    el("button", { type: "button", title: "Issue a new token (ends their sessions)",
      onclick: () => run("New token", async () => showToken(await call("POST", `${path(a)}/token`))) },
    "New token"),
    a.has_token ? el("button", { type: "button", class: "danger",
      onclick: () => confirm(`Revoke ${a.annotator_id}'s token? They are signed out at once.`)
        && run("Revoke", () => call("DELETE", `${path(a)}/token`)) }, "Revoke") : null,
    a.role === "admin" ? null : el("button", { type: "button",
      onclick: () => run("Exclusion", () => call("POST", `${path(a)}/exclusion`, { excluded: !a.excluded })) },
    a.excluded ? "Re-include" : "Exclude"));
  const closeBatch = (id) => {
    if (confirm(`Close batch ${id}? Its open assignments stop being served.`)) {
      run("Close batch", () => call("POST", `/api/admin/batches/${encodeURIComponent(id)}/close`));
    }
  };
  return { buttons, closeBatch };
}
