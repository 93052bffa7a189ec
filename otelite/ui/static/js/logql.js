// LogQL as the logs page writes and reads it: the query its filters mean, the volume query
// over a log query's lines, the levels Loki detects, and what to complete at the caret.
// Pure functions, no DOM.

import { errorPosition, quoteString } from "./traceql.js";

// Loki's lexer reads strings as Go does, and writes parse errors as Tempo does.
export { errorPosition, quoteString };

/** The levels Loki detects (`detected_level`), least severe first; "unknown" is none of them. */
export const LEVELS = ["trace", "debug", "info", "warn", "error", "critical", "fatal"];
export const UNKNOWN_LEVEL = "unknown";

/** Every stream has a service_name: this selector picks them all. */
const ALL_STREAMS = '{service_name=~".+"}';

const NAME = String.raw`[A-Za-z_][A-Za-z0-9_]*`;
const NAME_REST = /^[A-Za-z0-9_]*/;
const STRING_REST = /^(?:[^"\\\n]|\\.)*"?/;
const RAW_REST = /^[^`]*`?/;
const MATCH_OPS = ["=", "!=", "=~", "!~"];
const COMPARE_OPS = [">", ">=", "<", "<="];
// A label name then a comparison, right before the caret (or before an open string).
const LABEL_THEN_OP = new RegExp(String.raw`(${NAME})\s*(=~|!~|!=|==|>=|<=|=|>|<)\s*$`);
// Where a label matcher starts in a selector, and where a stage or label filter starts after it.
const IN_SELECTOR = new RegExp(String.raw`[{,]\s*(${NAME})?$`);
const AFTER_PIPE = new RegExp(String.raw`(\|)(\s*)(${NAME})?$`);
const AFTER_AND_OR = new RegExp(String.raw`\s(?:and|or)\s+(${NAME})?$`, "i");
const BEFORE_LABEL = /(?:[{,|]|\s(?:and|or))\s*$/i;

/** The stages that may follow `|`, with what each does. */
export const STAGES = [
  ["json", "parser: JSON fields as labels"],
  ["logfmt", "parser: key=value pairs as labels"],
  ["pattern", 'parser: "<name> <_> …"'],
  ["regexp", 'parser: "(?P<name>…)"'],
  ["unpack", "parser: a packed line"],
  ["line_format", 'rewrite the line: "{{.label}}"'],
  ["label_format", "rename or set labels"],
  ["drop", "drop labels"],
  ["keep", "keep only these labels"],
  ["decolorize", "strip ANSI colours"],
];

// Characters RE2 reads as syntax.
const REGEX_SPECIAL = /[\\.+*?()|[\]{}^$]/g;

/** `text` as an RE2 pattern that matches it literally. */
function regexEscape(text) {
  return String(text).replace(REGEX_SPECIAL, (c) => `\\${c}`);
}

/**
 * An attribute key as the label Loki names it (`http.route` → `http_route`), as
 * otelite.query.promql.label_name does: each run of characters outside [A-Za-z0-9] is one
 * `_` (a key between `__` and `__` keeps those), a leading digit gets `key_`.
 */
function labelName(key) {
  const reserved = key.length >= 4 && key.startsWith("__") && key.endsWith("__");
  let name = (reserved ? key.slice(2, -2) : key).replace(/[^A-Za-z0-9]+/g, "_");
  if (reserved) name = `__${name}__`;
  return /^[0-9]/.test(name) ? `key_${name}` : name;
}

/**
 * The LogQL the logs page's filters mean. `filters`: {service, level (the least severe
 * shown), text (in the line, any case), attrs: ["key=value"], traceId, spanId}. Attributes
 * are compared as the strings Loki shows them as.
 */
export function formQuery(filters) {
  const selector = filters.service ? `{service_name=${quoteString(filters.service)}}` : ALL_STREAMS;
  const parts = [selector];
  if (filters.text) parts.push(`|~ ${quoteString(`(?i)${regexEscape(filters.text)}`)}`);
  const level = LEVELS.indexOf((filters.level || "").toLowerCase());
  if (level > 0) parts.push(`| detected_level=~${quoteString(LEVELS.slice(level).join("|"))}`);
  for (const attr of filters.attrs || []) {
    const eq = attr.indexOf("=");
    const name = eq > 0 ? labelName(attr.slice(0, eq)) : "";
    if (!name.replace(/_/g, "")) continue; // no label has this name
    parts.push(`| ${name}=${quoteString(attr.slice(eq + 1))}`);
  }
  if (filters.traceId) parts.push(`| trace_id=${quoteString(filters.traceId.toLowerCase())}`);
  if (filters.spanId) parts.push(`| span_id=${quoteString(filters.spanId.toLowerCase())}`);
  return parts.join(" ");
}

/** Whether `text` is a log query (a stream selector first), not a metric query. */
export function isLogQuery(text) {
  return /^\s*(?:#[^\n]*\n\s*)*\{/.test(text);
}

/**
 * The metric query Grafana asks for a log query's volume: its lines counted per
 * `step` (a duration such as "1m") by detected level.
 */
export function volumeQuery(text, step) {
  // On a line of its own: a comment at the end of the query would swallow the rest.
  return `sum by (detected_level) (count_over_time(${text}\n| drop __error__ [${step}]))`;
}

/**
 * The lines of a `streams` result (categorized labels), newest first when `backward`:
 * [{ns: BigInt, line, stream, metadata, parsed}].
 */
export function streamEntries(result, backward = true) {
  const entries = [];
  for (const { stream, values } of result) {
    for (const [ns, line, kinds] of values) {
      entries.push({ ns: BigInt(ns), line, stream, metadata: (kinds && kinds.structuredMetadata) || {}, parsed: (kinds && kinds.parsed) || {} });
    }
  }
  const order = backward ? -1 : 1;
  return entries.sort((a, b) => (a.ns === b.ns ? 0 : a.ns < b.ns ? -order : order));
}

/** An entry's detected level: from its labels, else "unknown". */
export function levelOf(entry) {
  const found = entry.metadata.detected_level || entry.stream.detected_level || entry.parsed.detected_level;
  return found ? String(found).toLowerCase() : UNKNOWN_LEVEL;
}

// `before` with string contents blanked (positions kept), the open braces, and the string
// the text ends in, if it ends in one.
function scan(before) {
  let masked = "";
  let depth = 0;
  let open = null;
  for (let i = 0; i < before.length; i++) {
    const ch = before[i];
    if (open !== null) {
      const quote = before[open];
      if (quote === '"' && ch === "\\" && i + 1 < before.length) {
        masked += "  ";
        i++;
      } else if (ch === quote || (quote === '"' && ch === "\n")) {
        masked += ch;
        open = null;
      } else {
        masked += " ";
      }
    } else if (ch === '"' || ch === "`") {
      masked += ch;
      open = i;
    } else if (ch === "#") {
      const end = before.indexOf("\n", i);
      const stop = end < 0 ? before.length : end;
      masked += " ".repeat(stop - i);
      i = stop - 1;
    } else {
      if (ch === "{") depth++;
      else if (ch === "}") depth--;
      masked += ch;
    }
  }
  return { masked, depth, open };
}

/**
 * What to complete at `caret` in `text`, or null:
 * {kind, from, to, partial, name?, op?} with kind "label" (a name in a stream selector),
 * "stage" (after `|`: a stage or a label filter's name), "filter" (a label filter's name
 * after `and`/`or`), or "value" (after `name=`, in or out of the selector). `partial` is
 * the token's text before the caret; a completion replaces `text.slice(from, to)`.
 */
export function completionContext(text, caret) {
  const before = text.slice(0, caret);
  const rest = text.slice(caret);
  const { masked, depth, open } = scan(before);
  if (open !== null) {
    const op = LABEL_THEN_OP.exec(masked.slice(0, open));
    if (!op || !BEFORE_LABEL.test(masked.slice(0, open - op[0].length))) return null;
    const partial = before.slice(open);
    const to = caret + (before[open] === "`" ? RAW_REST : STRING_REST).exec(rest)[0].length;
    return { kind: "value", name: op[1], op: op[2], from: open, to, partial };
  }
  const op = LABEL_THEN_OP.exec(masked);
  if (op && BEFORE_LABEL.test(masked.slice(0, op.index))) {
    return { kind: "value", name: op[1], op: op[2], from: caret, to: caret, partial: "" };
  }
  const nameAt = (found, kind) => {
    const partial = found || "";
    return { kind, from: caret - partial.length, to: caret + NAME_REST.exec(rest)[0].length, partial };
  };
  if (depth > 0) {
    const found = IN_SELECTOR.exec(masked);
    return found ? nameAt(found[1], "label") : null;
  }
  const pipe = AFTER_PIPE.exec(masked);
  if (pipe) return { ...nameAt(pipe[3], "stage"), bare: !pipe[2] && !pipe[3] };
  const andOr = AFTER_AND_OR.exec(masked);
  return andOr ? nameAt(andOr[1], "filter") : null;
}

/** The comparisons offered after a label's name: a selector's, or a label filter's too. */
export function operatorsFor(kind) {
  return kind === "label" ? MATCH_OPS : [...MATCH_OPS, ...COMPARE_OPS];
}

/** A label value as a literal after `op`: quoted, and escaped for a regular expression. */
export function valueLiteral(value, op) {
  return quoteString(op.endsWith("~") ? regexEscape(value) : value);
}
