// The ranking page: 5–10 clips of one instruction put in order (drag or keys), with flags.

import { ApiError, call, newKey, session } from "./api.js";
import { $, el, isTyping, notify, show } from "./dom.js";
import { clipVideo } from "./prefetch.js";
import { SubmitQueue } from "./submit_queue.js";
import { watchQueue, wireTopbar } from "./topbar.js";

const FLAG_TEXT = {
  gripper_state_wrong: "Gripper state wrong",
  latent_failure: "Latent failure",
};
const FLAG_KEYS = { g: "gripper_state_wrong", f: "latent_failure" };

const state = { ranking: null, selected: 0, single: false, shownAt: 0, busy: false };
let queue;

function cards() {
  return Array.from($("#rank-list").children);
}

function renumber() {
  cards().forEach((card, i) => {
    $(".position", card).textContent = `#${i + 1}`;
    card.setAttribute("aria-label", `${card.dataset.name}, position ${i + 1}`);
  });
}

function select(index, { focus = true } = {}) {
  const all = cards();
  if (all.length === 0) return;
  state.selected = Math.max(0, Math.min(index, all.length - 1));
  all.forEach((card, i) => card.classList.toggle("selected", i === state.selected));
  if (focus) all[state.selected].focus();
  if (state.single) showInViewer(all[state.selected]);
}

function move(delta) {
  const all = cards();
  const from = state.selected;
  const to = from + delta;
  if (to < 0 || to >= all.length) return;
  const list = $("#rank-list");
  const card = all[from];
  if (delta < 0) list.insertBefore(card, all[to]);
  else list.insertBefore(card, all[to].nextSibling);
  renumber();
  select(to);
}

function cardNode(clip, name, flags) {
  const video = clipVideo(clip.clip_url, { preload: "auto" });
  video.addEventListener("click", () => (video.paused ? video.play() : video.pause()));
  const up = el("button", { type: "button", title: "Move up (U)", "aria-label": "Move up" }, "↑");
  const down = el("button", { type: "button", title: "Move down (D)", "aria-label": "Move down" }, "↓");
  const card = el("li", {
    class: "rank-card", tabindex: "0", draggable: "true",
    dataset: { id: clip.display_id, name },
  },
  el("div", { class: "card-head" },
    el("span", { class: "position" }), el("span", { class: "clip-name" }, name),
    el("span", { class: "moves" }, up, down)),
  el("div", { class: "video-slot" }, video),
  el("div", { class: "flags" }, flags.map((flag) => el("label", {},
    el("input", { type: "checkbox", name: flag, value: flag }), ` ${FLAG_TEXT[flag] || flag}`))));
  const indexOf = () => cards().indexOf(card);
  up.addEventListener("click", () => { select(indexOf(), { focus: false }); move(-1); });
  down.addEventListener("click", () => { select(indexOf(), { focus: false }); move(1); });
  card.addEventListener("focus", () => { if (indexOf() !== state.selected) select(indexOf(), { focus: false }); });
  card.addEventListener("click", () => select(indexOf(), { focus: false }));
  wireDrag(card);
  return card;
}

let dragged = null;

function dropSide(card, event) {
  const box = card.getBoundingClientRect();
  if (state.single) return event.clientY < box.top + box.height / 2 ? "before" : "after";
  return event.clientX < box.left + box.width / 2 ? "before" : "after";
}

function clearDropMarks() {
  for (const card of cards()) card.classList.remove("drop-before", "drop-after");
}

function wireDrag(card) {
  card.addEventListener("dragstart", (event) => {
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.name);
  });
  card.addEventListener("dragend", () => {
    card.classList.remove("dragging");
    clearDropMarks();
    dragged = null;
  });
  card.addEventListener("dragover", (event) => {
    if (!dragged || dragged === card) return;
    event.preventDefault();
    clearDropMarks();
    card.classList.add(`drop-${dropSide(card, event)}`);
  });
  card.addEventListener("drop", (event) => {
    if (!dragged || dragged === card) return;
    event.preventDefault();
    const list = $("#rank-list");
    list.insertBefore(dragged, dropSide(card, event) === "before" ? card : card.nextSibling);
    clearDropMarks();
    renumber();
    select(cards().indexOf(dragged), { focus: false });
  });
}

function showInViewer(card) {
  const slot = $("#viewer .video-slot");
  const video = clipVideo($("video", card).src);
  slot.replaceChildren(video);
  $("#viewer-name").textContent = `${card.dataset.name} (now #${cards().indexOf(card) + 1})`;
  video.addEventListener("play", () => { $("#viewer-play").textContent = "Pause"; });
  video.addEventListener("pause", () => { $("#viewer-play").textContent = "Play"; });
  video.play().catch(() => {});
}

function setView(single) {
  state.single = single;
  $("#rank-list").classList.toggle("single", single);
  $("#view-grid").setAttribute("aria-pressed", String(!single));
  $("#view-single").setAttribute("aria-pressed", String(single));
  show($("#viewer"), single);
  show($("#play-all"), !single);
  if (single) showInViewer(cards()[state.selected]);
  else $("#viewer .video-slot").replaceChildren();
}

function selectedVideo() {
  if (state.single) return $("#viewer video");
  return $("video", cards()[state.selected]);
}

function togglePlay() {
  const video = selectedVideo();
  if (video.paused) {
    for (const other of document.querySelectorAll("video")) if (other !== video) other.pause();
    if (video.ended) video.currentTime = 0;
    video.play().catch(() => {});
  } else video.pause();
}

