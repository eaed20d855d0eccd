// Numbers for people: "12.4 s", "47 /h", "83 %", "0.72", "5 min ago".

const DASH = "–";

function isNumber(value) {
  return typeof value === "number" && Number.isFinite(value);
}

/** Milliseconds as seconds: 12400 → "12.4 s" (≥ 100 s: "2.1 min"). */
export function seconds(ms) {
  if (!isNumber(ms)) return DASH;
  const s = ms / 1000;
  if (s >= 100) return `${(s / 60).toFixed(1)} min`;
  return `${s.toFixed(1)} s`;
}

/** A rate per hour: 47.2 → "47 /h". */
export function perHour(value) {
  return isNumber(value) ? `${Math.round(value)} /h` : DASH;
}

/** A fraction as a percentage: 0.834 → "83 %". */
export function percent(fraction) {
  return isNumber(fraction) ? `${Math.round(fraction * 100)} %` : DASH;
}

/** A statistic with two decimals: 0.7234 → "0.72". */
export function stat(value, digits = 2) {
  return isNumber(value) ? value.toFixed(digits) : DASH;
}

/** An integer with thousands separators: 12345 → "12,345". */
export function count(value) {
  return isNumber(value) ? Math.round(value).toLocaleString("en-US") : DASH;
}

/** An ISO time as "just now", "5 min ago", "3 h ago", or the date. */
export function ago(iso, now = Date.now()) {
  if (!iso) return "never";
  const then = Date.parse(iso);
  if (!Number.isFinite(then)) return DASH;
  const s = Math.max(0, (now - then) / 1000);
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(then).toISOString().slice(0, 10);
}

/** "left" → "Left is better", for answers shown back to people. */
export function choiceText(choice) {
  return { left: "Left is better", right: "Right is better", equal: "Roughly equal" }[choice]
    || DASH;
}
