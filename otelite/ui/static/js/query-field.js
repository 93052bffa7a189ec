// The text field of a query language (TraceQL, PromQL, LogQL): a monospaced textarea that
// grows with its text, a list of completions at the caret, and a parse error shown under it
// with the offending character marked in place. Each language says what to complete where,
// and how its server writes an error's position.

import { h, replace } from "./dom.js";

const MAX_SUGGESTIONS = 50;

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
 * The field: `label` names the textarea, `attrs` adds to its attributes, `position(message)`
 * reads {line, column} from a server's error message, or null. `onRun(text)` is called on
 * Enter (Shift+Enter starts a new line).
 *
 * `complete(text, caret)`, when given, resolves to what may replace part of the text:
 * {from, to, partial, items} or null; `partial` is what is typed of the token, and each
 * item is {insert, label?, detail, final?, glue?}. An item goes in with a space after it
 * (or steps over one already there) unless it is `glue`; after a `final` one the list
 * closes, after another the next completions follow. `listLabel` names the list.
 *
 * Returns {element, textarea, fit(), setValue(text), showError(error), clearError()}.
 */
export function queryField({ label, placeholder, value, position, onRun, complete, listLabel, attrs = {} }) {
  const id = `query-${++counter}`;
  const errorId = `${id}-error`;
  const listId = `${id}-suggestions`;
  const backdrop = h("div", { class: "tq-backdrop", "aria-hidden": "true" });
  const list = complete ? h("ul", { class: "tq-suggestions hidden", id: listId, role: "listbox", "aria-label": listLabel }) : null;
  const textarea = h("textarea", {
    class: "tq-input",
    rows: 1,
    spellcheck: "false",
    autocomplete: "off",
    autocapitalize: "off",
    "aria-label": label,
    placeholder,
    value,
    ...(complete ? { "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": listId } : {}),
    ...attrs,
  });
  const problem = h("div", { class: "tq-error hidden", id: errorId, role: "alert" });
  const element = h("div", { class: "tq-box" }, h("div", { class: "tq-field" }, backdrop, textarea, list), problem);

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

  const completion = complete ? completionList(textarea, list, complete, { clearError, fit }) : null;

  textarea.addEventListener("input", () => {
    clearError();
    fit();
    if (completion) completion.suggest();
  });
  textarea.addEventListener("keydown", (event) => {
    if (completion && completion.key(event)) return;
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault(); // Shift+Enter starts a new line
      if (completion) completion.close();
      if (onRun) onRun(textarea.value);
    }
  });
  textarea.addEventListener("scroll", () => {
    backdrop.scrollTop = textarea.scrollTop;
  });
  requestAnimationFrame(fit);
  return {
    element,
    textarea,
    fit,
    setValue(text) {
      textarea.value = text;
      clearError();
      if (completion) completion.close();
      fit();
    },
    showError,
    clearError,
  };
}

// The completions under the caret: asked for as the text changes (or on Ctrl+Space),
// picked with the arrows and Enter or Tab, or the mouse.
function completionList(textarea, list, complete, { clearError, fit }) {
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
            id: `${list.id}-${i}`,
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
    textarea.setAttribute("aria-activedescendant", `${list.id}-${active}`);
    const shown = list.children[active];
    if (shown) shown.scrollIntoView({ block: "nearest" });
  };

  const suggest = async () => {
    const mine = ++asked;
    const caret = textarea.selectionStart;
    const text = textarea.value;
    const found = textarea.selectionEnd === caret ? await complete(text, caret) : null;
    if (mine !== asked) return;
    if (!found) {
      close();
      return;
    }
    // A completion that is exactly what is typed has nothing left to offer.
    items = found.items.filter((i) => i.insert !== found.partial).slice(0, MAX_SUGGESTIONS);
    active = 0;
    context = { ...found, text };
    draw();
  };

  const accept = (index) => {
    const item = items[index];
    // Not while newer typing waits for its completions: the list is for the older text.
    if (!item || !context || context.text !== textarea.value) return;
    const text = textarea.value;
    const after = text.slice(context.to);
    // A space after the item (one already there is stepped over), so that the next
    // completion follows; a glued item (a scope, a name before its operator) does not.
    const inserted = item.insert + (item.glue || after[0] === " " ? "" : " ");
    textarea.value = text.slice(0, context.from) + inserted + after;
    const at = context.from + inserted.length + (!item.glue && after[0] === " " ? 1 : 0);
    textarea.setSelectionRange(at, at);
    clearError();
    fit();
    if (item.final) close(); // a value completes a condition
    else suggest();
  };

  // Whether the key was the list's to handle.
  const key = (event) => {
    const open = items.length > 0;
    if (open && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      active = (active + (event.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
      draw();
    } else if (open && (event.key === "Enter" || event.key === "Tab") && !event.shiftKey) {
      accept(active);
    } else if (open && event.key === "Escape") {
      close();
    } else if (event.key === " " && event.ctrlKey) {
      suggest();
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  };

  textarea.addEventListener("blur", close);
  textarea.addEventListener("click", close);
  return { suggest, close, key };
}
