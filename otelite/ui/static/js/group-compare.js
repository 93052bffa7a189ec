// The comparison of two groups of spans (/api/compare): the attribute values whose share
// differs most between the selection and the baseline, both shares drawn as bars.

import { get } from "./api.js";
import { h, replace, table } from "./dom.js";
import { errorState } from "./empty.js";
import { duration, percent } from "./format.js";

const LIMIT = 25;

/**
 * The TraceQL selection of an area of the traces' duration scatter: traces whose duration
 * lies between `min` and `max` (ms); their spans must start between `from` and `to` (Unix
 * seconds), sent as the selection's window.
 */
export function areaSelection({ from, to, min, max }) {
  const us = (ms) => `${Math.max(0, Math.round(ms * 1000))}us`;
  return {
    selection: `{ traceDuration >= ${us(min)} && traceDuration <= ${us(max)} }`,
    selectionStart: from.toFixed(3),
    selectionEnd: to.toFixed(3),
    label: `traces of ${duration(min)} to ${duration(max)}`,
  };
}

/**
 * Fill `el` with the comparison of `query.selection` (and its window) with the rest of the
 * spans in `range`; `onClose` is called when the panel is dismissed.
 */
export async function showGroupComparison(el, { query, range, onClose, alive = () => true }) {
  const close = h("button", { type: "button", class: "close-comparison", onclick: onClose }, "Close");
  const heading = h("h2", null, `Compared: ${query.label} against the rest `, close);
  replace(el, heading, h("p", { class: "muted" }, "Comparing…"));
  let found;
  try {
    found = await get("/api/compare", {
      selection: query.selection,
      selectionStart: query.selectionStart,
      selectionEnd: query.selectionEnd,
      start: range.start,
      end: range.end,
      limit: LIMIT,
    });
  } catch (error) {
    if (alive()) replace(el, heading, errorState(error));
    return;
  }
  if (!alive()) return;
  const summary = h(
    "p",
    { class: "muted" },
    `${found.selection.spans} spans selected, ${found.baseline.spans} in the baseline; values ranked by the difference of their share.`,
  );
  if (!found.selection.spans) {
    replace(el, heading, summary, h("p", null, "No span falls in this area."));
    return;
  }
  const rows = found.values.map((v) =>
    h(
      "tr",
      { class: "compared-value" },
      h("td", { class: "mono" }, v.attribute),
      h("td", { class: "mono" }, String(v.value)),
      h("td", { class: "num" }, share(v.selection, "selection")),
      h("td", { class: "num" }, share(v.baseline, "baseline"), v.exact ? "" : " ?"),
      h("td", { class: v.score > 0 ? "num shift-up" : "num shift-down" }, `${v.score > 0 ? "+" : ""}${(v.score * 100).toFixed(1)}%`),
    ),
  );
  const notes = [];
  if (found.sample) notes.push(`values counted on a sample of ${percent(found.sample.rate)} of the traces (${found.sample.selection} and ${found.sample.baseline} spans)`);
  if (found.cut.values.length) notes.push(`only the most frequent values were counted for ${found.cut.values.join(", ")}`);
  if (found.cut.attributes) notes.push("the attributes fewest spans have were left out");
  if (found.cut.ranked) notes.push(`the ${LIMIT} values that differ most are shown`);
  replace(
    el,
    heading,
    summary,
    table(["Attribute", "Value", "Selection", "Baseline", "Difference"], rows, { class: "grid comparison" }),
    notes.length ? h("p", { class: "muted" }, `Bounded: ${notes.join("; ")}.`) : null,
  );
}

function share(side, kind) {
  return h(
    "span",
    { class: `share ${kind}`, title: `${side.count} spans` },
    h("span", { class: "share-bar", style: { width: `${Math.round(side.share * 60)}px` } }),
    percent(side.share),
  );
}
