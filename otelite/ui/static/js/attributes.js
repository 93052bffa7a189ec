// `key=value` attribute filter inputs with completions of the keys and values seen lately.

import { get } from "./api.js";
import { h } from "./dom.js";

let counter = 0;

/**
 * Inputs for the given `key=value` filters plus one empty. Completions come from `known`
 * (Map key → values) when given, else from /api/ui/attributes for `signal`.
 */
export function attributeInputs(values, { signal, service, known: given }) {
  const id = `attr-completions-${++counter}`;
  const list = h("datalist", { id });
  const box = h("span", { class: "attrs" });
  const known = new Map();
  const add = (value = "") => {
    const input = h("input", {
      name: "attr",
      list: id,
      size: 22,
      value,
      placeholder: "key=value",
      "aria-label": "attribute filter",
      oninput: () => suggest(input.value),
    });
    box.append(input);
    return input;
  };
  // Keys until a '=' is typed, then that key's values.
  const suggest = (text) => {
    const eq = text.indexOf("=");
    const options = eq < 0
      ? [...known.keys()].map((k) => `${k}=`)
      : (known.get(text.slice(0, eq)) || []).map((v) => `${text.slice(0, eq)}=${v}`);
    list.replaceChildren(...options.slice(0, 200).map((o) => h("option", { value: o })));
  };
  for (const value of values) add(value);
  add();
  const more = h("button", { type: "button", class: "small", title: "another attribute filter", onclick: () => add().focus() }, "+");
  if (given) {
    for (const [key, seen] of given) known.set(key, seen);
    suggest("");
  } else {
    get("/api/ui/attributes", { signal, service, start: "now-24h", end: "now" })
      .then(({ keys }) => {
        for (const { key, values: seen } of keys) known.set(key, seen);
        suggest("");
      })
      .catch(() => {}); // completions are a convenience; filters work without them
  }
  return h("label", null, "Attributes", box, more, list);
}

/** The non-empty `key=value` filters of a form. */
export function readAttributes(form) {
  return [...form.querySelectorAll("input[name=attr]")].map((i) => i.value.trim()).filter(Boolean);
}
