// Logs: a LogQL query run on the Loki API, written by the filters above it or typed (with
// completions, and parse errors marked in place). Its lines newest first, with their
// labels, older ones page by page; the volume of its lines by level over the time range;
// a link from each line with a trace id to its trace; live tail.

import { get } from "../api.js";
import { h, replace } from "../dom.js";
import { emptyState, errorState } from "../empty.js";
import { timeRange } from "../range.js";
import { update } from "../router.js";
import { attributeInputs } from "../attributes.js";
import { labelsSeen, logLines } from "../log-lines.js";
import { logqlBox } from "../logql-box.js";
import { LEVELS, formQuery, streamEntries } from "../logql.js";
import { logsVolume } from "../logs-volume.js";
import { rangeResult } from "../promql-result.js";
import { liveToggle, queryForm, queryRow, serviceSelect } from "../query-form.js";
import { autoStep } from "../promql.js";

const FIELDS = ["service", "level", "text", "traceId", "spanId", "limit"];
const LIVE_INTERVAL_MS = 2000;
const DEFAULT_LIMIT = "100";
const MAX_LIMIT = 5000; // Loki's max_entries_limit_per_query
const SERVICES_MS = 7 * 24 * 3600e3;
const filtersForm = queryForm({ fields: FIELDS, defaultLimit: DEFAULT_LIMIT });
// Loki then says which labels are the stream's, which structured metadata, which parsed.
const CATEGORIZED = { headers: { "X-Loki-Response-Encoding-Flags": "categorize-labels" } };

