// The text field of a query language (TraceQL, PromQL): a monospaced textarea that grows
// with its text, and a parse error shown under it with the offending character marked in
// place. Each language says how its server writes an error's position.

import { h, replace } from "./dom.js";

/** The string index in `text` of a 1-based line and column counted in characters. */
export function offsetAt(text, line, column) {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const newline = text.indexOf("\n", offset);
    if (newline < 0) return text.length;
    offset = newline + 1;
  }
  // Columns count characters (code points), JS indexes UTF-16 units.
  for (let c = 1; c < column && offset < text.length && text[offset] !== "\n"; c++) {
    offset += text.codePointAt(offset) > 0xffff ? 2 : 1;
  }
  return offset;
}

let counter = 0;

/**
 * The field: `label` names the textarea, `attrs` adds to its attributes, `children` go
 * beside it (a completion list), `position(message)` reads {line, column} from a server's
 * error message, or null. Returns {element, textarea, id, fit(), showError(error), clearError()}.
 */
export function queryField({ label, placeholder, value, position, attrs = {}, children = [] }) {
  const id = `query-${++counter}`;
  const errorId = `${id}-error`;
  const backdrop = h("div", { class: "tq-backdrop", "aria-hidden": "true" });
  const textarea = h("textarea", {
    class: "tq-input",
    rows: 1,
    spellcheck: "false",
    autocomplete: "off",
    autocapitalize: "off",
    "aria-label": label,
    placeholder,
    value,
    ...attrs,
  });
  const problem = h("div", { class: "tq-error hidden", id: errorId, role: "alert" });
  const element = h("div", { class: "tq-box" }, h("div", { class: "tq-field" }, backdrop, textarea, children), problem);

  const fit = () => {
    textarea.style.height = "auto";
    textarea.style.height = `${textarea.scrollHeight + 2}px`;
    backdrop.scrollTop = textarea.scrollTop;
  };

  const clearError = () => {
    problem.classList.add("hidden");
    replace(problem);
    replace(backdrop);
    textarea.removeAttribute("aria-invalid");
    textarea.removeAttribute("aria-describedby");
  };

  const showError = (error) => {
    clearError();
    const message = String((error && error.message) || error);
    const [first, ...excerpt] = message.split("\n");
    const at = position(message);
    let goTo = null;
    if (at) {
      const text = textarea.value;
      const offset = offsetAt(text, at.line, at.column);
      const end = offset < text.length && text[offset] !== "\n" ? offset + (text.codePointAt(offset) > 0xffff ? 2 : 1) : offset;
      // The offending character highlighted in place (a space stands for the end of a line).
      replace(backdrop, text.slice(0, offset), h("mark", { class: "tq-mark" }, end > offset ? text.slice(offset, end) : " "), text.slice(end));
      backdrop.scrollTop = textarea.scrollTop;
      goTo = h(
        "button",
        {
          type: "button",
          class: "small",
          onclick: () => {
            textarea.focus();
            textarea.setSelectionRange(offset, end);
          },
        },
        `Go to line ${at.line}, column ${at.column}`,
      );
    }
    replace(problem, h("p", null, first, " ", goTo), excerpt.length ? h("pre", { class: "tq-excerpt" }, excerpt.join("\n")) : null);
    problem.classList.remove("hidden");
    textarea.setAttribute("aria-invalid", "true");
    textarea.setAttribute("aria-describedby", errorId);
  };

  textarea.addEventListener("scroll", () => {
    backdrop.scrollTop = textarea.scrollTop;
  });
  requestAnimationFrame(fit);
  return { element, textarea, id, fit, showError, clearError };
}
