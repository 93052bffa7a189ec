// Signing in with a query token: a small form whenever the API answers 401, and a sign-out
// button while this tab holds a token. A token is checked with the API before it is kept.

import { ApiError, get, onUnauthorized, setToken, token } from "./api.js";
import { h, replace } from "./dom.js";

const account = document.getElementById("account");
let open = null; // the sign-in panel while it is shown
let reshow = () => {};

/** Wire sign-in into the page; `rerender()` shows the current view again after a change. */
export function initSignIn(rerender) {
  reshow = rerender;
  onUnauthorized((hadToken) =>
    ask(hadToken ? "The token is no longer accepted. Sign in again." : "This otelite asks for a query token before it shows telemetry."),
  );
  showAccount();
}

function showAccount() {
  replace(account, token() ? h("button", { type: "button", class: "small sign-out", onclick: signOut }, "Sign out") : null);
}

function signOut() {
  setToken(null);
  showAccount();
  ask("Signed out: this tab no longer holds a token.");
  reshow(); // without a token the view shows nothing, and telemetry on screen goes away
}

// Shows the form unless it is already up (many requests may be refused at once).
function ask(message) {
  if (open) return;
  const input = h("input", { type: "password", name: "token", autocomplete: "off", spellcheck: "false", required: true });
  const problem = h("p", { class: "sign-in-problem", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
  const check = async (event) => {
    event.preventDefault();
    const candidate = input.value.trim();
    if (!candidate) return;
    submit.disabled = true;
    problem.textContent = "";
    try {
      await get("/api/ui/info", {}, { token: candidate });
    } catch (error) {
      submit.disabled = false;
      problem.textContent =
        error instanceof ApiError && error.status === 401 ? "That token was not accepted." : `The token could not be checked: ${error.message}`;
      input.select();
      return;
    }
    setToken(candidate);
    open.remove();
    open = null;
    showAccount();
    reshow();
  };
  const form = h(
    "form",
    { class: "sign-in", "aria-labelledby": "sign-in-title", onsubmit: check },
    h("h2", { id: "sign-in-title" }, "Sign in"),
    h("p", null, message),
    h("label", null, "Query token", input),
    problem,
    h("p", { class: "muted small" }, "The token is kept in this tab only, until you sign out or close it."),
    submit,
  );
  open = h("div", { class: "sign-in-backdrop" }, form);
  document.body.append(open);
  input.focus();
}
