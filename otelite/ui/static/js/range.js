// The time range of a view: `range=15m|1h|6h|24h|7d` (relative to now, the default 1h),
// or `start`/`end` for a custom window (anything the API takes: RFC 3339, Unix time, now-2h).

import { h } from "./dom.js";
import { update } from "./router.js";

export const PRESETS = { "15m": 15 * 60e3, "1h": 3600e3, "6h": 6 * 3600e3, "24h": 24 * 3600e3, "7d": 7 * 24 * 3600e3 };
const DEFAULT = "1h";

/** `{start, end}` for API requests, and `startMs`/`endMs` for charts. */
export function timeRange(params) {
  const start = params.get("start");
  const end = params.get("end");
  if (start || end) {
    return { start, end: end || "now", startMs: toMs(start, Date.now() - PRESETS[DEFAULT]), endMs: toMs(end, Date.now()) };
  }
  const preset = PRESETS[params.get("range")] ? params.get("range") : DEFAULT;
  const endMs = Date.now();
  return { start: `now-${preset}`, end: "now", startMs: endMs - PRESETS[preset], endMs };
}

/** The range parameters of a view's URL, to carry into links to other views. */
export function rangeParams(params) {
  const out = {};
  for (const key of ["range", "start", "end"]) if (params.get(key)) out[key] = params.get(key);
  return out;
}

function toMs(text, fallback) {
  if (!text || text === "now") return fallback;
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n < 1e11 ? n * 1000 : n < 1e14 ? n : n / 1e6; // seconds, ms or ns
  }
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? fallback : parsed;
}

function localInput(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60e3);
  return d.toISOString().slice(0, 16);
}

/** The range picker for the header: presets, or a custom from/to. */
export function rangePicker(params) {
  const custom = Boolean(params.get("start") || params.get("end"));
  const chosen = custom ? "custom" : PRESETS[params.get("range")] ? params.get("range") : DEFAULT;
  const range = timeRange(params);
  const from = h("input", { type: "datetime-local", value: localInput(range.startMs), "aria-label": "from" });
  const to = h("input", { type: "datetime-local", value: localInput(range.endMs), "aria-label": "to" });
  const apply = h("button", {
    type: "button",
    onclick: () =>
      update({
        range: null,
        start: new Date(from.value).toISOString(),
        end: new Date(to.value).toISOString(),
      }),
  }, "Apply");
  const customBox = h("span", { class: custom ? "custom" : "custom hidden" }, from, "–", to, apply);
  const select = h(
    "select",
    {
      "aria-label": "time range",
      onchange: (event) => {
        const value = event.target.value;
        if (value === "custom") customBox.classList.remove("hidden");
        else update({ range: value === DEFAULT ? null : value, start: null, end: null });
      },
    },
    [...Object.keys(PRESETS), "custom"].map((key) =>
      h("option", { value: key, selected: key === chosen }, key === "custom" ? "custom…" : `last ${key}`),
    ),
  );
  return h("span", { class: "range" }, select, customBox);
}
