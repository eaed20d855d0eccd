// The lead's dashboard: batches, annotators, live QA, plots, and the campaign's actions.

import { ApiError, call, session } from "./api.js";
import { $, el, fill, show } from "./dom.js";
import { wireActions } from "./admin_actions.js";
import { ago, count, percent, perHour, seconds, stat } from "./format.js";
import { wireTopbar } from "./topbar.js";

const REFRESH_MS = 30000;
const PHASES = {
  calibration: "in calibration", production: "production", waiting: "waiting",
  done: "queue empty", admin: "admin",
};

function qaCard(label, value, sub, verdict = null) {
  return el("div", { class: `card${verdict === null ? "" : verdict ? " good" : " bad"}` },
    el("div", { class: "label" }, label), el("div", { class: "value" }, value),
    el("div", { class: "sub" }, sub));
}

function renderQA(qa) {
  const alphaOk = (v) => (typeof v === "number" ? v >= qa.alpha_target : null);
  const bias = typeof qa.left_fraction === "number"
    ? `${percent(qa.left_fraction)} of side choices were left` : "no side choices yet";
  fill($("#qa-cards"),
    qaCard("Krippendorff's α", stat(qa.alpha), `target ≥ ${stat(qa.alpha_target)}, everyone`, alphaOk(qa.alpha)),
    qaCard("α without excluded", stat(qa.alpha_without_excluded),
      `${qa.excluded.length} excluded (flagged or by you)`, alphaOk(qa.alpha_without_excluded)),
    qaCard("Gold accuracy", percent(qa.gold_accuracy), "easy pairs with a known answer"),
    qaCard("Fast answers", percent(qa.fast_fraction), `under ${stat(qa.fast_response_s, 0)} s`),
    qaCard("Self-consistency", percent(qa.self_consistency), "same answer to a repeated pair"),
    qaCard("Position bias", stat(qa.position_bias), bias),
    qaCard("Answers", count(qa.annotations), `${count(qa.pairs)} pairs, ${count(qa.preferences)} labelled`));
  const flags = qa.flags.map((f) => el("li", {}, el("strong", {}, f.annotator_id), ` — ${f.flag}: ${f.detail}`));
  fill($("#flags"), flags.length ? flags : el("li", {}, "No flags."));
}

function barFill(share) {
  const fillNode = el("span", { class: "bar-fill" });
  fillNode.style.width = `${(100 * share).toFixed(1)}%`; // CSSOM: allowed by the page's CSP
  return fillNode;
}

function renderBatches(batches, onClose) {
  const rows = batches.map((b) => {
    const share = b.assigned ? b.done / b.assigned : 0;
    const close = b.status === "open"
      ? el("button", { type: "button", onclick: () => onClose(b.batch_id) }, "Close")
      : el("span", { class: "hint" }, b.status);
    return el("div", { class: "batch-row", dataset: { batch: b.batch_id } },
      el("span", { class: "name" }, b.batch_id),
      el("span", {}, b.kind, b.rubric ? " · rubric" : ""),
      el("span", { class: "bar", title: percent(share) }, barFill(share)),
      el("span", { class: "num" }, `${count(b.done)} / ${count(b.assigned)}`),
      close);
  });
  fill($("#batches"), rows.length ? rows : el("p", { class: "hint" }, "No batches yet."));
}

function statusCell(a) {
  const badges = [el("span", {}, PHASES[a.phase] || a.phase)];
  if (a.certified) badges.push(" ", el("span", { class: "badge good" }, "certified"));
  if (a.excluded) badges.push(" ", el("span", { class: "badge bad" }, "excluded"));
  if (!a.has_token) badges.push(" ", el("span", { class: "badge warn" }, "no token"));
  return el("td", {}, badges);
}

function annotatorRow(a, actions) {
  const done = a.assigned ? `${count(a.done)} / ${count(a.assigned)}` : "–";
  const rankings = a.rankings_assigned ? `${a.rankings_done} / ${a.rankings_assigned}` : "–";
  return el("tr", { dataset: { annotator: a.annotator_id } },
    el("td", {}, el("strong", {}, a.annotator_id), a.role === "admin" ? " (admin)" : ""),
    statusCell(a),
    el("td", { class: "num" }, done),
    el("td", { class: "num" }, rankings),
    el("td", { class: "num" }, perHour(a.per_hour)),
    el("td", { class: "num" }, seconds(a.median_response_ms)),
    el("td", {}, ago(a.last_active)),
    el("td", {}, a.flags.join(", ") || "–"),
    el("td", {}, actions(a)));
}

