// Forwarding: each destination's queue, counts and breaker, from GET /api/forwarding,
// refreshed while shown. Nothing is shown when the pipeline file has no exporters. The
// route wants the operator right: a token without it (403), or none where one is needed
// (401), gets a short note instead, and the tab stays signed in.

import { get, token } from "./api.js";
import { h, replace, table } from "./dom.js";
import { duration, number } from "./format.js";

const REFRESH_MS = 10_000;

/** {element, cleanup}: the panel, empty until the first answer. */
export function forwardingPanel(alive) {
  const element = h("section", { class: "forwarding hidden", "aria-label": "forwarding" });
  let timer = null;
  const load = () =>
    // The token is passed explicitly so that a refusal only rejects: this panel must not
    // sign the tab out of the pages its token does open.
    get("/api/forwarding", {}, { token: token() })
      .then(({ destinations }) => {
        if (!alive()) return;
        element.classList.toggle("hidden", !destinations.length);
        if (destinations.length) replace(element, h("h3", null, "Forwarding"), destinationTable(destinations));
      })
      .catch((error) => {
        if (!alive()) return;
        const refused = error.status === 401 || error.status === 403;
        element.classList.remove("hidden");
        replace(
          element,
          h("h3", null, "Forwarding"),
          h("p", { class: "muted small" }, refused ? "Forwarding status needs a token with the operator right." : `Forwarding status unavailable: ${error.message || error}`),
        );
        if (refused) stop(); // it will not change while the token does not
      });
  const stop = () => {
    if (timer !== null) clearInterval(timer);
    timer = null;
  };
  load();
  timer = setInterval(() => alive() && load(), REFRESH_MS);
  return { element, cleanup: stop };
}

function destinationTable(destinations) {
  const rows = destinations.map((d) =>
    h(
      "tr",
      { dataset: { destination: d.name } },
      h("td", null, d.name, h("div", { class: "muted small" }, `${d.protocol} ${d.endpoint}`), h("div", { class: "muted small" }, d.signals.join(", ")), sampling(d.sampling)),
      h("td", null, h("span", { class: `breaker breaker-${d.breaker}` }, d.breaker.replace("_", "-"))),
      h("td", { class: "num" }, number(d.queuedRequests), h("div", { class: "muted small" }, bytes(d.queuedBytes))),
      h("td", { class: "num" }, d.oldestQueuedSeconds === null ? "–" : duration(d.oldestQueuedSeconds * 1000)),
      h("td", { class: "num" }, number(d.sent)),
      h("td", { class: "num" }, number(d.failed)),
      h("td", { class: "num" }, number(d.retried)),
      h("td", { class: "num" }, number(d.droppedRequests)),
      h("td", { class: "num" }, number(d.deadLettered), h("div", { class: "muted small" }, `${number(d.deadLetterRequests)} kept, ${number(d.deadLettersRemoved)} removed`)),
      h("td", { class: "small" }, d.lastError || ""),
    ),
  );
  return table(["Destination", "Breaker", "Queued", "Oldest", "Sent", "Failed", "Retried", "Dropped", "Dead letters", "Last error"], rows, { class: "grid forwarding-table" });
}

// The destination's own tail sampling, when it has one.
function sampling(s) {
  if (!s) return null;
  return h("div", { class: "muted small sampling" }, `tail sampling: ${number(s.keptTraces)} kept, ${number(s.droppedTraces)} dropped, ${number(s.heldTraces)} held`);
}

function bytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${number(value)} ${units[unit]}`;
}
