// The comparison page: two synchronised clips, an answer, a confidence, and the next pair.

import { ApiError, NetworkError, call, newKey, session } from "./api.js";
import { $, el, fill, isTyping, notify, show } from "./dom.js";
import { SyncedPlayers, bothWatched, timeText } from "./players.js";
import { ClipPrefetcher } from "./prefetch.js";
import { buildRubric, rubricAnswers } from "./rubric.js";
import { SubmitQueue, pendingText } from "./submit_queue.js";
import { setPhase, setProgress, watchQueue, wireTopbar } from "./topbar.js";

/** Recorded with every answer (`interface_version`). */
export const INTERFACE_VERSION = "robopref-web-1";
const FAST_MS = 3000; // the 3 s rule of QA
const SEEK_S = 1;
const state = {
  item: null, choice: null, confidence: null, playableAt: null, busy: false, seq: 0,
  waitingForQueue: false,
};
let queue;
let players;
let prefetcher;

function confidenceInputs() {
  return Array.from(document.querySelectorAll('input[name="confidence"]'));
}

function canSubmit() {
  return Boolean(state.item) && !state.busy && state.playableAt !== null
    && state.choice !== null && state.confidence !== null;
}

function refreshSubmit() {
  $("#submit").disabled = !canSubmit();
}

function choose(choice) {
  if (!state.item) return;
  state.choice = choice;
  for (const button of document.querySelectorAll(".choice")) {
    button.setAttribute("aria-pressed", String(button.dataset.choice === choice));
  }
  refreshSubmit();
}

function setConfidence(value) {
  if (!state.item) return;
  state.confidence = value;
  for (const input of confidenceInputs()) input.checked = Number(input.value) === value;
  refreshSubmit();
}

function showStatus(title, text, actions = []) {
  show($("#work"), false);
  const box = $("#status");
  $(".status-title", box).textContent = title;
  $(".status-text", box).textContent = text;
  fill($(".status-actions", box), actions);
  show(box, true);
}

function renderEmpty(data) {
  players.detach();
  const actions = [];
  if (data.rankings_waiting) {
    actions.push(el("a", { class: "button primary", href: "/rank" },
      `Rank clips (${data.rankings_waiting} set${data.rankings_waiting === 1 ? "" : "s"})`));
  }
  if (data.feedback_available) {
    actions.push(el("a", { class: "button", href: "/calibration" }, "Calibration feedback"));
  }
  if (data.phase === "waiting") {
    showStatus("Waiting for your lead",
      "You have finished the calibration sets without reaching the pass mark, and no other "
      + "set is available. Your lead will be in touch.", actions);
  } else {
    showStatus("All done", "No pairs are waiting for you right now. Thank you!", actions);
  }
}

function renderItem(item) {
  state.item = item;
  state.choice = null;
  state.confidence = null;
  state.playableAt = null;
  state.seq += 1;
  $("#task").textContent = item.task;
  for (const button of document.querySelectorAll(".choice")) button.setAttribute("aria-pressed", "false");
  for (const input of confidenceInputs()) input.checked = false;
  $("#reason").value = "";
  buildRubric($("#rubric"), Boolean(item.rubric));
  if (!item.left.clip_url || !item.right.clip_url) {
    players.detach();
    showStatus("Clip not ready", "A clip of this pair is not rendered yet. Skip it for now.",
      [el("button", { type: "button", class: "button", onclick: skip }, "Skip this pair")]);
    return;
  }
  const videos = [prefetcher.take(item.left.clip_url), prefetcher.take(item.right.clip_url)];
  $("#left-slot").replaceChildren(videos[0]);
  $("#right-slot").replaceChildren(videos[1]);
  players.attach(videos);
  show($("#status"), false);
  show($("#work"), true);
  refreshSubmit();
  renderTransport();
}

async function loadNext() {
  state.item = null;
  state.waitingForQueue = false;
  refreshSubmit();
  let data;
  try {
    data = await call("GET", "/api/next");
  } catch (error) {
    if (!(error instanceof NetworkError) && !(error instanceof ApiError && error.status >= 500)) throw error;
    showStatus("Connection lost", "Trying again in a moment…");
    setTimeout(loadNext, 2000);
    return;
  }
  setPhase(data);
  setProgress(data.progress);
  const item = data.assignment;
  if (item && queue.holds((body) => body.assignment_id === item.assignment_id)) {
    state.waitingForQueue = true; // its answer is still on its way: show it only if refused
    players.detach();
    showStatus("Saving your last answer…", pendingText(queue.pending));
    return;
  }
  if (item) renderItem(item); // takes its clips off the prefetch shelf first
  else renderEmpty(data);
  prefetcher.want(data.upcoming || []);
}

function warningFor(responseMs) {
  if (responseMs < FAST_MS) {
    return `That was quick (${(responseMs / 1000).toFixed(1)} s). Take the time to watch both clips.`;
  }
  if (!bothWatched(players)) return "You answered before both clips had played to the end.";
  return null;
}

