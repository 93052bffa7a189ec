// The page shell: navigation, the time range picker, sign-in, and the view for the URL.

import { h, replace } from "./dom.js";
import { rangePicker } from "./range.js";
import { current, onChange } from "./router.js";
import { initSignIn } from "./sign-in.js";
import { initTenant } from "./tenant.js";
import * as compare from "./pages/compare.js";
import * as criticalPath from "./pages/critical-path.js";
import * as logs from "./pages/logs.js";
import * as map from "./pages/map.js";
import * as metrics from "./pages/metrics.js";
import * as services from "./pages/services.js";
import * as slos from "./pages/slos.js";
import * as trace from "./pages/trace.js";
import * as traces from "./pages/traces.js";

const PAGES = { traces, trace, logs, services, metrics, compare, "critical-path": criticalPath, map, slos };
const NAV = [
  ["traces", "Traces"],
  ["services", "Services"],
  ["map", "Map"],
  ["logs", "Logs"],
  ["metrics", "Metrics"],
  ["slos", "SLOs"],
];

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const range = document.getElementById("range");

let shown = null; // {key, handle, generation}
let generation = 0;

function show(view) {
  const key = view.segments[0] || "traces";
  const page = PAGES[key];
  // A page that can apply new parameters in place (the trace view) keeps its state.
  if (shown && shown.key === key && shown.handle && shown.handle.update && shown.handle.update(view)) return;
  leave();
  const mine = ++generation;
  const alive = () => mine === generation;
  replace(
    nav,
    NAV.map(([path, label]) =>
      h("a", { href: `/${path}`, "data-nav": true, class: key === path || (key === "trace" && path === "traces") ? "active" : "" }, label),
    ),
  );
  replace(range, key === "trace" || !page ? null : rangePicker(view.params));
  document.title = key === "trace" ? `trace ${view.segments[1] || ""} · otelite` : `${key} · otelite`;
  if (!page) {
    replace(main, h("h1", null, "Not found"), h("p", null, h("a", { href: "/traces", "data-nav": true }, "Search traces")));
    shown = null;
    return;
  }
  shown = { key, handle: page.render(main, view, alive) };
}

// After signing in or out: the same view again, from scratch.
function rerender() {
  initTenant(rerender);
  leave();
  shown = null;
  show(current());
}

// Stops the shown page's timers and charts.
function leave() {
  if (shown && shown.handle) (typeof shown.handle === "function" ? shown.handle : shown.handle.cleanup || (() => {}))();
}

initSignIn(rerender);
initTenant(rerender);
onChange(show);
show(current());