function playAll() {
  const videos = cards().map((card) => $("video", card));
  const anyPlaying = videos.some((v) => !v.paused && !v.ended);
  for (const video of videos) {
    if (anyPlaying) video.pause();
    else {
      video.currentTime = 0;
      video.play().catch(() => {});
    }
  }
  $("#play-all").textContent = anyPlaying ? "▶ Play all" : "❚❚ Pause all";
}

function toggleFlag(flag) {
  const box = cards()[state.selected].querySelector(`input[name="${flag}"]`);
  if (box) box.checked = !box.checked;
}

function render(ranking) {
  state.ranking = ranking;
  state.selected = 0;
  $("#task").textContent = ranking.task;
  const flags = ranking.flags || Object.keys(FLAG_TEXT);
  $("#rank-list").replaceChildren(...ranking.clips.map((clip, i) =>
    cardNode(clip, `Clip ${String.fromCharCode(65 + i)}`, flags)));
  renumber();
  select(0, { focus: false });
  $("#remaining").textContent = ranking.remaining > 1 ? `${ranking.remaining} sets left` : "last set";
  show($("#status"), false);
  show($("#ranking"), true);
  if (state.single) setView(true);
  state.shownAt = performance.mark("ranking-shown").startTime;
}

async function loadNext() {
  const data = await call("GET", "/api/ranking/next");
  if (data.ranking) {
    render(data.ranking);
    return;
  }
  state.ranking = null;
  show($("#ranking"), false);
  $(".status-title").textContent = "No sets to rank";
  $(".status-text").textContent = "Every ranking set assigned to you is done.";
  show($("#status"), true);
}

async function submit() {
  if (!state.ranking || state.busy) return;
  const order = cards().map((card) => card.dataset.id);
  const flags = {};
  for (const card of cards()) {
    const set = Array.from(card.querySelectorAll(".flags input:checked"), (box) => box.value);
    if (set.length) flags[card.dataset.id] = set;
  }
  const mark = performance.mark("submit");
  const body = {
    ranking_id: state.ranking.ranking_id, order, flags,
    response_time_ms: Math.max(1, Math.round(mark.startTime - state.shownAt)),
    idempotency_key: newKey(),
  };
  state.busy = true;
  $("#submit-ranking").disabled = true;
  try {
    const result = await queue.submit("/api/ranking/submit", body);
    if (!result.acked) {
      // stays busy: the queue retries with the same key, and its `ack` loads the next set
      notify($("#notice"), "Saved in this browser; sending when the connection is back.", { kind: "warn", ms: 0 });
      return;
    }
    await loadNext();
  } catch (error) {
    notify($("#notice"), `Not saved: ${error.detail || error.message}`, { kind: "error", ms: 10000 });
  }
  state.busy = false;
  $("#submit-ranking").disabled = false;
}

function onSettled(event) {
  const item = event.detail.item;
  if (!state.ranking || item.body.ranking_id !== state.ranking.ranking_id) return;
  state.busy = false;
  $("#submit-ranking").disabled = false;
  show($("#notice"), false);
  if (event.type === "ack") loadNext();
  else notify($("#notice"), `Not saved: ${event.detail.error.detail}`, { kind: "error", ms: 10000 });
}

function onKey(event) {
  if (!state.ranking || isTyping(event) || event.ctrlKey || event.metaKey) return;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  const up = (event.altKey && key === "ArrowUp") || (!event.altKey && key === "u");
  const down = (event.altKey && key === "ArrowDown") || (!event.altKey && key === "d");
  let handled = true;
  if (up) move(-1);
  else if (down) move(1);
  else if (event.altKey) handled = false;
  else if (key === "ArrowUp" || key === "ArrowLeft") select(state.selected - 1);
  else if (key === "ArrowDown" || key === "ArrowRight") select(state.selected + 1);
  else if (key === " " && !(event.target instanceof HTMLInputElement)) togglePlay();
  else if (FLAG_KEYS[key]) toggleFlag(FLAG_KEYS[key]);
  else if (key === "v") setView(!state.single);
  else handled = false;
  if (handled) event.preventDefault();
}

async function main() {
  const me = await session();
  wireTopbar(me);
  queue = new SubmitQueue(me.annotator_id);
  watchQueue(queue);
  queue.addEventListener("ack", onSettled);
  queue.addEventListener("refused", onSettled);
  $("#submit-ranking").addEventListener("click", submit);
  $("#view-grid").addEventListener("click", () => setView(false));
  $("#view-single").addEventListener("click", () => setView(true));
  $("#viewer-prev").addEventListener("click", () => select(state.selected - 1, { focus: false }));
  $("#viewer-next").addEventListener("click", () => select(state.selected + 1, { focus: false }));
  $("#viewer-play").addEventListener("click", togglePlay);
  $("#play-all").addEventListener("click", playAll);
  document.addEventListener("keydown", onKey);
  document.addEventListener("keyup", (event) => {
    if (event.key === " " && !isTyping(event)) event.preventDefault();
  });
  // mouse clicks leave focus on buttons; give the keys back to the page
  document.addEventListener("click", (event) => {
    if (event.target instanceof HTMLButtonElement) event.target.blur();
  });
  queue.flush();
  await loadNext();
}

main().catch((error) => {
  if (error instanceof ApiError && error.status === 401) return;
  $(".status-title").textContent = "Something went wrong";
  $(".status-text").textContent = error.detail || error.message || String(error);
  show($("#status"), true);
});
