// Calibration feedback: the kappa against the pass mark, what comes next, and pair by pair
// the expert's answer and reasoning.

import { ApiError, call, session } from "./api.js";
import { $, el, show } from "./dom.js";
import { choiceText, stat } from "./format.js";
import { SyncedPlayers } from "./players.js";
import { clipVideo } from "./prefetch.js";
import { wireTopbar } from "./topbar.js";

const NEXT_TEXT = {
  production: "You are certified: the production comparisons are next.",
  second_set: "Below the pass mark. A second, different calibration set is next — "
    + "read the expert reasoning below first.",
  no_more_sets: "Below the pass mark, and no other calibration set is available. "
    + "Your lead will be in touch.",
};

// a calibration set has up to 50 pairs: clips load when they scroll near the screen
const nearScreen = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    if (!entry.isIntersecting) continue;
    nearScreen.unobserve(entry.target);
    entry.target.preload = "auto";
    entry.target.load();
  }
}, { rootMargin: "1200px 0px" });

function side(clip, label) {
  const slot = el("div", { class: "video-slot" });
  const video = clip.clip_url ? clipVideo(clip.clip_url, { preload: "none" }) : null;
  if (video) {
    slot.append(video);
    nearScreen.observe(video);
  }
  return { figure: el("figure", { class: "player" }, el("figcaption", {}, label), slot), video };
}

function pairControls(players) {
  const play = el("button", { type: "button", class: "play" }, "Play both");
  play.addEventListener("click", () => players.toggle());
  players.addEventListener("state", () => {
    play.textContent = players.playing ? "Pause" : "Play both";
  });
  const replay = el("button", { type: "button" }, "⟲ Replay");
  replay.addEventListener("click", () => players.replay());
  return el("div", { class: "transport" }, replay, play);
}

function itemNode(item, n) {
  const left = side(item.left, "Left");
  const right = side(item.right, "Right");
  const node = el("li", { class: "feedback-item", dataset: { agreed: String(item.agreed) } },
    el("div", { class: "answers" },
      el("h3", {}, `Pair ${n}: `, item.task),
      el("span", { class: `badge ${item.agreed ? "good" : "bad"}` }, item.agreed ? "Agreed" : "Disagreed")),
    el("div", { class: "players" }, left.figure, right.figure));
  if (left.video && right.video) {
    const players = new SyncedPlayers();
    players.attach([left.video, right.video]);
    node.append(pairControls(players));
  }
  node.append(
    el("div", { class: "answers" },
      el("span", {}, "Your answer: ", el("strong", { class: "your-choice" }, choiceText(item.your_choice))),
      el("span", {}, "Expert answer: ", el("strong", { class: "expert-choice" }, choiceText(item.expert_choice)))),
  );
  if (item.rationale) node.append(el("p", { class: "rationale" }, item.rationale));
  return node;
}

function render(feedback) {
  $("#kappa").textContent = `κ = ${stat(feedback.kappa)}`;
  $("#threshold").textContent = stat(feedback.threshold);
  const verdict = $("#verdict");
  verdict.textContent = feedback.passed ? "Passed" : "Not passed yet";
  verdict.className = `badge ${feedback.passed ? "good" : "bad"}`;
  $("#next").textContent = NEXT_TEXT[feedback.next] || "";
  show($("#continue"), feedback.next !== "no_more_sets");
  const items = feedback.items || [];
  const agreed = items.filter((i) => i.agreed).length;
  $("#agreed-count").textContent = `You agreed on ${agreed} of ${items.length} pairs.`;
  $("#items").replaceChildren(...items.map((item, i) => itemNode(item, i + 1)));
  show($("#feedback"), true);
}

async function main() {
  wireTopbar(await session());
  try {
    render(await call("GET", "/api/calibration/feedback"));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    $(".status-title").textContent = "No feedback yet";
    $(".status-text").textContent = "Feedback appears here once you have answered a whole calibration set.";
    show($("#status"), true);
  }
}

main().catch((error) => {
  if (error instanceof ApiError && error.status === 401) return;
  $(".status-title").textContent = "Something went wrong";
  $(".status-text").textContent = error.detail || error.message || String(error);
  show($("#status"), true);
});
