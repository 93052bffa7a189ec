// Numbers, times and OTLP values as people read them.

/** Milliseconds as "840 µs", "12.3 ms", "4.56 s", "2m 05s". */
export function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "–";
  if (ms === 0) return "0";
  if (ms < 1) return `${round(ms * 1000)} µs`;
  if (ms < 1000) return `${round(ms)} ms`;
  if (ms < 60_000) return `${round(ms / 1000)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes}m ${String(seconds).padStart(2, "0")}s`;
}

function round(x) {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

/** A number with at most 3 significant decimals, or "–". */
export function number(x, digits = 3) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString("en");
  return String(Number(x.toPrecision(digits)));
}

export function percent(x) {
  return x === null || x === undefined ? "–" : `${(x * 100).toFixed(x > 0 && x < 0.01 ? 2 : 1)}%`;
}

/** Unix ns (string or number) → ms as a number (precise enough for display). */
export function nsToMs(ns) {
  return Number(BigInt(ns) / 1000n) / 1000;
}

/** A local date and time with milliseconds: "2024-05-01 12:03:04.567". */
export function timestamp(ms) {
  const d = new Date(ms);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
  );
}

/** "12s ago", "5m ago", else the time of day. */
export function ago(ms) {
  const seconds = (Date.now() - ms) / 1000;
  if (seconds < 60) return `${Math.max(0, Math.round(seconds))}s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m ago`;
  return timestamp(ms);
}

const TYPES = {
  stringValue: "string",
  intValue: "int",
  doubleValue: "double",
  boolValue: "bool",
  bytesValue: "bytes",
  arrayValue: "array",
  kvlistValue: "map",
};

/** An OTLP/JSON AnyValue → `{type, text}`; arrays and maps as compact JSON of plain values. */
export function anyValue(value) {
  if (!value || typeof value !== "object") return { type: "empty", text: "" };
  for (const [field, type] of Object.entries(TYPES)) {
    if (field in value) {
      const raw = value[field];
      if (type === "string" || type === "bytes") return { type, text: String(raw) };
      if (type === "int" || type === "double" || type === "bool") return { type, text: String(raw) };
      return { type, text: JSON.stringify(plain(value)) };
    }
  }
  return { type: "empty", text: "" };
}

/** An AnyValue as a plain JS value (ints beyond 2**53 stay strings, losing nothing). */
export function plain(value) {
  if (!value || typeof value !== "object") return null;
  if ("arrayValue" in value) return (value.arrayValue.values || []).map(plain);
  if ("kvlistValue" in value) {
    const out = {};
    for (const kv of value.kvlistValue.values || []) out[kv.key] = plain(kv.value);
    return out;
  }
  if ("intValue" in value) {
    const n = Number(value.intValue);
    return Number.isSafeInteger(n) ? n : value.intValue;
  }
  for (const field of Object.keys(TYPES)) if (field in value) return value[field];
  return null;
}

export const SPAN_KINDS = ["unspecified", "internal", "server", "client", "producer", "consumer"];
export const STATUS = ["unset", "ok", "error"];

const PALETTE = [
  "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2",
  "#edc948", "#ff9da7", "#9c755f", "#af7aa1", "#86bcb6",
];

/** A stable colour for a service (or any name). */
export function colour(name) {
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (hash * 31 + name.charCodeAt(i)) | 0;
  return PALETTE[Math.abs(hash) % PALETTE.length];
}

/** The colour of the `index`th of several lines that have no name to keep a colour by. */
export function seriesColour(index) {
  return PALETTE[index % PALETTE.length];
}
