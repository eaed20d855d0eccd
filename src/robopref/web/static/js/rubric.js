// The rubric sub-questions (the store's RUBRIC_KEYS), asked for batches created with `rubric`.
// Each answer names a screen side: "left", "equal" or "right".

import { el, show } from "./dom.js";

export const RUBRIC = [
  ["success", "Task success"],
  ["collisions", "Fewer collisions"],
  ["efficiency", "Efficiency"],
  ["safety", "Safety margin"],
  ["naturalness", "Naturalness"],
];
const OPTIONS = [["left", "Left"], ["equal", "Same"], ["right", "Right"]];

/** Fill the fieldset `box` with one row of radios per question (empty and hidden if off). */
export function buildRubric(box, enabled) {
  box.replaceChildren(el("legend", {}, "Which clip is better on…"));
  show(box, enabled);
  if (!enabled) return;
  for (const [key, label] of RUBRIC) {
    const row = el("div", { class: "rubric-row", role: "radiogroup", "aria-label": label },
      el("span", { class: "rubric-label" }, label));
    for (const [value, text] of OPTIONS) {
      row.append(el("label", {},
        el("input", { type: "radio", name: `rubric-${key}`, value }), ` ${text}`));
    }
    box.append(row);
  }
}

/** The questions answered in `box` as {key: side}, or undefined when none was. */
export function rubricAnswers(box) {
  const answers = {};
  for (const [key] of RUBRIC) {
    const picked = box.querySelector(`input[name="rubric-${key}"]:checked`);
    if (picked) answers[key] = picked.value;
  }
  return Object.keys(answers).length ? answers : undefined;
}