export function render(main, view, alive) {
  const params = view.params;
  const query = params.get("q");
  const text = query === null ? formQuery(filtersForm.fromUrl(params)) : query;
  const limit = Math.min(Number(params.get("limit")) || Number(DEFAULT_LIMIT), MAX_LIMIT);
  const chosen = params.get("service");
  const services = serviceSelect(chosen);
  const input = (name, attrs) => h("input", { name, value: params.get(name) || "", ...attrs });
  const form = h(
    "form",
    { class: "filters", onsubmit: filtersForm.submit },
    h("label", null, "Service", services.element),
    h(
      "label",
      null,
      "Level",
      h(
        "select",
        { name: "level", "aria-label": "least level" },
        ["", ...LEVELS].map((l) => h("option", { value: l, selected: (params.get("level") || "") === l }, l ? `${l} and up` : "any")),
      ),
    ),
    h("label", null, "Text", input("text", { type: "search", placeholder: "in the line, any case", size: 16 })),
    attributeInputs(params.getAll("attr"), { signal: "logs", service: chosen }),
    h("label", null, "Trace id", input("traceId", { size: 20, class: "mono", placeholder: "any" })),
    params.get("spanId") ? h("label", null, "Span id", input("spanId", { size: 12, class: "mono" })) : null,
    h("label", null, "Limit", input("limit", { type: "number", min: 1, max: MAX_LIMIT, size: 5, value: params.get("limit") || DEFAULT_LIMIT })),
    h("button", { type: "submit", class: "primary" }, "Search"),
    liveToggle(params),
  );
  let seen = new Map();
  const box = logqlBox({ value: text, range: () => timeRange(params), seen: () => seen, onRun: (typed) => run(typed) });
  const logql = queryRow({ language: "LogQL", box, onRun: (typed) => run(typed) });
  const volume = h("section", { class: "volume" });
  const results = h("div", { class: "results" }, h("p", { class: "muted" }, "Searching…"));
  replace(main, h("h1", null, "Logs"), form, logql, volume, results);

  filtersForm.follow(form, box, formQuery);
  const run = (typed) => filtersForm.run(typed, form, search);

  // The services with lines over the range, or the week before its end if longer.
  const listed = timeRange(params);
  const since = Math.min(listed.startMs, listed.endMs - SERVICES_MS);
  get("/loki/api/v1/label/service_name/values", { start: nanoseconds(since), end: nanoseconds(listed.endMs) })
    .then(({ data: known }) => services.fill(known))
    .catch(() => {}); // the choices are a convenience; the results say what went wrong

  let cleanup = () => {};
  let page = 0; // the latest search; answers to older ones are dropped
  const search = async () => {
    const mine = ++page;
    const current = () => alive() && mine === page;
    const range = timeRange(params);
    const window = { query: text, start: nanoseconds(range.startMs), end: nanoseconds(range.endMs), direction: "backward" };
    let body;
    try {
      body = await get("/loki/api/v1/query_range", { ...window, limit, step: autoStep(range.endMs - range.startMs) }, CATEGORIZED);
    } catch (error) {
      if (!current()) return;
      cleanup();
      replace(volume);
      // A query the server refuses is the box's to show, at its position when it has one
      // (unless the text there has changed since).
      if (error.status === 400 && box.textarea.value === text) {
        box.showError(error);
        replace(results);
      } else {
        replace(results, errorState(error));
      }
      return;
    }
    if (!current()) return;
    cleanup();
    if (body.data.resultType !== "streams") {
      // A metric query: its series over the range, as the metrics page plots them.
      replace(volume);
      const plot = h("div", { class: "promql-result" });
      replace(results, plot);
      cleanup = rangeResult(plot, body.data, { format: "", step: autoStep(range.endMs - range.startMs) });
      return;
    }
    const drawn = logsVolume(volume, {
      text,
      range,
      current,
      onSelect: (fromMs, toMs) => update({ range: null, start: new Date(fromMs).toISOString(), end: new Date(toMs).toISOString() }),
    });
    cleanup = () => drawn.then((stop) => stop());
    const entries = streamEntries(body.data.result);
    seen = labelsSeen(entries);
    if (!entries.length) {
      replace(results, emptyState("logs", "No log line matches this query in this time range."));
      return;
    }
    showLines(entries, entries.length >= limit, () => older(window, entries, current));
  };

  const count = h("p", { class: "muted count" });
  const footer = h("p", { class: "more" });
  let tbody = null;

  const showLines = (entries, more, loadMore) => {
    const lines = logLines(entries);
    tbody = lines.querySelector("tbody");
    replace(results, count, lines, footer);
    footerFor(entries, more, loadMore);
  };

  const footerFor = (entries, more, loadMore) => {
    count.textContent = `${entries.length} lines, newest first`;
    replace(
      footer,
      more
        ? h("button", { type: "button", class: "load-more", onclick: loadMore }, "Older lines")
        : h("span", { class: "muted all-shown" }, "That is every line in this time range."),
    );
  };

  // The next page: the lines before the oldest shown. Lines at that same nanosecond may
  // be on either page, so the page starts at it and skips the ones already shown.
  const older = async (window, entries, current) => {
    const oldest = entries[entries.length - 1].ns;
    const shown = new Map();
    for (const entry of entries) if (entry.ns === oldest) shown.set(key(entry), (shown.get(key(entry)) || 0) + 1);
    const asked = Math.min(limit + entries.length - entries.findIndex((e) => e.ns === oldest), MAX_LIMIT);
    replace(footer, h("span", { class: "muted" }, "Loading…"));
    let body;
    try {
      body = await get("/loki/api/v1/query_range", { ...window, end: String(oldest + 1n), limit: asked }, CATEGORIZED);
    } catch (error) {
      if (current()) replace(footer, errorState(error));
      return;
    }
    if (!current()) return;
    const found = streamEntries(body.data.result);
    const fresh = found.filter((entry) => {
      const k = key(entry);
      if (entry.ns !== oldest || !shown.get(k)) return true;
      shown.set(k, shown.get(k) - 1);
      return false;
    });
    entries.push(...fresh);
    seen = labelsSeen(entries);
    tbody.append(...logLines(fresh).querySelector("tbody").children);
    footerFor(entries, found.length >= asked && fresh.length > 0, () => older(window, entries, current));
  };

  search();
  const timer = params.get("live") === "1" ? setInterval(search, LIVE_INTERVAL_MS) : null;
  return () => {
    if (timer) clearInterval(timer);
    page++;
    cleanup();
  };
}

function nanoseconds(ms) {
  return String(BigInt(Math.round(ms)) * 1000000n);
}

// An entry's identity among the lines of one nanosecond.
function key(entry) {
  return JSON.stringify([entry.line, entry.stream, entry.metadata, entry.parsed]);
}