async function submit() {
  if (!canSubmit()) {
    const missing = state.choice === null ? "Pick a side (L, R or E)" : "Pick a confidence (1–5)";
    if (state.item && state.playableAt !== null) notify($("#notice"), missing, { kind: "info", ms: 3000 });
    return;
  }
  const mark = performance.mark("submit", { detail: { pair: state.seq } });
  const responseMs = Math.max(1, Math.round(mark.startTime - state.playableAt));
  const body = {
    assignment_id: state.item.assignment_id, choice: state.choice, confidence: state.confidence,
    response_time_ms: responseMs, idempotency_key: newKey(), interface_version: INTERFACE_VERSION,
  };
  const reason = $("#reason").value.trim();
  if (reason) body.reason = reason;
  const rubric = state.item.rubric ? rubricAnswers($("#rubric")) : undefined;
  if (rubric) body.rubric = rubric;
  const warning = warningFor(responseMs);
  state.busy = true;
  refreshSubmit();
  players.pause();
  try {
    const result = await queue.submit("/api/submit", body);
    if (result.acked && result.reply && result.reply.calibration_complete) {
      location.assign("/calibration");
      return;
    }
  } catch (error) {
    notify($("#notice"), `Not saved: ${error.detail || error.message}`, { kind: "error", ms: 10000 });
  } finally {
    state.busy = false;
  }
  if (warning) notify($("#notice"), warning, { kind: "warn", ms: 8000 });
  await loadNext();
}

async function skip() {
  const item = state.item;
  if (!item || !confirm("Skip this pair? It leaves your queue unanswered.")) return;
  try {
    await call("POST", "/api/skip", { assignment_id: item.assignment_id });
  } catch (error) {
    notify($("#notice"), `Could not skip: ${error.detail || error.message}`, { kind: "error" });
    return;
  }
  await loadNext();
}

function renderTransport() {
  $("#play").textContent = players.playing ? "Pause" : "Play";
  $("#play").setAttribute("aria-pressed", String(players.playing));
  const scrub = $("#scrub");
  scrub.max = String(players.duration || 1);
  if (document.activeElement !== scrub || !scrub.matches(":active")) scrub.value = String(players.currentTime);
  $("#time").textContent = timeText(players);
  for (const button of document.querySelectorAll("[data-speed]")) {
    button.setAttribute("aria-pressed", String(Number(button.dataset.speed) === players.rate));
  }
}

function onPlayable() {
  const mark = performance.mark("playable", { detail: { pair: state.seq } });
  state.playableAt = mark.startTime;
  refreshSubmit();
  renderTransport();
  players.play();
}

function wireControls() {
  players.addEventListener("playable", onPlayable);
  players.addEventListener("state", renderTransport);
  players.addEventListener("tick", renderTransport);
  players.addEventListener("error", () => {
    notify($("#notice"), "A clip failed to load. Reload the page or skip the pair.", { kind: "error", ms: 0 });
  });
  $("#play").addEventListener("click", () => players.toggle());
  $("#replay").addEventListener("click", () => players.replay());
  $("#back-frame").addEventListener("click", () => players.step(-1));
  $("#next-frame").addEventListener("click", () => players.step(1));
  $("#scrub").addEventListener("input", (event) => players.seek(Number(event.target.value)));
  for (const button of document.querySelectorAll("[data-speed]")) {
    button.addEventListener("click", () => players.setRate(Number(button.dataset.speed)));
  }
  for (const button of document.querySelectorAll(".choice")) {
    button.addEventListener("click", () => choose(button.dataset.choice));
  }
  for (const input of confidenceInputs()) {
    input.addEventListener("change", () => setConfidence(Number(input.value)));
  }
  $("#answer").addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  $("#skip").addEventListener("click", skip);
  // mouse clicks leave focus on buttons; give the keys back to the page
  document.addEventListener("click", (event) => {
    if (event.target instanceof HTMLButtonElement) event.target.blur();
  });
}

const KEYS = {
  " ": () => players.toggle(),
  ArrowLeft: () => players.seekBy(-SEEK_S),
  ArrowRight: () => players.seekBy(SEEK_S),
  ",": () => players.step(-1),
  ".": () => players.step(1),
  l: () => choose("left"),
  r: () => choose("right"),
  e: () => choose("equal"),
  Enter: () => submit(),
};

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (isTyping(event)) {
    if (event.key === "Escape") event.target.blur();
    if (event.key === "Enter") {
      event.preventDefault();
      submit();
    }
    return;
  }
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  const action = KEYS[key];
  if (action) {
    event.preventDefault();
    action();
  } else if (/^[1-5]$/.test(key)) {
    event.preventDefault();
    setConfidence(Number(key));
  }
}

async function main() {
  const me = await session();
  wireTopbar(me);
  queue = new SubmitQueue(me.annotator_id);
  watchQueue(queue);
  queue.addEventListener("ack", (event) => {
    if (event.detail.reply && event.detail.reply.calibration_complete) location.assign("/calibration");
    else if (state.waitingForQueue) loadNext();
  });
  queue.addEventListener("refused", (event) => {
    notify($("#notice"), `An answer was refused: ${event.detail.error.detail}`, { kind: "error", ms: 10000 });
    if (state.waitingForQueue) loadNext();
  });
  queue.addEventListener("signin", () => {
    showStatus("Signed out", "Your session ended. Sign in again; unsaved answers are kept.",
      [el("a", { class: "button primary", href: "/?next=/annotate" }, "Sign in")]);
  });
  const params = new URLSearchParams(location.search);
  prefetcher = new ClipPrefetcher({ enabled: params.get("prefetch") !== "0" });
  players = new SyncedPlayers();
  wireControls();
  document.addEventListener("keydown", onKey);
  document.addEventListener("keyup", (event) => {
    if (event.key === " " && !isTyping(event)) event.preventDefault();
  });
  queue.flush();
  await loadNext();
}

main().catch((error) => {
  if (error instanceof ApiError && error.status === 401) return; // on the way to sign-in
  showStatus("Something went wrong", error.detail || error.message || String(error));
});
