// TraceQL as the traces page writes and reads it: the query the search form means,
// literals and attribute names written so the server's lexer reads them back exactly,
// where a parse error points, and what to complete at the caret. Pure functions, no DOM.

// An unquoted attribute name ends at whitespace or one of these (Tempo's lexer rule; Go
// counts U+0085 as a space, JavaScript's \s does not). A '"' starts a quoted part.
const NAME_END = /[\s\u0085{}()=~!<>&|^,"]/;
const NAME_RUNES = String.raw`[^\s\u0085{}()=~!<>&|^,"]`;
// A field as typed: a (scoped) attribute whose parts may be quoted, a scoped intrinsic
// (`span:name`), or a bare word (`status`, `duration`).
const FIELD = String.raw`(?:[A-Za-z]*\.(?:${NAME_RUNES}|"(?:[^"\\]|\\.)*")+|[a-z]+:[A-Za-z]+|[A-Za-z_][A-Za-z0-9_]*)`;
const COMPARISON = String.raw`(?:=~|!~|!=|>=|<=|=|>|<)`;
// `field op` then the value typed so far: an open string or a bare word or number.
const VALUE_AT_CARET = new RegExp(String.raw`(${FIELD})\s*(${COMPARISON})\s*("(?:[^"\\\n]|\\.)*|${NAME_RUNES}*)$`);
const FIELD_THEN_SPACE = new RegExp(String.raw`(${FIELD})\s+$`);
const PARTIAL_NAME = new RegExp(String.raw`${NAME_RUNES}*$`);
const NAME_REST = new RegExp(String.raw`^${NAME_RUNES}*`);
const STRING_REST = /^(?:[^"\\\n]|\\.)*"?/;
// What may come right before a field inside `{ }`.
const BEFORE_FIELD = /(?:\{|&&|\|\||\(|!)$/;

/** The intrinsics the query box offers (those otelite's TraceQL filters on). */
export const INTRINSICS = [
  "name",
  "status",
  "kind",
  "duration",
  "statusMessage",
  "trace:rootService",
  "trace:rootName",
  "trace:duration",
  "event:name",
];
/** The scopes an attribute name starts with; `.` is either span or resource. */
export const SCOPES = ["span.", "resource.", "."];

/** `text` as a TraceQL string literal: quotes, backslashes and control characters escaped. */
export function quoteString(text) {
  let out = '"';
  for (const ch of String(text)) {
    const code = ch.codePointAt(0);
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * An attribute reference: `scope` is "span", "resource", "instrumentation" or "" (either
 * span or resource, written `.key`). Names the lexer would cut short are quoted.
 */
export function attributeName(scope, key) {
  const bare = key !== "" && !NAME_END.test(key) && !(scope === "" && /^[0-9]/.test(key));
  // Quoted names know only two escapes, \" and \\.
  const name = bare ? key : `"${key.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  return `${scope}.${name}`;
}

/** A duration as the form takes it ("250ms", "1.5s", or bare seconds "90") → TraceQL. */
function durationLiteral(text) {
  const cleaned = text.trim();
  return /^\d+(\.\d+)?$/.test(cleaned) ? `${cleaned}s` : cleaned;
}

/**
 * The TraceQL the search form means: one span meeting every condition, so one span set.
 * `filters`: {service, name, status, minDuration, maxDuration, attrs: ["key=value"]}.
 * Attribute values are compared as strings, as the form compares them.
 */
export function formQuery(filters) {
  const terms = [];
  if (filters.service) terms.push(`resource.service.name = ${quoteString(filters.service)}`);
  if (filters.name) terms.push(`name = ${quoteString(filters.name)}`);
  if (filters.status) terms.push(`status = ${filters.status}`);
  if (filters.minDuration) terms.push(`duration >= ${durationLiteral(filters.minDuration)}`);
  if (filters.maxDuration) terms.push(`duration <= ${durationLiteral(filters.maxDuration)}`);
  for (const attr of filters.attrs || []) {
    const eq = attr.indexOf("=");
    if (eq <= 0) continue; // the form refuses these too
    terms.push(`${attributeName("", attr.slice(0, eq))} = ${quoteString(attr.slice(eq + 1))}`);
  }
  return terms.length ? `{ ${terms.join(" && ")} }` : "{}";
}

/** A value from the tag values API as a literal: strings quoted, keywords and numbers bare. */
export function valueLiteral({ type, value }) {
  return type === "string" ? quoteString(value) : String(value);
}

/**
 * A TraceQL error message from the server → {line, column, message} (1-based line and
 * column in characters), or null when it names no position.
 */
export function errorPosition(text) {
  const found = /parse error at line (\d+), col (\d+): ([^\n]*)/.exec(text || "");
  return found ? { line: Number(found[1]), column: Number(found[2]), message: found[3] } : null;
}

// Braces still open before the caret, strings skipped.
function openBraces(text) {
  let depth = 0;
  for (const ch of text.replace(/"(?:[^"\\\n]|\\.)*"?|`[^`]*`?/g, '""')) {
    if (ch === "{") depth++;
    else if (ch === "}") depth--;
  }
  return depth;
}

/**
 * What to complete at `caret` in `text`, or null:
 * {kind: "field" | "operator" | "value", from, to, partial, field?}. `partial` is the
 * token's text before the caret; a completion replaces `text.slice(from, to)`, the whole
 * token (a name, or an open string) the caret is in.
 */
export function completionContext(text, caret) {
  const before = text.slice(0, caret);
  if (openBraces(before) <= 0) return null;
  const rest = text.slice(caret);
  const value = VALUE_AT_CARET.exec(before);
  if (value) {
    const partial = value[3];
    const to = caret + (partial.startsWith('"') ? STRING_REST : NAME_REST).exec(rest)[0].length;
    return { kind: "value", field: value[1], from: caret - partial.length, to, partial };
  }
  const field = FIELD_THEN_SPACE.exec(before);
  if (field && BEFORE_FIELD.test(before.slice(0, field.index).trimEnd())) {
    return { kind: "operator", field: field[1], from: caret, to: caret, partial: "" };
  }
  const partial = PARTIAL_NAME.exec(before)[0];
  const from = caret - partial.length;
  if (/^[0-9]/.test(partial) || !BEFORE_FIELD.test(before.slice(0, from).trimEnd())) return null;
  return { kind: "field", from, to: caret + NAME_REST.exec(rest)[0].length, partial };
}

/** The comparisons worth offering after `field`, likeliest first. */
export function operatorsFor(field) {
  const name = field.replace(/^span:/, "");
  if (name === "duration" || name === "trace:duration") return [">", ">=", "<", "<=", "="];
  if (name === "status" || name === "kind") return ["=", "!="];
  return ["=", "!=", "=~", "!~", ">", "<"];
}
