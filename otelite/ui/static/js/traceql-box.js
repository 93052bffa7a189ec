// The TraceQL query box: a textarea that completes scopes, attribute names (from
// /api/v2/search/tags) and values (from /api/v2/search/tag/<field>/values), and marks a
// parse error where the server found it.

import { getCached, segment } from "./api.js";
import { queryField } from "./query-field.js";
import {
  INTRINSICS,
  SCOPES,
  attributeName,
  completionContext,
  errorPosition,
  operatorsFor,
  valueLiteral,
} from "./traceql.js";

const ATTRIBUTE_SCOPES = ["span", "resource", "instrumentation", "event"];
const UNSCOPED = ["span", "resource"]; // what `.key` reads

// Completions of a field name: scopes, intrinsics, then the attribute names seen.
async function fieldItems(partial, range) {
  const body = await getCached("/api/v2/search/tags", { start: range.start, end: range.end });
  const items = [
    ...SCOPES.map((s) => ({ insert: s, detail: "scope", glue: true })),
    ...INTRINSICS.map((i) => ({ insert: i, detail: "intrinsic" })),
  ];
  const names = new Map(); // key → scopes seen in
  for (const scope of (body && body.scopes) || []) {
    if (!ATTRIBUTE_SCOPES.includes(scope.name)) continue;
    for (const key of scope.tags) {
      items.push({ insert: attributeName(scope.name, key), key, detail: `${scope.name} attribute` });
      if (UNSCOPED.includes(scope.name)) names.set(key, [...(names.get(key) || []), scope.name]);
    }
  }
  // `.key` reads span or resource: offered once the user starts an unscoped name.
  if (partial.startsWith(".")) {
    for (const [key, scopes] of names) items.push({ insert: attributeName("", key), key, detail: scopes.join(" / ") });
  }
  const lower = partial.toLowerCase();
  const starts = items.filter((i) => i.insert.toLowerCase().startsWith(lower));
  // "http" also finds span.http.route: a name is easier to remember than its scope.
  const inside = lower && !lower.includes(".")
    ? items.filter((i) => i.key && i.key.toLowerCase().startsWith(lower) && !starts.includes(i))
    : [];
  return [...starts, ...inside];
}

async function valueItems(field, partial, range) {
  const body = await getCached(`/api/v2/search/tag/${segment(field)}/values`, { start: range.start, end: range.end });
  const lower = partial.toLowerCase();
  const bare = lower.replace(/^"/, "");
  return ((body && body.tagValues) || [])
    .map((v) => ({ insert: valueLiteral(v), label: v.value === "" ? '""' : v.value, detail: v.type, final: true }))
    .filter((i) => i.insert.toLowerCase().startsWith(lower) || i.label.toLowerCase().startsWith(bare));
}

/**
 * The box: `value` to start with, `range()` the time range completions are read for,
 * `onRun(text)` when the user runs the query (Enter, or the button).
 * Returns {element, textarea, setValue(text), showError(error), clearError()}.
 */
export function queryBox({ value, range, onRun }) {
  const { element, textarea, setValue, showError, clearError } = queryField({
    label: "TraceQL query",
    placeholder: '{ resource.service.name = "checkout" && status = error }',
    value,
    position: errorPosition,
    onRun,
    complete: (text, caret) => completions(text, caret, range()),
    listLabel: "TraceQL completions",
  });
  return { element, textarea, setValue, showError, clearError };
}

// What to offer at the caret: names, comparisons after a name, values after a comparison.
async function completions(text, caret, range) {
  const found = completionContext(text, caret);
  if (!found) return null;
  let items;
  if (found.kind === "operator") items = operatorsFor(found.field).map((op) => ({ insert: op, detail: "comparison" }));
  else if (found.kind === "value") items = await valueItems(found.field, found.partial, range);
  else items = await fieldItems(found.partial, range);
  return { ...found, items };
}