// The most disputed task × quartile pairings first; the rest one click away (kept across refreshes).
const DISAGREEMENT_ROWS = 12;
let showAllDisagreement = false;

function renderDisagreement(rows) {
  const shown = showAllDisagreement ? rows : rows.slice(0, DISAGREEMENT_ROWS);
  const body = shown.map((r) => el("tr", {}, el("td", {}, r.task), el("td", {}, r.quartiles),
    el("td", { class: "num" }, count(r.pairs)), el("td", { class: "num" }, percent(r.disagreement))));
  if (rows.length > DISAGREEMENT_ROWS) {
    const label = showAllDisagreement ? `Show the top ${DISAGREEMENT_ROWS}` : `Show all ${rows.length}`;
    const toggle = el("button", { type: "button", class: "link", id: "disagreement-toggle", onclick: () => {
      showAllDisagreement = !showAllDisagreement;
      renderDisagreement(rows);
    } }, label);
    body.push(el("tr", {}, el("td", { colspan: "4" }, toggle)));
  }
  fill($("#disagreement tbody"), body.length ? body : el("tr", {}, el("td", { colspan: "4" }, "No answers yet.")));
}

function renderPlots(urls, stamp) {
  const names = { throughput: "Throughput", qa: "Quality over time", tiers: "Scores by tier",
    response_times: "Response times" };
  fill($("#plots"), urls.map((url) => {
    const name = url.split("/").pop().replace(".png", "");
    return el("figure", {}, el("img", { src: `${url}?t=${stamp}`, alt: names[name] || name, loading: "lazy" }),
      el("figcaption", { class: "hint" }, names[name] || name));
  }));
}

async function showPair(pairId) {
  const box = $("#pair-detail");
  const pair = await call("GET", `/api/admin/pairs/${encodeURIComponent(pairId)}`);
  const answers = pair.annotations.map((a) => el("li", {},
    el("strong", {}, a.annotator_id), ` preferred ${a.preference} (confidence ${a.confidence}, `,
    seconds(a.response_time_ms), ")", a.reason ? el("div", {}, a.reason) : null));
  fill(box, el("h3", {}, `Pair ${pair.pair_id} — `, pair.task),
    el("p", { class: "hint" }, `A: ${pair.trajectory_a_id} · B: ${pair.trajectory_b_id} · ${pair.kind}, `
      + `quartiles ${pair.quartile_a}/${pair.quartile_b}`
      + (pair.expected_preference ? ` · expected ${pair.expected_preference}` : "")),
    el("ul", { class: "reasons" }, answers));
  show(box, true);
}

function renderReasons(reasons) {
  const items = reasons.map((r) => el("li", {},
    el("strong", {}, r.annotator_id), ` on “${r.task}” (${ago(r.created_at)}): `,
    el("span", { class: "reason-text" }, r.reason), " ",
    el("button", { type: "button", class: "link", onclick: () => showPair(r.pair_id) }, "all answers")));
  fill($("#reasons"), items.length ? items : el("li", {}, "No reasons written yet."));
}

let actions;

async function refresh() {
  const data = await call("GET", "/api/admin/overview");
  const [low, high] = data.throughput_target_per_hour;
  $("#target").textContent = `${low}–${high}`;
  renderQA(data.qa);
  renderBatches(data.batches, (id) => actions.closeBatch(id));
  fill($("#annotators tbody"), data.annotators.map((a) => annotatorRow(a, actions.buttons)));
  renderDisagreement(data.disagreement);
  renderPlots(data.plots, Date.parse(data.generated_at) || Date.now());
  renderReasons(data.reasons);
  $("#updated").textContent = `updated ${new Date(data.generated_at).toLocaleTimeString()}`;
  show($("#dash"), true);
}

async function main() {
  const me = await session();
  wireTopbar(me);
  if (me.role !== "admin") {
    $(".status-title").textContent = "Admins only";
    $(".status-text").textContent = "This dashboard is for the annotation lead.";
    show($("#status"), true);
    return;
  }
  actions = wireActions(refresh);
  $("#refresh").addEventListener("click", refresh);
  await refresh();
  setInterval(() => { if (!document.hidden) refresh().catch(() => {}); }, REFRESH_MS);
}

main().catch((error) => {
  if (error instanceof ApiError && error.status === 401) return;
  $(".status-title").textContent = "Something went wrong";
  $(".status-text").textContent = error.detail || error.message || String(error);
  show($("#status"), true);
});
