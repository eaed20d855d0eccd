// The annotator pages' top bar: who is signed in, progress, pending answers, links.

import { signOut } from "./api.js";
import { $, show } from "./dom.js";
import { pendingText } from "./submit_queue.js";

/** Name the signed-in annotator and wire the sign-out button. */
export function wireTopbar(me) {
  $("#who").textContent = me.annotator_id;
  $("#sign-out").addEventListener("click", () => signOut());
}

/** "12 / 40 done" and the bar, from `/api/next`'s `progress` (hidden without one). */
export function setProgress(progress) {
  const box = $("#progress");
  if (!progress || !progress.assigned) {
    show(box, false);
    return;
  }
  const done = Math.min(progress.done, progress.assigned);
  $(".progress-text", box).textContent = `${done} / ${progress.assigned} done`;
  $(".bar-fill", box).style.width = `${(100 * done) / progress.assigned}%`;
  show(box, true);
}

/** The phase label and the ranking / feedback links from an `/api/next` reply. */
export function setPhase(data) {
  const labels = { calibration: "Calibration set", production: "Comparisons" };
  $("#phase").textContent = labels[data.phase] || "";
  const rank = $("#rank-link");
  rank.textContent = data.rankings_waiting ? `Ranking (${data.rankings_waiting})` : "Ranking";
  show(rank, Boolean(data.rankings_waiting));
  show($("#feedback-link"), Boolean(data.feedback_available));
}

/** Keep the "1 answer pending" line in step with `queue`. */
export function watchQueue(queue) {
  const line = $("#pending");
  const update = () => {
    line.textContent = pendingText(queue.pending);
    show(line, queue.pending > 0);
  };
  queue.addEventListener("change", update);
  update();
}
