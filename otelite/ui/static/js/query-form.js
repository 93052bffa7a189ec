// The filters of a search page whose query box says what they mean (traces: TraceQL, logs:
// LogQL). Either the filters or a typed query is in the URL, never both: Search puts the
// filters there, running the box puts its text there as `q`. The limit applies to either.

import { h, replace } from "./dom.js";
import { readAttributes } from "./attributes.js";
import { update } from "./router.js";

/**
 * The filters named `fields` (with "limit", whose default is `defaultLimit`) and the
 * `key=value` attributes: {fromUrl(params), read(form), follow(form, box, toQuery),
 * submit(event), run(text, form, again)}.
 * Filters are {attrs: [...], <field>: text or null}.
 */
export function queryForm({ fields, defaultLimit }) {
  // As typed (null for empty), the default limit as null.
  const read = (form) => {
    const data = new FormData(form);
    const found = { attrs: readAttributes(form) };
    for (const field of fields) found[field] = (data.get(field) || "").trim() || null;
    if (found.limit === defaultLimit) found.limit = null;
    return found;
  };
  return {
    fromUrl(params) {
      const found = { attrs: params.getAll("attr") };
      for (const field of fields) found[field] = params.get(field);
      return found;
    },
    read,
    // The box says what the filters mean as they change (the limit and Live apply to any
    // query, and are no part of it); `toQuery(filters)` writes it.
    follow(form, box, toQuery) {
      const write = (event) => {
        if (!["limit", "live"].includes(event.target.name)) box.setValue(toQuery(read(form)));
      };
      form.addEventListener("input", write);
      form.addEventListener("change", write);
    },
    // The form's search: its filters in the URL, in place of a query.
    submit(event) {
      event.preventDefault();
      const found = read(event.target);
      const changes = { q: null, attr: found.attrs };
      for (const field of fields) changes[field] = found[field];
      update(changes);
    },
    // The query `text` in the URL in place of the filters; `again()` when that changes
    // nothing (the same query run again wants fresh results).
    run(text, form, again) {
      const changes = { q: text.trim() ? text : null, limit: read(form).limit, attr: null };
      for (const field of fields) if (field !== "limit") changes[field] = null;
      const before = location.search;
      update(changes);
      if (location.search === before) again();
    },
  };
}

/**
 * The service filter: a `<select>` named "service" holding `chosen` from the start (so the
 * form means it before the list arrives); `fill(names)` lists the services found.
 */
export function serviceSelect(chosen) {
  const element = h(
    "select",
    { name: "service", "aria-label": "service" },
    h("option", { value: "" }, "all services"),
    chosen ? h("option", { value: chosen, selected: true }, chosen) : null,
  );
  const fill = (names) => {
    const current = element.value; // the user may have chosen meanwhile
    const known = [...names];
    if (current && !known.includes(current)) known.push(current);
    replace(element, h("option", { value: "" }, "all services"), known.sort().map((name) => h("option", { value: name, selected: name === current }, name)));
  };
  return { element, fill };
}

/** The Live checkbox: the page reruns its search every few seconds while it is ticked. */
export function liveToggle(params) {
  return h(
    "label",
    { class: "live" },
    h("input", {
      type: "checkbox",
      name: "live",
      checked: params.get("live") === "1",
      onchange: (event) => update({ live: event.target.checked ? "1" : null }),
    }),
    "Live",
  );
}

/** The row of a query box: the language's name, the box, its Run button and a hint. */
export function queryRow({ language, box, onRun }) {
  return h(
    "div",
    { class: `query-row ${language.toLowerCase()}` },
    h("span", { class: "tq-title" }, language),
    box.element,
    h("button", { type: "button", class: "primary", onclick: () => onRun(box.textarea.value) }, `Run ${language}`),
    h("p", { class: "muted small tq-help" }, "Enter runs the query, Shift+Enter starts a new line, Ctrl+Space completes. The filters above write their query here."),
  );
}
