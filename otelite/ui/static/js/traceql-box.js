// The TraceQL query box: a textarea that completes scopes, attribute names (from
// /api/v2/search/tags) and values (from /api/v2/search/tag/<field>/values), and marks a
// parse error where the server found it.

import { get } from "./api.js";
import { h, replace } from "./dom.js";
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

const MAX_SUGGESTIONS = 50;
const CACHE_MS = 60_000; // completions follow new telemetry, without a request per key
const ATTRIBUTE_SCOPES = ["span", "resource", "instrumentation", "event"];
const UNSCOPED = ["span", "resource"]; // what `.key` reads

const cache = new Map(); // url → {at, promise}

function cached(path, range) {
  const key = `${path}?${range.start}|${range.end}`;
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.promise;
  const promise = get(path, { start: range.start, end: range.end }).catch(() => {
    cache.delete(key); // completions are a convenience: no list now, another try later
    return null;
  });
  cache.set(key, { at: Date.now(), promise });
  return promise;
}

// Completions of a field name: scopes, intrinsics, then the attribute names seen.
async function fieldItems(partial, range) {
  const body = await cached("/api/v2/search/tags", range);
  const items = [
    ...SCOPES.map((s) => ({ insert: s, detail: "scope" })),
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
  const body = await cached(`/api/v2/search/tag/${encodeURIComponent(field)}/values`, range);
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
  const list = h("ul", { class: "tq-suggestions hidden", role: "listbox", "aria-label": "TraceQL completions" });
  const { element, textarea, id, fit, showError, clearError } = queryField({
    label: "TraceQL query",
    placeholder: '{ resource.service.name = "checkout" && status = error }',
    value,
    position: errorPosition,
    attrs: { "aria-autocomplete": "list", "aria-expanded": "false" },
    children: [list],
  });
  const listId = `${id}-suggestions`;
  list.id = listId;
  textarea.setAttribute("aria-controls", listId);

  let items = [];
  let active = 0;
  let context = null;
  let asked = 0; // the latest completion request; older answers are dropped

  const close = () => {
    asked++;
    items = [];
    context = null;
    list.classList.add("hidden");
    textarea.setAttribute("aria-expanded", "false");
    textarea.removeAttribute("aria-activedescendant");
  };

  const draw = () => {
    if (!items.length) {
      close();
      return;
    }
    replace(
      list,
      items.map((item, i) =>
        h(
          "li",
          {
            id: `${listId}-${i}`,
            role: "option",
            class: i === active ? "active" : "",
            "aria-selected": i === active ? "true" : "false",
            // mousedown, not click: the textarea keeps its focus and caret.
            onmousedown: (event) => {
              event.preventDefault();
              accept(i);
            },
          },
          h("span", { class: "tq-label" }, item.label || item.insert),
          h("span", { class: "tq-detail" }, item.detail),
        ),
      ),
    );
    // Under the column being completed (the box is monospaced).
    const lineStart = textarea.value.lastIndexOf("\n", context.from - 1) + 1;
    list.style.left = `${Math.min(context.from - lineStart, 60)}ch`;
    list.classList.remove("hidden");
    textarea.setAttribute("aria-expanded", "true");
    textarea.setAttribute("aria-activedescendant", `${listId}-${active}`);
    const shown = list.children[active];
    if (shown) shown.scrollIntoView({ block: "nearest" });
  };

  const suggest = async () => {
    const mine = ++asked;
    const caret = textarea.selectionStart;
    const found = textarea.selectionEnd === caret ? completionContext(textarea.value, caret) : null;
    if (!found) {
      close();
      return;
    }
    let next;
    if (found.kind === "operator") next = operatorsFor(found.field).map((op) => ({ insert: op, detail: "comparison" }));
    else if (found.kind === "value") next = await valueItems(found.field, found.partial, range());
    else next = await fieldItems(found.partial, range());
    if (mine !== asked) return;
    // A completion that is exactly what is typed has nothing left to offer.
    items = next.filter((i) => i.insert !== found.partial).slice(0, MAX_SUGGESTIONS);
    active = 0;
    context = { ...found, text: textarea.value };
    draw();
  };

  const accept = (index) => {
    const item = items[index];
    // Not while newer typing waits for its completions: the list is for the older text.
    if (!item || !context || context.text !== textarea.value) return;
    const text = textarea.value;
    const after = text.slice(context.to);
    // A space after a name, comparison or value (one already there is stepped over), so
    // that the next completion follows; a scope (`span.`) goes on into its names.
    const scope = item.insert.endsWith(".");
    const inserted = item.insert + (scope || after[0] === " " ? "" : " ");
    textarea.value = text.slice(0, context.from) + inserted + after;
    const at = context.from + inserted.length + (!scope && after[0] === " " ? 1 : 0);
    textarea.setSelectionRange(at, at);
    clearError();
    fit();
    if (item.final) close(); // a value completes a condition
    else suggest();
  };

  textarea.addEventListener("input", () => {
    clearError();
    fit();
    suggest();
  });
  textarea.addEventListener("keydown", (event) => {
    const open = items.length > 0;
    if (open && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
      draw();
    } else if (open && (event.key === "Enter" || event.key === "Tab") && !event.shiftKey) {
      event.preventDefault();
      accept(active);
    } else if (open && event.key === "Escape") {
      event.preventDefault();
      close();
    } else if (event.key === " " && event.ctrlKey) {
      event.preventDefault();
      suggest();
    } else if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault(); // Shift+Enter starts a new line
      close();
      onRun(textarea.value);
    }
  });
  textarea.addEventListener("blur", close);
  textarea.addEventListener("click", close);

  return {
    element,
    textarea,
    setValue(text) {
      textarea.value = text;
      clearError();
      close();
      fit();
    },
    showError,
    clearError,
  };
}
