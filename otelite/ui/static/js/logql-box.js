// The LogQL query box: a query field that completes stream label names (from
// /loki/api/v1/labels) and values (from /loki/api/v1/label/<name>/values), the stages after
// `|`, and the labels of the lines shown; it marks a parse error where the server found it.

import { getCached, segment } from "./api.js";
import { STAGES, completionContext, errorPosition, operatorsFor, valueLiteral } from "./logql.js";
import { queryField } from "./query-field.js";

const OPERATORS = {
  "=": "equals",
  "!=": "differs from",
  "=~": "matches the regex",
  "!~": "does not match the regex",
  ">": "greater than",
  ">=": "at least",
  "<": "less than",
  "<=": "at most",
};
const LINE_FILTERS = [
  ["=", "|=", "line contains"],
  ["~", "|~", "line matches the regex"],
  [">", "|>", 'line matches the pattern "<_> …"'],
];

// The label APIs over the page's range, on whole minutes: the answers are kept a minute.
function window(range) {
  return { start: Math.floor(range.startMs / 60e3) * 60, end: Math.ceil(range.endMs / 60e3) * 60 };
}

async function streamLabels(range) {
  const body = await getCached("/loki/api/v1/labels", window(range));
  return (body && body.data) || [];
}

async function streamValues(name, range) {
  const body = await getCached(`/loki/api/v1/label/${segment(name)}/values`, window(range));
  return (body && body.data) || [];
}

function startsWith(text, partial) {
  return text.toLowerCase().startsWith(partial.toLowerCase());
}

// Label names that start with what is typed; a name typed in full goes on to its
// comparisons. `seen` (Map name → {kind, values}) are the labels of the lines shown.
async function nameItems(found, range, seen) {
  const names = new Map((await streamLabels(range)).map((name) => [name, "stream label"]));
  if (found.kind !== "label") for (const [name, { kind }] of seen) if (!names.has(name)) names.set(name, kind);
  const items = [...names].filter(([name]) => startsWith(name, found.partial)).map(([name, detail]) => ({ insert: name, detail, glue: true }));
  if (names.has(found.partial)) {
    const ops = operatorsFor(found.kind).map((op) => ({ insert: found.partial + op, label: op, detail: OPERATORS[op], glue: true }));
    return [...ops, ...items];
  }
  return items;
}

async function valueItems(found, range, seen) {
  if (!(found.op in OPERATORS) || found.op.startsWith(">") || found.op.startsWith("<")) return [];
  const values = new Set(await streamValues(found.name, range));
  for (const value of (seen.get(found.name) || { values: [] }).values) values.add(value);
  const bare = found.partial.replace(/^["`]/, "");
  return [...values]
    .sort()
    .map((value) => ({ insert: valueLiteral(value, found.op), label: value === "" ? '""' : value, detail: found.name, final: true, glue: true }))
    .filter((item) => startsWith(item.insert, found.partial) || startsWith(item.label, bare));
}

async function completions(text, caret, range, seen) {
  const found = completionContext(text, caret);
  if (!found) return null;
  let items;
  if (found.kind === "value") {
    items = await valueItems(found, range, seen);
  } else {
    items = await nameItems(found, range, seen);
    if (found.kind === "stage") {
      const stages = STAGES.filter(([name]) => startsWith(name, found.partial)).map(([name, detail]) => ({ insert: name, detail }));
      const lines = found.bare ? LINE_FILTERS.map(([insert, label, detail]) => ({ insert, label, detail, glue: true })) : [];
      items = [...lines, ...stages, ...items];
    }
  }
  return { ...found, items };
}

/**
 * The box: `value` to start with, `range()` the time range completions are read for,
 * `seen()` the labels of the lines shown (Map name → {kind, values}), `onRun(text)` when
 * the user runs the query (Enter, or the page's button).
 * Returns {element, textarea, setValue(text), showError(error), clearError()}.
 */
export function logqlBox({ value, range, seen, onRun }) {
  const { element, textarea, setValue, showError, clearError } = queryField({
    label: "LogQL query",
    placeholder: '{service_name="checkout"} |= "error" | logfmt | duration > 250ms',
    value,
    position: errorPosition,
    onRun,
    complete: (text, caret) => completions(text, caret, range(), seen()),
    listLabel: "LogQL completions",
  });
  return { element, textarea, setValue, showError, clearError };
}
